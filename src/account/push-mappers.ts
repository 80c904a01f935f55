/**
 * KuCoin private and public pushes (docs/kucoin.md "The private WebSocket") applied to what the feed holds:
 * a raw position, a mapped `Order`, a mapped `FundingRate`. Pure. A push whose fields are not what
 * KuCoin documents becomes an `UpstreamShapeError` naming the field; the feed logs it and drops the push.
 */
import type { KucoinPosition } from '../kucoin/payloads.js';
import { nsToMs } from '../futures/units.js';
import { type FundingRate, type Order } from '../futures/mappers.js';
import { UpstreamShapeError } from '../futures/payload-fields.js';

export type OrderEvent = 'open' | 'match' | 'update' | 'filled' | 'canceled';
export type FundingEvent = 'rate' | 'begin' | 'end' | 'settlement';

const ORDER_EVENTS: readonly OrderEvent[] = ['open', 'match', 'update', 'filled', 'canceled'];
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** The symbol a topic names after its colon: `/contract/position:XBTUSDTM` → XBTUSDTM. */
export function topicSymbol(topic: string): string | undefined {
  const colon = topic.indexOf(':');
  const symbol = colon < 0 ? '' : topic.slice(colon + 1);
  return /^[A-Z0-9]{2,30}$/.test(symbol) ? symbol : undefined;
}

// --- positions ---------------------------------------------------------------------------------

export interface PositionChange {
  symbol: string;
  /** The cached raw position with the push merged in, `changeReason` left out. */
  raw: KucoinPosition;
  /** KuCoin's `changeReason`; `markPrice` for the partial mark-driven pushes, which carry none. */
  reason: string;
}

/**
 * `position.change` onto the cached raw position. A push with `changeReason` is the full REST position
 * object and is merged over the cache (it may leave out fields REST sends, such as `id`); a push
 * without one is KuCoin's partial mark-price refresh, which only makes sense on top of a known
 * position: undefined when there is none.
 */
export function mergePositionChange(topic: string, data: unknown, cached: KucoinPosition | undefined): PositionChange | undefined {
  const fields = objectOf(data, 'position.change');
  const symbol = typeof fields.symbol === 'string' ? fields.symbol : (cached?.symbol ?? topicSymbol(topic));
  if (symbol === undefined) throw new UpstreamShapeError('position.change.symbol', 'KuCoin position.change: no symbol in the push or its topic');
  const { changeReason, ...rest } = fields;
  if (changeReason === undefined || changeReason === null) {
    if (cached === undefined) return undefined;
    return { symbol, raw: { ...cached, ...rest, symbol } as KucoinPosition, reason: 'markPrice' };
  }
  if (typeof changeReason !== 'string' || changeReason === '') {
    throw new UpstreamShapeError('position.change.changeReason', 'KuCoin position.change: changeReason is not a string');
  }
  return { symbol, raw: { ...(cached ?? {}), ...rest, symbol } as KucoinPosition, reason: changeReason };
}

export interface Settlement {
  fundingTime: number;
  fundingRate: number;
  markPrice: number | undefined;
  /** ms, from the push's ns `ts`. */
  at: number | undefined;
}

/** `position.settlement` {fundingTime, qty, markPrice, fundingRate, fundingFee, ts (ns), settleCurrency}. */
export function parseSettlement(data: unknown): Settlement {
  const fields = objectOf(data, 'position.settlement');
  return {
    fundingTime: integerOf(fields.fundingTime, 'position.settlement.fundingTime'),
    fundingRate: numberOf(fields.fundingRate, 'position.settlement.fundingRate'),
    markPrice: fields.markPrice === undefined ? undefined : numberOf(fields.markPrice, 'position.settlement.markPrice'),
    at: fields.ts === undefined ? undefined : nsOf(fields.ts, 'position.settlement.ts'),
  };
}

