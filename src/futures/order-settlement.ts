/**
 * Placing an order exactly once, and knowing which order a clientOid names.
 *
 * KuCoin's spec says only that a clientOid is "unique" (api-3470235) and lists `300018` (clientOid
 * repeated) without saying for how long. Its tracker reports (spot) that the check covers active
 * orders only (Kucoin/kucoin-api-docs #468) and that the lookup by clientOid (api-3470352) sees
 * active orders only (#287). So a repeated clientOid is not known to be refused, and an order not
 * found by clientOid may well exist (done, or not yet visible: the query side can trail the
 * matching engine). Hence:
 * - an order KuCoin holds under the clientOid is this request's only when it is the same order
 *   (symbol, side, type, size, price, reduce-only, close); else the answer is a conflict naming it;
 * - a lost answer is reconciled through both the lookup by clientOid and the symbol's done orders
 *   (api-3470244), in rounds with short pauses inside the request's deadline;
 * - nothing found is ORDER_UNCONFIRMED, remembered under the key: the next request with the key
 *   reconciles first, and places an order only when the reconciliation is conclusive.
 */
import type { components } from '../../generated/openapi.js';
import { GatewayError } from '../errors.js';
import type { KucoinOrder, KucoinOrderPage } from '../kucoin/payloads.js';
import type { RequestScope } from '../request-scope.js';
import type { FuturesDeps } from './deps.js';
import { toOrder } from './mappers.js';

type Order = components['schemas']['Order'];

/** What the gateway answers about a placement, and keeps for replays. */
export interface Placed {
  orderId: string;
  clientOid: string;
  /** The order as KuCoin holds it, when it was found rather than confirmed by the POST's own answer. */
  existing?: Order;
  /** The order was placed by an earlier request with this clientOid (KuCoin refused this one with 300018, or an earlier try's answer was lost). */
  earlier?: boolean;
}

/** An order POST whose fate is unknown: what the next request with its key needs to settle it. */
export interface Unconfirmed {
  symbol: string;
  /** When the POST was sent (epoch ms): the done orders are searched from shortly before. */
  sentAt: number;
  /**
   * From when finding nothing is conclusive (epoch ms): the POST's deadline plus one more try's
   * time (`UPSTREAM_TIMEOUT_MS`). A POST KuCoin received is taken to show in its queries by then;
   * KuCoin publishes no bound for that lag, so this is the gateway's assumption.
   */
  conclusiveAt: number;
}

/** ORDER_UNCONFIRMED, carrying what settling it needs (kept by the idempotency store). */
export class OrderUnconfirmed extends GatewayError {
  constructor(
    detail: string,
    readonly pending: Unconfirmed,
    options: ConstructorParameters<typeof GatewayError>[2],
  ) {
    super('ORDER_UNCONFIRMED', detail, options);
  }
}

/** One placement: what is sent, and what an order found under its clientOid must be to be this one. */
export interface OrderIntent {
  clientOid: string;
  /** KuCoin's symbol. */
  symbol: string;
  body: Record<string, unknown>;
  /** "placing order x": for error details. */
  context: string;
  /** What differs between the order KuCoin holds and this request (empty: the same order). */
  differences(order: Order, symbol: string): string[];
}

/** Failures after which a write (an order POST, a cancel) may have been applied: reconcile. */
const UNCERTAIN = new Set(['UPSTREAM_TIMEOUT', 'UPSTREAM_ERROR', 'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_UNAVAILABLE']);

/** A write's failure that leaves its outcome unknown: it may have reached KuCoin and been applied. */
export const outcomeUnknown = (error: unknown): error is GatewayError =>
  error instanceof GatewayError && UNCERTAIN.has(error.code) && error.options.notSent !== true;
/** Pauses before each reconciliation round: the lookups are repeated while KuCoin's query side may still lag. */
const ROUND_DELAYS_MS = [0, 100, 200, 400, 800];
/** A round is started only with at least this much of the deadline left for its two reads. */
const ROUND_MIN_MS = 150;
/** Done orders are searched from this long before the POST was sent (KuCoin's clock may differ from ours). */
const CLOCK_SLACK_MS = 5 * 60_000;
/** A 300018's order may be as old as the clientOid memory (the idempotency TTL). */
const DUPLICATE_SEARCH_MS = 24 * 3_600_000;
/** Pages of done orders read per round (1000 each, the maximum): enough for any burst inside the window. */
const MAX_DONE_PAGES = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Places the order, or settles an earlier unconfirmed try first. With `pending`, the earlier try's
 * order is looked for: found is that order (if it is the same order); not found before
 * `conclusiveAt`, or with a lookup failing, is ORDER_UNCONFIRMED again (nothing sent); not found
 * after is conclusive, and the order is placed.
 */
