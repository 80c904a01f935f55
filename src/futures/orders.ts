import { randomUUID } from 'node:crypto';
import type { components } from '../../generated/openapi.js';
import { GatewayError } from '../errors.js';
import { UpstreamRefused } from '../kucoin/upstream-policy.js';
import { isUnknownOrder } from '../kucoin/error-map.js';
import type { KucoinCancelResult, KucoinContract, KucoinOrder, KucoinOrderPage } from '../kucoin/payloads.js';
import { toUserAsset } from '../symbols.js';
import type { RequestScope } from '../request-scope.js';
import type { FuturesDeps } from './deps.js';
import { knownMarginModeOf } from './margin-mode.js';
import { idempotencyConflict, type IdempotencyRecords, type OutcomePolicy } from './idempotency.js';
import type { LeverageMemory } from './leverage.js';
import type { OrderDraft } from './order-drafts.js';
import { orderListOrder, toCancelResult, toOrder, toOrderPage } from './mappers.js';
import { UpstreamShapeError } from './payload-fields.js';
import { OrderUnconfirmed, outcomeUnknown, placeOrSettle, type OrderIntent, type Placed, type Unconfirmed } from './order-settlement.js';
import { contractsFor, plainDecimal } from './units.js';

type OrderRequest = components['schemas']['OrderRequest'];
type OrderAccepted = components['schemas']['OrderAccepted'];
type Order = components['schemas']['Order'];
type OrderPage = components['schemas']['OrderPage'];
type CancelResult = components['schemas']['CancelResult'];
type ClosePositionResult = components['schemas']['ClosePositionResult'];

export interface OrdersDeps extends FuturesDeps {
  idempotency: IdempotencyRecords<Placed, Unconfirmed>;
  leverage: LeverageMemory;
}

export type { Placed } from './order-settlement.js';

/**
 * What the idempotency store keeps: a success, or KuCoin's business "no" (any 4xx), replayed as
 * it is. Not a call the kill switch held back (once futures are on again the same key places the
 * order), nor a 300018 whose order could not be found (KuCoin's memory of a clientOid is not
 * known to last: the next request with the key asks again). An unconfirmed placement is kept as
 * pending, for the next request with the key to settle first.
 */
/** Failures before anything was sent for the order (reading its margin mode): never a key's outcome. */
const notPlaced = new WeakSet<object>();

const outcomePolicy: OutcomePolicy<Unconfirmed> = {
  isFinal: (error) =>
    error instanceof GatewayError &&
    !notPlaced.has(error) &&
    error.status < 500 &&
    error.code !== 'UPSTREAM_RATE_LIMITED' &&
    error.code !== 'DUPLICATE_CLIENT_OID' &&
    !(error instanceof UpstreamRefused),
  pendingOf: (error) => (error instanceof OrderUnconfirmed ? error.pending : undefined),
};

/**
 * The policy for one placement on `symbol`, with what the shared store needs beyond it: what to
 * settle for a key another replica may have used unseen (Redis unreachable: any time in the
 * record's 24 h), or a claim whose replica died (its POST sent at the latest by the lease's end, so
 * not finding it is conclusive one try later), and the answer to a request that waited for another
 * replica's claim until its deadline.
 */
function outcomePolicyFor(deps: FuturesDeps, scope: RequestScope | null, symbol: string): OutcomePolicy<Unconfirmed, Placed> {
  return {
    ...outcomePolicy,
    // The key's order, as KuCoin holds it, so the client sees what the key already placed.
    conflict: async (key, earlier) => {
      if (earlier === undefined) return idempotencyConflict(key);
      try {
        const existingOrder = earlier.existing ?? (await getOrder(deps, scope, earlier.orderId));
        return new GatewayError(
          'IDEMPOTENCY_CONFLICT',
          `Idempotency key ${JSON.stringify(key)} was already used for a different request: order ${existingOrder.orderId}. Nothing new was placed.`,
          { clientOid: key, existingOrder },
        );
      } catch {
        return idempotencyConflict(key);
      }
    },
    unseen: (now, ttlMs) => ({ symbol, sentAt: now - ttlMs, conclusiveAt: now }),
    abandoned: (now, leaseUntil, settling) => ({
      symbol,
      sentAt: Math.min(settling?.sentAt ?? now, now),
      conclusiveAt: Math.max(settling?.conclusiveAt ?? 0, leaseUntil + deps.client.tryTimeoutMs),
    }),
    stillRunning: (key) =>
      new GatewayError(
        'ORDER_UNCONFIRMED',
        `Another request with clientOid ${key} is being placed (on this or another gateway replica) and its outcome was not known by this request's deadline. Nothing was sent by this request. Reconcile with that clientOid; the same request later replays the outcome.`,
        { clientOid: key },
      ),
  };
}