/** The settlement's mark and time onto the cached raw position; the rest comes with KuCoin's next position.change. */
export function settlePosition(cached: KucoinPosition, settlement: Settlement): KucoinPosition {
  return {
    ...cached,
    ...(settlement.markPrice === undefined ? {} : { markPrice: settlement.markPrice }),
    ...(settlement.at === undefined ? {} : { currentTimestamp: settlement.at }),
  };
}

// --- orders ------------------------------------------------------------------------------------

export interface OrderChange {
  orderId: string;
  symbol: string;
  event: OrderEvent;
  status: 'open' | 'match' | 'done';
  size: number;
  filledSize: number;
  remainSize: number | undefined;
  matchPrice: number | undefined;
  matchSize: number | undefined;
  /** ms, from the push's ns `ts`. */
  at: number;
}

/** `orderChange` data (docs/kucoin.md "The private WebSocket"): sizes and prices are decimal strings, `ts` is ns. */
export function parseOrderChange(data: unknown): OrderChange {
  const fields = objectOf(data, 'orderChange');
  const event = fields.type;
  if (typeof event !== 'string' || !(ORDER_EVENTS as readonly string[]).includes(event)) {
    throw new UpstreamShapeError('orderChange.type', `KuCoin orderChange: type ${JSON.stringify(event)} is not one of ${ORDER_EVENTS.join(', ')}`);
  }
  const status = fields.status;
  if (status !== 'open' && status !== 'match' && status !== 'done') {
    throw new UpstreamShapeError('orderChange.status', `KuCoin orderChange: status ${JSON.stringify(status)} is not open, match or done`);
  }
  const optional = (key: string, read: (value: unknown, field: string) => number) =>
    fields[key] === undefined || fields[key] === null || fields[key] === '' ? undefined : read(fields[key], `orderChange.${key}`);
  return {
    orderId: stringOf(fields.orderId, 'orderChange.orderId'),
    symbol: stringOf(fields.symbol, 'orderChange.symbol'),
    event: event as OrderEvent,
    status,
    size: integerOf(fields.size, 'orderChange.size'),
    filledSize: integerOf(fields.filledSize, 'orderChange.filledSize'),
    remainSize: optional('remainSize', integerOf),
    matchPrice: optional('matchPrice', numberOf),
    matchSize: optional('matchSize', integerOf),
    at: nsOf(fields.ts, 'orderChange.ts'),
  };
}

/**
 * The push onto the order as last known. Done (`status: done`, or a `filled`/`canceled` event)
 * is `filled` when everything was filled and `canceled` otherwise, as `toOrder` says for REST.
 * The average fill price is carried forward over each `match` (size-weighted), since the push
 * has no `avgDealPrice`.
 */
export function applyOrderChange(order: Order, change: OrderChange): Order {
  const { size, filledSize } = change;
  if (size < 0 || filledSize < 0 || filledSize > size) {
    throw new UpstreamShapeError('orderChange.filledSize', `KuCoin orderChange: a filled size of ${filledSize} does not fit an order of ${size}`);
  }
  const done = change.status === 'done' || change.event === 'filled' || change.event === 'canceled';
  const status: Order['status'] = !done ? 'open' : filledSize === size ? 'filled' : 'canceled';
  return {
    ...order,
    status,
    qty: size,
    filledQty: filledSize,
    remainingQty: status === 'open' ? (change.remainSize ?? size - filledSize) : 0,
    avgFillPrice: averageFill(order, change),
    updatedAt: Math.max(order.updatedAt, change.at),
  };
}

function averageFill(order: Order, change: OrderChange): number | null {
  if (change.event !== 'match' || change.matchPrice === undefined || change.matchSize === undefined || change.matchSize <= 0) {
    return order.avgFillPrice;
  }
  const before = Math.max(0, change.filledSize - change.matchSize);
  if (before === 0 || order.avgFillPrice === null) return change.matchPrice;
  return (order.avgFillPrice * before + change.matchPrice * change.matchSize) / change.filledSize;
}

// --- funding -----------------------------------------------------------------------------------