export async function placeOrSettle(deps: FuturesDeps, scope: RequestScope | null, intent: OrderIntent, pending: Unconfirmed | undefined): Promise<Placed> {
  if (pending) {
    const { order, answered, lastRoundAt } = await reconcile(deps, scope, intent.clientOid, pending.symbol, pending.sentAt - CLOCK_SLACK_MS, pending.conclusiveAt);
    if (order) return claim(deps, scope, intent, order, true);
    if (!answered || lastRoundAt < pending.conclusiveAt) {
      const reason = answered ? `it may not show in KuCoin's queries yet (until ${new Date(pending.conclusiveAt).toISOString()})` : "KuCoin's order queries failed";
      throw new OrderUnconfirmed(
        `An earlier request with clientOid ${intent.clientOid} was not confirmed, and no order with it was found; ${reason}. Nothing was sent. Reconcile with that clientOid; a later request with the same key is reconciled first again.`,
        pending,
        { clientOid: intent.clientOid },
      );
    }
    deps.logger.warn({ event: 'order_unconfirmed_settled', clientOid: intent.clientOid }, 'no order found for an unconfirmed clientOid after its settling time; placing it');
  }
  return placeOnce(deps, scope, intent);
}

/**
 * One POST, never retried (an order POST is not idempotent at KuCoin). The POST leaves part of the
 * request's deadline unspent so that a reconciliation still fits. A POST that was never sent (gate
 * closed, deadline spent, breaker open) is answered as such: nothing to reconcile.
 */
async function placeOnce(deps: FuturesDeps, scope: RequestScope | null, intent: OrderIntent): Promise<Placed> {
  const sentAt = Date.now();
  try {
    const placed = await deps.client.call<{ orderId?: unknown }>('placeOrder', { body: intent.body, context: intent.context, leaveMs: deps.client.reconcileReserveMs, scope });
    if (!placed || typeof placed.orderId !== 'string' || placed.orderId === '') {
      throw new GatewayError('UPSTREAM_BAD_RESPONSE', `KuCoin accepted ${intent.context} without an order id.`);
    }
    return { orderId: placed.orderId, clientOid: intent.clientOid };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    if (error.code === 'DUPLICATE_CLIENT_OID') {
      // Placed by an earlier request: answer it only if it is this order.
      const { order } = await reconcile(deps, scope, intent.clientOid, intent.symbol, sentAt - DUPLICATE_SEARCH_MS);
      if (!order) throw error;
      return claim(deps, scope, intent, order, true);
    }
    if (!outcomeUnknown(error)) throw error;
    const { order } = await reconcile(deps, scope, intent.clientOid, intent.symbol, sentAt - CLOCK_SLACK_MS);
    if (order) {
      deps.logger.warn({ event: 'order_reconciled', clientOid: intent.clientOid, after: error.code }, 'order found by clientOid after an uncertain placement');
      return claim(deps, scope, intent, order, false);
    }
    const deadline = scope?.deadline ?? sentAt + deps.client.tryTimeoutMs;
    const pending: Unconfirmed = { symbol: intent.symbol, sentAt, conclusiveAt: deadline + deps.client.tryTimeoutMs };
    throw new OrderUnconfirmed(
      `KuCoin's answer to ${intent.context} was lost (${error.code}) and no order with clientOid ${intent.clientOid} was found, active or done; it may still exist. Reconcile with that clientOid. A retry is not known to be safe: a later request with the same key is reconciled first (on any replica sharing the gateway's Redis, else on this one) and places an order only if none is found after ${new Date(pending.conclusiveAt).toISOString()}.`,
      pending,
      { clientOid: intent.clientOid, ...(error.options.upstream ? { upstream: error.options.upstream } : {}) },
    );
  }
}

/** The order KuCoin holds under the clientOid is this request's answer only if it is the same order; else a conflict naming it. */
async function claim(deps: FuturesDeps, scope: RequestScope | null, intent: OrderIntent, found: KucoinOrder, earlier: boolean): Promise<Placed> {
  const existing = toOrder(found, await deps.catalog.forHeld(found.symbol, scope));
  const differences = intent.differences(existing, found.symbol);
  if (differences.length > 0) {
    deps.logger.warn({ event: 'order_identity_conflict', clientOid: intent.clientOid, orderId: existing.orderId, differences }, 'the order KuCoin holds under this clientOid is another order');
    throw new GatewayError(
      'IDEMPOTENCY_CONFLICT',
      `KuCoin already holds order ${existing.orderId} under clientOid ${intent.clientOid}, and it is not this request's order (${differences.join('; ')}). Nothing new was placed.`,
      { clientOid: intent.clientOid, existingOrder: existing },
    );
  }
  return { orderId: existing.orderId, clientOid: existing.clientOid ?? intent.clientOid, existing, earlier };
}

