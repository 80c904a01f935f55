import type { components } from '../generated/openapi.js';

export type ErrorCode = components['schemas']['ErrorCode'];
export type FieldError = components['schemas']['FieldError'];
export type Problem = components['schemas']['Problem'];
type Order = components['schemas']['Order'];

/**
 * The one error catalogue: every code the gateway can answer with, its HTTP status and title.
 * It mirrors `x-error-catalogue` in openapi.yaml (a test keeps the two equal), and the `Record`
 * type makes the compiler refuse a code the contract does not know or a code left out.
 */
export const errorCatalogue: Readonly<Record<ErrorCode, { status: number; title: string }>> = {
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  LEVERAGE_TOO_HIGH: { status: 400, title: "Leverage above the symbol's maximum" },
  UPSTREAM_INVALID_REQUEST: { status: 400, title: "KuCoin rejected the request's parameters" },
  UNAUTHORIZED: { status: 401, title: 'Missing or invalid API key' },
  CREDENTIALS_MISSING: { status: 401, title: 'KuCoin credentials are not configured' },
  CREDENTIALS_REJECTED: { status: 401, title: 'KuCoin rejected the credentials' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  UPSTREAM_FORBIDDEN: { status: 403, title: 'KuCoin refused access for this key or account' },
  ORIGIN_NOT_ALLOWED: { status: 403, title: "The request's web origin is not allowed" },
  NOT_FOUND: { status: 404, title: 'Not Found' },
  UNKNOWN_SYMBOL: { status: 404, title: 'Unknown symbol' },
  POSITION_NOT_FOUND: { status: 404, title: 'No open position' },
  ORDER_NOT_FOUND: { status: 404, title: 'Order not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method Not Allowed' },
  MARGIN_MODE_MISMATCH: { status: 409, title: "The order's margin mode does not match the symbol's" },
  POSITION_MODE_MISMATCH: { status: 409, title: "The order's position mode does not match the account's" },
  MARGIN_MODE_CHANGE_BLOCKED: { status: 409, title: 'Margin mode cannot change while orders or positions are open' },
  RISK_LIMIT_CHANGE_CANCELS_ORDERS: { status: 409, title: "A risk-limit level change would cancel the symbol's open orders" },
  ORDER_NOT_CANCELABLE: { status: 409, title: 'The order can no longer be cancelled' },
  DUPLICATE_CLIENT_OID: { status: 409, title: 'An order with this clientOid already exists' },
  IDEMPOTENCY_CONFLICT: { status: 409, title: 'Idempotency key reused with a different request' },
  POSITION_BUSY: { status: 409, title: 'The position is being liquidated or settled' },
  UNSAFE_EXPOSURE: { status: 409, title: 'Futures cannot be enabled beyond loopback without gateway API keys' },
  FUTURES_OFF_BY_ENVIRONMENT: { status: 409, title: 'FEATURE_FUTURES=false holds futures off' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload Too Large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported Media Type' },
  MISDIRECTED_REQUEST: { status: 421, title: 'Misdirected Request' },
  INSUFFICIENT_BALANCE: { status: 422, title: 'Insufficient balance' },
  PRICE_OUT_OF_BAND: { status: 422, title: 'Price outside the allowed band' },
  ORDER_LIMIT_EXCEEDED: { status: 422, title: 'Too many open orders' },
  RISK_LIMIT_EXCEEDED: { status: 422, title: 'Position would exceed its risk limit' },
  UPSTREAM_REJECTED: { status: 422, title: 'KuCoin rejected the request' },
  RATE_LIMITED: { status: 429, title: 'Too Many Requests' },
  UPSTREAM_RATE_LIMITED: { status: 429, title: "KuCoin's rate limit for this account is spent" },
  INTERNAL_ERROR: { status: 500, title: 'Internal Server Error' },
  NOT_IMPLEMENTED: { status: 501, title: 'Not Implemented' },
  UPSTREAM_ERROR: { status: 502, title: 'KuCoin failed' },
  UPSTREAM_BAD_RESPONSE: { status: 502, title: "KuCoin's answer could not be understood" },
  ORDER_UNCONFIRMED: { status: 502, title: "The order's outcome is unknown; reconcile with its clientOid" },
  CANCEL_UNCONFIRMED: { status: 502, title: "The cancel's outcome is unknown; read the order" },
  UPSTREAM_UNAVAILABLE: { status: 503, title: 'KuCoin is unavailable' },
  SHARED_STATE_UNAVAILABLE: { status: 503, title: 'The shared state (Redis) is unreachable' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'KuCoin did not answer in time' },
};

export interface GatewayErrorOptions {
  errors?: FieldError[];
  upstream?: { code: string; message: string };
  clientOid?: string;
  /** With RISK_LIMIT_CHANGE_CANCELS_ORDERS: the orders KuCoin would cancel. */
  openOrders?: NonNullable<Problem['openOrders']>;
  /** With an order conflict: the order KuCoin already holds under the clientOid. */
  existingOrder?: Order;
  retryAfterSeconds?: number;
  /** Extra response headers, e.g. `Allow` for 405 or `WWW-Authenticate` for 401. */
  headers?: Record<string, string>;
  cause?: unknown;
  /** Upstream errors only: true when the request certainly never reached KuCoin (so an order was not placed). */
  notSent?: boolean;
}

/** Every expected failure, from bad input to upstream trouble. Anything else is a bug (500). */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly options: GatewayErrorOptions;

  constructor(code: ErrorCode, detail: string, options: GatewayErrorOptions = {}) {
    // An expected outcome, not a bug: nothing reads its stack (a cause keeps its own), and capturing
    // one was ~5 % of the CPU of every rejected request (benchmark 1).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'GatewayError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.options = options;
  }
}

/** RFC 9457 §3.1.1: `type` is a URI; a URN keeps it stable without promising a live page. */
export function problemType(code: ErrorCode): string {
  let type = problemTypes.get(code);
  if (type === undefined) {
    type = 'urn:futures-gateway:problem:' + code.toLowerCase().replaceAll('_', '-');
    problemTypes.set(code, type);
  }
  return type;
}
/** At most one entry per catalogue code. */
const problemTypes = new Map<ErrorCode, string>();

/**
 * The problem body, its members in the order they have always had. Built in place rather than from
 * spreads of the optional parts (each an intermediate object, on every refused request).
 */
export function toProblem(error: GatewayError, requestId: string, instance: string, now: number): Problem {
  const { errors, upstream, clientOid, openOrders, existingOrder, retryAfterSeconds } = error.options;
  const type = problemType(error.code);
  const title = errorCatalogue[error.code].title;
  // `errors`, when there are any, goes before `requestId`, as it always has.
  const problem: Problem =
    errors === undefined
      ? { type, title, status: error.status, detail: error.message, instance, success: false, code: error.code, requestId, timestamp: now }
      : { type, title, status: error.status, detail: error.message, instance, success: false, code: error.code, errors, requestId, timestamp: now };
  if (upstream !== undefined) problem.upstream = upstream;
  if (clientOid !== undefined) problem.clientOid = clientOid;
  if (openOrders !== undefined) problem.openOrders = openOrders;
  if (existingOrder !== undefined) problem.existingOrder = existingOrder;
  if (retryAfterSeconds !== undefined) problem.retryAfterSeconds = retryAfterSeconds;
  return problem;
}