const fieldError = (field: string, message: string) =>
  new GatewayError('VALIDATION_FAILED', `body.${field} ${message}`, { errors: [{ location: 'body', field, message }] });

/**
 * Fields KuCoin takes only in a form the contract's types cannot say, checked before anything is
 * sent: `timeInForce` and `postOnly` are limit-order parameters (Add Order,
 * https://www.kucoin.com/docs-new/api-3470235: "Optional for type is 'limit' order"; ccxt drops
 * `timeInForce` on market orders because KuCoin errors on market + GTC), and `leverage` is an
 * integer there (the contract says so too; this keeps a caller of the function honest).
 */
function checkOrderFields(body: OrderRequest): void {
  if (body.type === 'MARKET') {
    for (const field of ['timeInForce', 'postOnly'] as const) {
      if (body[field] !== undefined) throw fieldError(field, 'applies to LIMIT orders only; leave it out of a MARKET order');
    }
  }
  if (body.leverage !== undefined && !Number.isInteger(body.leverage)) throw fieldError('leverage', 'must be a whole number');
}

/** Prepares the order (its failures are never a key's outcome: nothing was sent), then places or settles it. */
async function preparedPlacement(deps: OrdersDeps, scope: RequestScope | null, prepare: () => Promise<OrderIntent>, symbol: string, pending: Unconfirmed | undefined): Promise<Placed> {
  const intent = await prepare().catch((error: unknown) => {
    if (error !== null && typeof error === 'object') notPlaced.add(error);
    throw error;
  });
  return placeOrSettle(deps, scope, intent, pending).catch(forgetStaleMarginMode(deps, symbol));
}

