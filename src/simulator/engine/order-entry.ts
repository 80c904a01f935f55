/**
 * `POST /api/v1/orders` body → a checked request (docs/kucoin.md "Fields and units"; docs/kucoin.md "Orders: clientOid, lookups and what the gateway does"). Stateless checks
 * only; the engine does the ones that need the account. Unparseable fields are 100001 (invalid
 * params, docs/kucoin.md "Envelope, statuses and rate limits"); KuCoin's exact messages for them are not published.
 */
import type { KucoinMarginMode } from '../../kucoin/payloads.js';
import { refuse } from './errors.js';

export interface OrderRequest {
  clientOid: string;
  symbol: string;
  side: 'buy' | 'sell' | undefined;
  type: 'limit' | 'market';
  price: number | undefined;
  size: number | undefined;
  /** Base-currency amount (linear contracts only). */
  qty: number | undefined;
  /** Quote value (linear contracts only). */
  valueQty: number | undefined;
  leverage: number | undefined;
  marginMode: KucoinMarginMode;
  reduceOnly: boolean;
  closeOrder: boolean;
  postOnly: boolean;
  hidden: boolean;
  iceberg: boolean;
  visibleSize: number;
  forceHold: boolean;
  timeInForce: 'GTC' | 'IOC';
  stp: string;
  remark: string | null;
}

const CLIENT_OID = /^[0-9A-Za-z_-]{1,40}$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;

function numberField(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) throw refuse.invalidParam(`${key} must be a positive number`);
  return n;
}

function boolField(body: Record<string, unknown>, key: string): boolean {
  const value = body[key];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw refuse.invalidParam(`${key} must be true or false`);
}

function oneOf<const T extends string>(body: Record<string, unknown>, key: string, values: readonly T[], fallback: T): T {
  const value = body[key];
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) throw refuse.invalidParam(`${key} must be one of ${values.join(', ')}`);
  return value as T;
}

export function parseOrderRequest(raw: unknown): OrderRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw refuse.invalidParam('The request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const clientOid = body.clientOid;
  if (clientOid === undefined || clientOid === null || clientOid === '') throw refuse.invalidParam('clientOid is required');
  if (typeof clientOid !== 'string' || !CLIENT_OID.test(clientOid)) throw refuse.invalidParam('clientOid must be at most 40 characters of [0-9A-Za-z_-]');
  if (typeof body.symbol !== 'string' || body.symbol === '') throw refuse.invalidParam('symbol is required');
  if (body.stop !== undefined && body.stop !== '') throw refuse.paramIllegal('Stop orders are not simulated');

  const closeOrder = boolField(body, 'closeOrder');
  // Side (and size, leverage) may be left out when closeOrder is true (docs/kucoin.md "REST endpoints the gateway calls").
  const side = body.side === undefined || body.side === null || body.side === '' ? undefined : oneOf(body, 'side', ['buy', 'sell'] as const, 'buy');
  if (!closeOrder && side === undefined) throw refuse.invalidParam('side is required');
  const type = oneOf(body, 'type', ['limit', 'market'] as const, 'limit');
  const price = numberField(body, 'price');
  if (type === 'limit' && price === undefined) throw refuse.invalidParam('price is required for a limit order');
  const size = numberField(body, 'size');
  if (size !== undefined && !Number.isSafeInteger(size)) throw refuse.invalidParam('size must be a whole number of lots');
  const qty = numberField(body, 'qty');
  const valueQty = numberField(body, 'valueQty');
  const given = [size, qty, valueQty].filter((v) => v !== undefined).length;
  if (!closeOrder && given !== 1) throw refuse.invalidParam('Exactly one of size, qty and valueQty is required');
  const timeInForce = oneOf(body, 'timeInForce', ['GTC', 'IOC'] as const, 'GTC');
  const postOnly = boolField(body, 'postOnly');
  if (postOnly && timeInForce === 'IOC') throw refuse.invalidParam('postOnly cannot be used with IOC');
  const remark = body.remark;
  if (remark !== undefined && remark !== null && (typeof remark !== 'string' || [...remark].length > 100)) throw refuse.invalidParam('remark must be at most 100 characters');

  return {
    clientOid,
    symbol: body.symbol,
    side,
    type,
    price,
    size,
    qty,
    valueQty,
    leverage: numberField(body, 'leverage'),
    // An order without marginMode is ISOLATED (docs/kucoin.md "Fields and units"; ccxt#25592).
    marginMode: oneOf(body, 'marginMode', ['ISOLATED', 'CROSS'] as const, 'ISOLATED'),
    reduceOnly: boolField(body, 'reduceOnly'),
    closeOrder,
    postOnly,
    hidden: boolField(body, 'hidden'),
    iceberg: boolField(body, 'iceberg'),
    visibleSize: numberField(body, 'visibleSize') ?? 0,
    forceHold: boolField(body, 'forceHold'),
    timeInForce,
    stp: oneOf(body, 'stp', ['', 'CN', 'CO', 'CB'] as const, ''),
    remark: typeof remark === 'string' ? remark : null,
  };
}
