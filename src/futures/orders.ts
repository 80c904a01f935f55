import { randomUUID } from 'node:crypto';
import type { components } from '../../generated/openapi.js';
import { GatewayError } from '../http/errors.js';
import { UpstreamRefused } from '../kucoin/client.js';
import type { KucoinCancelResult, KucoinContract, KucoinOrder, KucoinOrderPage } from '../kucoin/payloads.js';
import { toUserAsset } from '../kucoin/symbols.js';
import type { FuturesDeps } from './deps.js';
import { knownMarginModeOf } from './margin-mode.js';
import type { IdempotencyStore } from './idempotency.js';
import type { LeverageMemory } from './leverage.js';
import type { OrderDraft } from './order-drafts.js';
import { orderListOrder, toCancelResult, toOrder, toOrderPage, UpstreamShapeError } from './mappers.js';
import { contractsFor } from './units.js';

type OrderRequest = components['schemas']['OrderRequest'];
type OrderAccepted = components['schemas']['OrderAccepted'];
type Order = components['schemas']['Order'];
type OrderPage = components['schemas']['OrderPage'];
type ClosePositionResult = components['schemas']['ClosePositionResult'];

export interface OrdersDeps extends FuturesDeps {
  idempotency: IdempotencyStore<Placed>;
  leverage: LeverageMemory;
}

/** What KuCoin said when it accepted an order, kept for replays. */
export interface Placed {
  orderId: string;
  clientOid: string;
}

/** Outcomes after which the order may or may not exist at KuCoin: look it up before answering. */
const UNCERTAIN = new Set(['UPSTREAM_TIMEOUT', 'UPSTREAM_ERROR', 'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_UNAVAILABLE']);

/**
 * A final outcome is worth replaying: a success or KuCoin's business "no" (any 4xx). A call the
 * kill switch held back is not one: once futures are on again the same key places the order.
 */
const isFinal = (error: unknown): boolean =>
  error instanceof GatewayError && error.status < 500 && error.code !== 'UPSTREAM_RATE_LIMITED' && !(error instanceof UpstreamRefused);

const fieldError = (field: string, message: string) =>
  new GatewayError('VALIDATION_FAILED', `body.${field} ${message}`, { errors: [{ location: 'body', field, message }] });

export async function createOrder(deps: OrdersDeps, body: OrderRequest, idempotencyKey: string | undefined): Promise<OrderAccepted> {
  // An unknown symbol in a body is bad input naming the field (design.md §7), not a missing resource.
  const contract = await deps.catalog.resolve(body.symbol).catch((error: unknown) => {
    if (error instanceof GatewayError && error.code === 'UNKNOWN_SYMBOL') throw fieldError('symbol', `is not a known futures symbol (${body.symbol})`);
    throw error;
  });
  const size = sizeFor(body, contract);
  if (!size.ok) throw fieldError(size.field, size.message);
  if (body.price !== undefined && !isMultipleOf(body.price, contract.tickSize)) {
    throw fieldError('price', `must be a multiple of the tick size ${contract.tickSize}`);
  }
  if (body.leverage !== undefined && body.leverage > contract.maxLeverage) {
    throw new GatewayError('LEVERAGE_TOO_HIGH', `${contract.symbol} allows at most ${contract.maxLeverage}x.`, {
      errors: [{ location: 'body', field: 'leverage', message: `must be at most ${contract.maxLeverage}` }],
    });
  }

  const clientOid = body.clientOid ?? idempotencyKey ?? randomUUID().replaceAll('-', '');
  const marginMode = body.marginMode ? body.marginMode.toUpperCase() : await currentMarginMode(deps, contract.symbol);
  const leverage = body.leverage ?? (marginMode === 'ISOLATED' ? deps.leverage.get(contract.symbol) : undefined) ?? 1;
  const upstreamBody = {
    clientOid,
    side: body.side.toLowerCase(),
    symbol: contract.symbol,
    type: body.type.toLowerCase(),
    ...(body.type === 'LIMIT' ? { price: String(body.price) } : {}),
    size: size.contracts,
    leverage,
    marginMode,
    ...(body.timeInForce ? { timeInForce: body.timeInForce } : {}),
    ...(body.postOnly ? { postOnly: true } : {}),
    ...(body.reduceOnly ? { reduceOnly: true } : {}),
  };

  deps.orderDrafts?.note(orderDraft(upstreamBody, body, toUserAsset(contract.baseCurrency)));
  const place = () => placeOnce(deps, upstreamBody, `placing order ${clientOid}`).catch(forgetStaleMarginMode(deps, contract.symbol));
  const keyed = body.clientOid ?? idempotencyKey;
  const { value, replayed } = keyed === undefined ? { value: await place(), replayed: false } : await deps.idempotency.run(keyed, { body, clientOid }, place, isFinal);
  return {
    orderId: value.orderId,
    clientOid: value.clientOid,
    symbol: contract.symbol,
    baseAsset: toUserAsset(contract.baseCurrency),
    side: body.side,
    type: body.type,
    qty: size.contracts,
    price: body.type === 'LIMIT' ? (body.price ?? null) : null,
    replayed,
  };
}