export async function createOrder(deps: OrdersDeps, scope: RequestScope | null, body: OrderRequest, idempotencyKey: string | undefined): Promise<OrderAccepted> {
  checkOrderFields(body);
  // An unknown symbol in a body is bad input naming the field, not a missing resource: the caller can fix the body.
  const contract = await deps.catalog.resolve(body.symbol, scope).catch((error: unknown) => {
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
  // Worked out inside the keyed run, not before it: a replay (on any replica) must not read the
  // margin mode from KuCoin again, and a failure of that read is never kept as the key's outcome.
  const prepare = async (): Promise<OrderIntent> => {
    const marginMode = body.marginMode ? body.marginMode.toUpperCase() : await currentMarginMode(deps, scope, contract.symbol);
    const leverage = body.leverage ?? (marginMode === 'ISOLATED' ? deps.leverage.get(contract.symbol) : undefined) ?? 1;
    const upstreamBody = {
      clientOid,
      side: body.side.toLowerCase(),
      symbol: contract.symbol,
      type: body.type.toLowerCase(),
      ...(body.type === 'LIMIT' ? { price: plainDecimal(body.price!) } : {}),
      size: size.contracts,
      leverage,
      marginMode,
      // LIMIT only (checkOrderFields refuses them on MARKET).
      ...(body.type === 'LIMIT' && body.timeInForce ? { timeInForce: body.timeInForce } : {}),
      ...(body.type === 'LIMIT' && body.postOnly ? { postOnly: true } : {}),
      ...(body.reduceOnly ? { reduceOnly: true } : {}),
    };

    const expected = { side: body.side, type: body.type, qty: size.contracts, price: body.type === 'LIMIT' ? (body.price ?? null) : null, reduceOnly: body.reduceOnly === true };
    const intent: OrderIntent = {
      clientOid,
      symbol: contract.symbol,
      body: upstreamBody,
      context: `placing order ${clientOid}`,
      differences: (order, symbol) => [
        ...(symbol === contract.symbol ? [] : [`symbol ${symbol}, not ${contract.symbol}`]),
        ...(order.side === expected.side ? [] : [`side ${order.side}, not ${expected.side}`]),
        ...(order.type === expected.type ? [] : [`type ${order.type}, not ${expected.type}`]),
        ...(order.qty === expected.qty ? [] : [`${order.qty} contracts, not ${expected.qty}`]),
        ...(samePrice(order.price, expected.price, contract.tickSize) ? [] : [`price ${order.price}, not ${expected.price}`]),
        ...(order.reduceOnly === expected.reduceOnly ? [] : [`reduceOnly ${order.reduceOnly}`]),
        ...(order.closeOrder ? ['a position close'] : []),
      ],
    };
    deps.orderDrafts?.note(orderDraft(upstreamBody, body, toUserAsset(contract.baseCurrency)));
    return intent;
  };
  const place = (pending?: Unconfirmed) => preparedPlacement(deps, scope, prepare, contract.symbol, pending);
  const keyed = body.clientOid ?? idempotencyKey;
  const { value, replayed } = keyed === undefined ? { value: await place(), replayed: false } : await deps.idempotency.run(keyed, { body, clientOid }, place, outcomePolicyFor(deps, scope, contract.symbol), scope);
  // An order found at KuCoin is answered as KuCoin holds it; one KuCoin just confirmed is what was sent.
  const order = value.existing;
  return {
    orderId: value.orderId,
    clientOid: value.clientOid,
    symbol: contract.symbol,
    baseAsset: order?.baseAsset ?? toUserAsset(contract.baseCurrency),
    side: order?.side ?? body.side,
    // An order found at KuCoin is answered only when it is the same order, so of the same type.
    type: body.type,
    qty: order?.qty ?? size.contracts,
    price: order ? order.price : body.type === 'LIMIT' ? (body.price ?? null) : null,
    replayed: replayed || value.earlier === true,
  };
}

export async function closePosition(deps: OrdersDeps, scope: RequestScope | null, symbolInput: string, idempotencyKey: string | undefined): Promise<ClosePositionResult> {
  const contract = await deps.catalog.resolve(symbolInput, scope);
  const clientOid = idempotencyKey ?? randomUUID().replaceAll('-', '');
  // CCXT's closePosition sends these fields (docs/kucoin.md "Orders: clientOid, lookups and what the gateway does") and KuCoin picks side and
  // size; marginMode is added because an omitted one means ISOLATED, and a cross position would
  // then be refused with 330005 (docs/kucoin.md "REST endpoints the gateway calls", docs/kucoin.md "Fields and units").
  // Read inside the keyed run, as for an order (createOrder): a replay reads nothing from KuCoin.
  const prepare = async (): Promise<OrderIntent> => {
    const marginMode = await currentMarginMode(deps, scope, contract.symbol);
    return {
      clientOid,
      symbol: contract.symbol,
      body: { clientOid, symbol: contract.symbol, closeOrder: true, type: 'market', marginMode },
      context: `closing the ${contract.symbol} position`,
      differences: (order, symbol) => [
        ...(symbol === contract.symbol ? [] : [`symbol ${symbol}, not ${contract.symbol}`]),
        ...(order.closeOrder ? [] : ['not a position close']),
      ],
    };
  };
  const place = (pending?: Unconfirmed) => preparedPlacement(deps, scope, prepare, contract.symbol, pending);
  const { value, replayed } =
    idempotencyKey === undefined ? { value: await place(), replayed: false } : await deps.idempotency.run(idempotencyKey, { close: contract.symbol }, place, outcomePolicyFor(deps, scope, contract.symbol), scope);
  return { symbol: contract.symbol, baseAsset: toUserAsset(contract.baseCurrency), orderId: value.orderId, clientOid: value.clientOid, replayed: replayed || value.earlier === true };
}

export async function listOrders(
  deps: FuturesDeps,
  scope: RequestScope | null,
  query: { symbol?: string; side?: 'BUY' | 'SELL'; page?: number; pageSize?: number },
): Promise<OrderPage> {
  const contract = query.symbol === undefined ? undefined : await deps.catalog.resolve(query.symbol, scope);
  const page = await deps.client.call<KucoinOrderPage>('listOrders', {
    query: {
      status: 'active',
      symbol: contract?.symbol,
      side: query.side?.toLowerCase(),
      currentPage: query.page ?? 1,
      pageSize: query.pageSize ?? 50,
    },
    context: 'listing open orders',
    scope,
  });
  // Resolve every listed order's contract first (some may have left the active list), then map the page in one go.
  const contracts = await deps.catalog.forHeldAll((Array.isArray(page?.items) ? page.items : []).map((item) => item.symbol), scope);
  const mapped = toOrderPage(page, (symbol) => contracts.get(symbol));
  // Within the page only: a page is KuCoin's cut of its own newest-first list.
  return { ...mapped, items: mapped.items.sort(orderListOrder) };
}

const orderNotFound = (orderId: string, upstream?: { code: string; message: string }) =>
  new GatewayError('ORDER_NOT_FOUND', `There is no order ${orderId}.`, upstream ? { upstream } : {});

export async function getOrder(deps: FuturesDeps, scope: RequestScope | null, orderId: string): Promise<Order> {
  const order = await deps.client.call<KucoinOrder | null>('getOrder', { params: { orderId }, context: `reading order ${orderId}`, scope }).catch((error: unknown) => {
    if (isUnknownOrder(error)) throw orderNotFound(orderId, error.options.upstream);
    throw error;
  });
  if (!order || typeof order !== 'object') throw orderNotFound(orderId);
  return toOrder(order, await deps.catalog.forHeld(order.symbol, scope));
}

/**
 * One DELETE, never retried. When its answer is lost (timeout, 5xx, network; not a call that was
 * never sent) KuCoin may have applied it, so the order is read back before answering, as a
 * placement is looked up by clientOid: cancelled is the success it was; filled is what KuCoin
 * would have said (not cancelable); still open, or unreadable, is CANCEL_UNCONFIRMED. The DELETE
 * leaves part of the request's deadline for that read.
 */
export async function cancelOrder(deps: FuturesDeps, scope: RequestScope | null, orderId: string): Promise<CancelResult> {
  const context = `cancelling order ${orderId}`;
  try {
    const result = await deps.client.call<KucoinCancelResult>('cancelOrder', { params: { orderId }, context, leaveMs: deps.client.reconcileReserveMs, scope });
    return toCancelResult(result);
  } catch (error) {
    if (isUnknownOrder(error)) throw orderNotFound(orderId, error.options.upstream);
    if (!outcomeUnknown(error)) throw error;
    return reconcileCancel(deps, scope, orderId, error);
  }
}

async function reconcileCancel(deps: FuturesDeps, scope: RequestScope | null, orderId: string, lost: GatewayError): Promise<CancelResult> {
  const upstream = lost.options.upstream ? { upstream: lost.options.upstream } : {};
  let order: Order;
  try {
    order = await getOrder(deps, scope, orderId);
  } catch (error) {
    const code = error instanceof GatewayError ? error.code : 'unknown';
    deps.logger.warn({ event: 'cancel_lookup_failed', orderId, after: lost.code, code }, 'order read after an uncertain cancel failed');
    if (code === 'ORDER_NOT_FOUND') throw error;
    throw new GatewayError(
      'CANCEL_UNCONFIRMED',
      `KuCoin's answer to cancelling order ${orderId} was lost (${lost.code}) and the order could not be read back (${code}): the cancel may have been applied. Read the order before acting on it.`,
      upstream,
    );
  }
  deps.logger.warn({ event: 'cancel_reconciled', orderId, after: lost.code, status: order.status }, 'order read back after an uncertain cancel');
  if (order.status === 'canceled') return { cancelledOrderIds: [orderId], reconciled: true };
  if (order.status === 'filled') {
    throw new GatewayError('ORDER_NOT_CANCELABLE', `Order ${orderId} was filled; KuCoin's answer to the cancel was lost (${lost.code}) and the order, read back, is done.`, upstream);
  }
  throw new GatewayError(
    'CANCEL_UNCONFIRMED',
    `KuCoin's answer to cancelling order ${orderId} was lost (${lost.code}); the order, read back, is still open. The cancel may yet be applied: read the order, or cancel it again.`,
    upstream,
  );
}

/**
 * docs/kucoin.md "Fields and units": an order whose marginMode differs from the symbol's fails (330005);
 * send the symbol's own, as known (margin-mode.ts). The result forgets it on that refusal, so the
 * next order reads it again.
 */
async function currentMarginMode(deps: FuturesDeps, scope: RequestScope | null, symbol: string): Promise<string> {
  return (await knownMarginModeOf(deps, scope, symbol)) === 'CROSS' ? 'CROSS' : 'ISOLATED';
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

/** An existing order's price against the request's, on the tick grid (null: a market order). */
function samePrice(held: number | null, asked: number | null, tickSize: number): boolean {
  if (held === null || asked === null) return held === asked;
  return Math.abs(held - asked) < tickSize / 2;
}

/** Price grids are decimal: compare in units of the tick, allowing for binary rounding. */
function isMultipleOf(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-9 * Math.max(1, Math.abs(ratio));
}