/** A change of one symbol's funding, checked when the push arrives and applied (or replayed) later. */
export type FundingChange = (funding: FundingRate) => FundingRate;

/**
 * `funding.rate` {fundingRate, granularity, timestamp}: KuCoin pushes the predicted rate with a
 * granularity of 60000 and the rate in force with the funding interval (28800000 for 8 h, docs/kucoin.md "The private WebSocket").
 * A granularity equal to the symbol's own interval (or 8 h) is the rate in force; any other the
 * prediction, so contracts on a 4 h cycle are read right too.
 */
export function fundingRateChange(data: unknown): FundingChange {
  const fields = objectOf(data, 'funding.rate');
  const rate = numberOf(fields.fundingRate, 'funding.rate.fundingRate');
  const granularity = integerOf(fields.granularity, 'funding.rate.granularity');
  return (funding) => (granularity === funding.intervalMs || granularity === 28_800_000 ? { ...funding, rate } : { ...funding, predictedRate: rate });
}

export interface Announcement {
  symbol: string;
  change: FundingChange;
}

/**
 * `funding.begin` / `funding.end` {symbol, fundingTime, fundingRate, timestamp}: the rate being
 * settled. Once a settlement has ended, `fundingTime` is the previous funding time and the next is
 * one interval later (inference: the cycle is fixed, docs/kucoin.md "REST endpoints the gateway calls").
 */
export function announcement(subject: 'funding.begin' | 'funding.end', data: unknown): Announcement {
  const fields = objectOf(data, subject);
  const symbol = fields.symbol;
  if (typeof symbol !== 'string' || !/^[A-Z0-9]{2,30}$/.test(symbol)) throw new UpstreamShapeError(`${subject}.symbol`, `KuCoin ${subject}: symbol is not a contract id`);
  const rate = numberOf(fields.fundingRate, `${subject}.fundingRate`);
  const fundingTime = integerOf(fields.fundingTime, `${subject}.fundingTime`);
  return {
    symbol,
    change: subject === 'funding.begin' ? (funding) => ({ ...funding, rate }) : (funding) => advanceCycle({ ...funding, rate }, fundingTime),
  };
}

/** A settlement of the account's position: funding was settled at `fundingRate` at `fundingTime`. */
export function settlementChange(settlement: Settlement): FundingChange {
  return (funding) => advanceCycle({ ...funding, rate: settlement.fundingRate }, settlement.fundingTime);
}

function advanceCycle(funding: FundingRate, fundingTime: number): FundingRate {
  if (funding.previousFundingTime !== null && funding.previousFundingTime > fundingTime) return funding;
  const next = funding.nextFundingTime !== null && funding.nextFundingTime > fundingTime ? funding.nextFundingTime : fundingTime + funding.intervalMs;
  return { ...funding, previousFundingTime: fundingTime, nextFundingTime: next };
}

// --- checked reads -----------------------------------------------------------------------------

function objectOf(data: unknown, what: string): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UpstreamShapeError(what, `KuCoin ${what}: expected an object`);
  }
  return data as Record<string, unknown>;
}

function numberOf(value: unknown, field: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new UpstreamShapeError(field, `KuCoin ${field}: expected a finite number, got ${JSON.stringify(value)}`);
  return n;
}

function integerOf(value: unknown, field: string): number {
  const n = numberOf(value, field);
  if (!Number.isSafeInteger(n)) throw new UpstreamShapeError(field, `KuCoin ${field}: expected an integer, got ${JSON.stringify(value)}`);
  return n;
}

function stringOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new UpstreamShapeError(field, `KuCoin ${field}: expected a non-empty string`);
  return value;
}

function nsOf(value: unknown, field: string): number {
  try {
    if (typeof value !== 'number' && typeof value !== 'string') throw new RangeError('not a time');
    return nsToMs(value);
  } catch {
    throw new UpstreamShapeError(field, `KuCoin ${field}: expected epoch nanoseconds, got ${JSON.stringify(value)}`);
  }
}