export async function closePosition(deps: OrdersDeps, symbolInput: string, idempotencyKey: string | undefined): Promise<ClosePositionResult> {
  const contract = await deps.catalog.resolve(symbolInput);
  const clientOid = idempotencyKey ?? randomUUID().replaceAll('-', '');
  // CCXT's closePosition sends these fields (kucoin-futures.md §3.10) and KuCoin picks side and
  // size; marginMode is added because an omitted one means ISOLATED, and a cross position would
  // then be refused with 330005 (§3.5, §6 pitfall 5).
  const marginMode = await currentMarginMode(deps, contract.symbol);
  const upstreamBody = { clientOid, symbol: contract.symbol, closeOrder: true, type: 'market', marginMode };
  const place = () => placeOnce(deps, upstreamBody, `closing the ${contract.symbol} position`).catch(forgetStaleMarginMode(deps, contract.symbol));
  const { value, replayed } =
    idempotencyKey === undefined ? { value: await place(), replayed: false } : await deps.idempotency.run(idempotencyKey, { close: contract.symbol }, place, isFinal);
  return { symbol: contract.symbol, baseAsset: toUserAsset(contract.baseCurrency), orderId: value.orderId, clientOid: value.clientOid, replayed };
}

/**
 * One POST, never retried (kucoin-futures.md §6 pitfall 4). When the outcome is unknown, the order
 * is looked up by clientOid: found means it was placed; not found is ORDER_UNCONFIRMED with the
 * clientOid, so the caller can reconcile (or retry with the same key, which KuCoin deduplicates).
 * The POST leaves part of the request's deadline unspent so that lookup still fits. A POST that
 * was never sent (gate closed, deadline spent, breaker open) is answered as such: nothing to
 * reconcile.
 */
async function placeOnce(deps: FuturesDeps, upstreamBody: { clientOid: string }, context: string): Promise<Placed> {
  try {
    const placed = await deps.client.call<Placed>('placeOrder', { body: upstreamBody, context, leaveMs: deps.client.reconcileReserveMs });
    if (!placed || typeof placed.orderId !== 'string' || placed.orderId === '') {
      throw new GatewayError('UPSTREAM_BAD_RESPONSE', `KuCoin accepted ${context} without an order id.`);
    }
    return { orderId: placed.orderId, clientOid: upstreamBody.clientOid };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const duplicate = error.code === 'DUPLICATE_CLIENT_OID';
    const uncertain = UNCERTAIN.has(error.code) && !error.options.notSent;
    if (!duplicate && !uncertain) throw error;
    const found = await findByClientOid(deps, upstreamBody.clientOid);
    if (found) {
      deps.logger.warn({ event: 'order_reconciled', clientOid: upstreamBody.clientOid, after: error.code }, 'order found by clientOid after an uncertain placement');
      return { orderId: found.id, clientOid: upstreamBody.clientOid };
    }
    if (duplicate) throw error;
    throw new GatewayError(
      'ORDER_UNCONFIRMED',
      `KuCoin's answer to ${context} was lost (${error.code}) and no order with clientOid ${upstreamBody.clientOid} was found; reconcile with that clientOid, or retry with it as the Idempotency-Key.`,
      { clientOid: upstreamBody.clientOid, ...(error.options.upstream ? { upstream: error.options.upstream } : {}) },
    );
  }
}

/** `GET /api/v1/orders/byClientOid`: kucoin-futures.md does not say what "no such order" looks like; an empty `data` and an error both count as not found. */
async function findByClientOid(deps: FuturesDeps, clientOid: string): Promise<KucoinOrder | undefined> {
  try {
    const order = await deps.client.call<KucoinOrder | null>('getOrderByClientOid', { query: { clientOid }, context: `looking up order ${clientOid}` });
    return order && typeof order === 'object' && typeof order.id === 'string' && order.id !== '' ? order : undefined;
  } catch (error) {
    deps.logger.warn({ event: 'order_lookup_failed', clientOid, code: error instanceof GatewayError ? error.code : 'unknown' }, 'order lookup by clientOid failed');
    return undefined;
  }
}