interface Reconciliation {
  order?: KucoinOrder;
  /** Every lookup of the last round answered (so "nothing" is KuCoin's word, not a failed call). */
  answered: boolean;
  /** When the last round started (epoch ms). */
  lastRoundAt: number;
}

/**
 * Looks for the order with `clientOid`: by clientOid (may see active orders only) and in the
 * symbol's done orders since `since`, both at once, in rounds with growing pauses while the
 * request's deadline allows. Failed lookups count as "not found" for this round only. A round that
 * all answered at or after `conclusiveAt` is KuCoin's last word: no more rounds (they only wait out
 * the query side's lag).
 */
export async function reconcile(deps: FuturesDeps, scope: RequestScope | null, clientOid: string, symbol: string, since: number, conclusiveAt = Number.POSITIVE_INFINITY): Promise<Reconciliation> {
  const deadline = scope?.deadline;
  let answered = false;
  let lastRoundAt = Date.now();
  for (const [round, delay] of ROUND_DELAYS_MS.entries()) {
    if (round > 0) {
      if (deadline !== undefined && deadline - Date.now() < delay + ROUND_MIN_MS) break;
      await sleep(delay);
    }
    lastRoundAt = Date.now();
    const [byOid, done] = await Promise.all([lookUpByClientOid(deps, scope, clientOid), searchDone(deps, scope, clientOid, symbol, since)]);
    const order = byOid.order ?? done.order;
    if (order) return { order, answered: true, lastRoundAt };
    answered = byOid.answered && done.answered;
    if (answered && lastRoundAt >= conclusiveAt) break;
  }
  return { answered, lastRoundAt };
}

interface Lookup {
  order?: KucoinOrder;
  answered: boolean;
}

const isOrder = (value: unknown): value is KucoinOrder =>
  value !== null && typeof value === 'object' && typeof (value as KucoinOrder).id === 'string' && (value as KucoinOrder).id !== '';

const lookupFailed = (deps: FuturesDeps, clientOid: string, what: string, error: unknown): Lookup => {
  deps.logger.warn({ event: 'order_lookup_failed', clientOid, lookup: what, code: error instanceof GatewayError ? error.code : 'unknown' }, 'order lookup failed');
  return { answered: false };
};

/** `GET /api/v1/orders/byClientOid` (api-3470352): KuCoin answers `data: null` for no such order. */
async function lookUpByClientOid(deps: FuturesDeps, scope: RequestScope | null, clientOid: string): Promise<Lookup> {
  try {
    const order = await deps.client.call<unknown>('getOrderByClientOid', { query: { clientOid }, context: `looking up order ${clientOid}`, scope });
    if (isOrder(order) && order.clientOid === clientOid) return { order, answered: true };
    return { answered: order === null || order === undefined || (typeof order === 'object' && Object.keys(order).length === 0) };
  } catch (error) {
    return lookupFailed(deps, clientOid, 'byClientOid', error);
  }
}

/** `GET /api/v1/orders?status=done&symbol=…&startAt=…` (api-3470244), newest first, up to {@link MAX_DONE_PAGES} pages of 1000. */
async function searchDone(deps: FuturesDeps, scope: RequestScope | null, clientOid: string, symbol: string, since: number): Promise<Lookup> {
  try {
    for (let currentPage = 1; currentPage <= MAX_DONE_PAGES; currentPage++) {
      const page = await deps.client.call<KucoinOrderPage>('listDoneOrders', {
        query: { status: 'done', symbol, startAt: Math.max(0, Math.floor(since)), currentPage, pageSize: 1000 },
        context: `searching the done orders for ${clientOid}`,
        scope,
      });
      const items: unknown[] = Array.isArray(page?.items) ? page.items : [];
      const order = items.find((item): item is KucoinOrder => isOrder(item) && item.clientOid === clientOid);
      if (order) return { order, answered: true };
      if (!Array.isArray(page?.items)) return { answered: false };
      if (currentPage >= (Number(page.totalPage) || 1)) return { answered: true };
    }
    // More done orders in the window than were read: not found is not KuCoin's word.
    return { answered: false };
  } catch (error) {
    return lookupFailed(deps, clientOid, 'done orders', error);
  }
}