export async function listOrders(
  deps: FuturesDeps,
  query: { symbol?: string; side?: 'BUY' | 'SELL'; page?: number; pageSize?: number },
): Promise<OrderPage> {
  const contract = query.symbol === undefined ? undefined : await deps.catalog.resolve(query.symbol);
  const page = await deps.client.call<KucoinOrderPage>('listOrders', {
    query: {
      status: 'active',
      symbol: contract?.symbol,
      side: query.side?.toLowerCase(),
      currentPage: query.page ?? 1,
      pageSize: query.pageSize ?? 50,
    },
    context: 'listing open orders',
  });
  // Resolve every listed order's contract first (some may have left the active list), then map the page in one go.
  const contracts = await deps.catalog.forHeldAll((Array.isArray(page?.items) ? page.items : []).map((item) => item.symbol));
  const mapped = toOrderPage(page, (symbol) => contracts.get(symbol));
  // Within the page only: a page is KuCoin's cut of its own newest-first list.
  return { ...mapped, items: mapped.items.sort(orderListOrder) };
}

export async function getOrder(deps: FuturesDeps, orderId: string): Promise<Order> {
  const order = await deps.client.call<KucoinOrder | null>('getOrder', { params: { orderId }, context: `reading order ${orderId}` });
  if (!order || typeof order !== 'object') throw new GatewayError('ORDER_NOT_FOUND', `There is no order ${orderId}.`);
  return toOrder(order, await deps.catalog.forHeld(order.symbol));
}

export async function cancelOrder(deps: FuturesDeps, orderId: string): Promise<{ cancelledOrderIds: string[] }> {
  const result = await deps.client.call<KucoinCancelResult>('cancelOrder', { params: { orderId }, context: `cancelling order ${orderId}` });
  return toCancelResult(result);
}

/**
 * kucoin-futures.md §6 pitfall 5: an order whose marginMode differs from the symbol's fails (330005);
 * send the symbol's own, as known (margin-mode.ts). The result forgets it on that refusal, so the
 * next order reads it again.
 */
async function currentMarginMode(deps: FuturesDeps, symbol: string): Promise<string> {
  return (await knownMarginModeOf(deps, symbol)) === 'CROSS' ? 'CROSS' : 'ISOLATED';
}

/** Passes `error` on; a MARGIN_MODE_MISMATCH (330005) means the known margin mode of `symbol` was stale. */
function forgetStaleMarginMode(deps: FuturesDeps, symbol: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof GatewayError && error.code === 'MARGIN_MODE_MISMATCH') deps.marginModes?.forget(symbol);
    throw error;
  };
}

/** What the feed needs to make the order's `Order` from its first push (order-drafts.ts). */
function orderDraft(upstream: { clientOid: string; symbol: string; leverage: number; marginMode: string }, body: OrderRequest, baseAsset: string): OrderDraft {
  return {
    clientOid: upstream.clientOid,
    symbol: upstream.symbol,
    baseAsset,
    side: body.side,
    type: body.type,
    price: body.type === 'LIMIT' ? (body.price ?? null) : null,
    leverage: upstream.leverage,
    marginMode: upstream.marginMode === 'CROSS' ? 'cross' : 'isolated',
    // KuCoin's default when none is sent (order spec: timeInForce "default is GTC").
    timeInForce: body.timeInForce ?? 'GTC',
    postOnly: body.postOnly ?? false,
    reduceOnly: body.reduceOnly ?? false,
    closeOrder: false,
  };
}

/** A contract whose sizing KuCoin sent malformed (lot size 0...) is KuCoin's shape problem, not a bug of ours. */
function sizeFor(body: OrderRequest, contract: KucoinContract) {
  try {
    return contractsFor(body.qty, body.qtyUnit ?? 'contracts', contract, body.price ?? contract.markPrice);
  } catch (error) {
    if (error instanceof RangeError) throw new UpstreamShapeError(`contract.${contract.symbol}`, error.message);
    throw error;
  }
}

/** Price grids are decimal: compare in units of the tick, allowing for binary rounding. */
function isMultipleOf(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-9 * Math.max(1, Math.abs(ratio));
}
