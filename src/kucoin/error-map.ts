import { GatewayError, type ErrorCode } from '../errors.js';

/**
 * KuCoin business codes (docs/kucoin.md "Error codes", with the sources and issues cited there) and what each
 * becomes at our edge. The contract carries the same table as the `kucoin` lists of
 * `x-error-catalogue` in openapi.yaml; a test keeps the two equal. 400002 (timestamp) is handled
 * before this table: the client resyncs its clock and retries once, and only a second 400002 lands
 * here, as an upstream error.
 */
export const kucoinCodeTable: Readonly<Record<string, ErrorCode>> = {
  '300016': 'LEVERAGE_TOO_HIGH',
  '100001': 'UPSTREAM_INVALID_REQUEST',
  '300000': 'UPSTREAM_INVALID_REQUEST',
  '400100': 'UPSTREAM_INVALID_REQUEST',
  '400001': 'CREDENTIALS_REJECTED',
  '400003': 'CREDENTIALS_REJECTED',
  '400004': 'CREDENTIALS_REJECTED',
  '400005': 'CREDENTIALS_REJECTED',
  '400008': 'CREDENTIALS_REJECTED',
  '400009': 'CREDENTIALS_REJECTED',
  '400006': 'UPSTREAM_FORBIDDEN',
  '400007': 'UPSTREAM_FORBIDDEN',
  '411100': 'UPSTREAM_FORBIDDEN',
  '100003': 'UNKNOWN_SYMBOL',
  '200003': 'UNKNOWN_SYMBOL',
  '300009': 'POSITION_NOT_FOUND',
  '330005': 'MARGIN_MODE_MISMATCH',
  '330011': 'POSITION_MODE_MISMATCH',
  '50002': 'MARGIN_MODE_CHANGE_BLOCKED',
  '100004': 'ORDER_NOT_CANCELABLE',
  '300018': 'DUPLICATE_CLIENT_OID',
  '300014': 'POSITION_BUSY',
  '300015': 'POSITION_BUSY',
  '300003': 'INSUFFICIENT_BALANCE',
  '200005': 'INSUFFICIENT_BALANCE',
  '300011': 'PRICE_OUT_OF_BAND',
  '300012': 'PRICE_OUT_OF_BAND',
  '300001': 'ORDER_LIMIT_EXCEEDED',
  '300004': 'ORDER_LIMIT_EXCEEDED',
  '300005': 'RISK_LIMIT_EXCEEDED',
  '300010': 'UPSTREAM_REJECTED',
  '429000': 'UPSTREAM_RATE_LIMITED',
  '200002': 'UPSTREAM_RATE_LIMITED',
  '1015': 'UPSTREAM_RATE_LIMITED',
  '500000': 'UPSTREAM_ERROR',
  '400002': 'UPSTREAM_ERROR',
  // We always send JSON to KuCoin's documented paths: either refusal is our bug or an API change, not the caller's.
  '415000': 'UPSTREAM_ERROR',
  '404000': 'UPSTREAM_ERROR',
};

/** How long KuCoin blocks after its other rate limits (docs/kucoin.md "Envelope, statuses and rate limits"): 200002 10 s, 1015 30 s. */
const BLOCK_SECONDS: Readonly<Record<string, number>> = { '200002': 10, '1015': 30 };

export const KUCOIN_MESSAGE_MAX = 200;

export interface UpstreamFailure {
  /** KuCoin's business code, when the body had one. */
  code?: string;
  message?: string;
  httpStatus: number;
  /** ms until the pool resets (gw-ratelimit-reset), when sent. */
  resetMs?: number;
}

/** KuCoin's answer → the typed error our edge renders. Never a 500: everything KuCoin can say has a row. */
export function toGatewayError(failure: UpstreamFailure, context: string): GatewayError {
  const message = (failure.message ?? '').slice(0, KUCOIN_MESSAGE_MAX);
  const upstream = { code: failure.code ?? `HTTP ${failure.httpStatus}`, message: message || `HTTP ${failure.httpStatus}` };
  const mapped = failure.code === undefined ? undefined : kucoinCodeTable[failure.code];

  if (mapped === 'UPSTREAM_RATE_LIMITED' || (mapped === undefined && failure.httpStatus === 429)) {
    const seconds = failure.resetMs !== undefined ? Math.max(1, Math.ceil(failure.resetMs / 1000)) : (BLOCK_SECONDS[failure.code ?? ''] ?? 1);
    return new GatewayError('UPSTREAM_RATE_LIMITED', `KuCoin refused ${context}: its rate limit for this account is spent.`, {
      upstream,
      retryAfterSeconds: seconds,
    });
  }
  if (mapped !== undefined) return new GatewayError(mapped, `KuCoin refused ${context}: ${upstream.message}`, { upstream });
  if (failure.httpStatus === 503) {
    return new GatewayError('UPSTREAM_UNAVAILABLE', `KuCoin is unavailable (maintenance?) for ${context}.`, { upstream, retryAfterSeconds: 30 });
  }
  if (failure.httpStatus >= 500 || failure.code === undefined) {
    return new GatewayError('UPSTREAM_ERROR', `KuCoin failed ${context} (${upstream.code}).`, { upstream });
  }
  // A business code we have no row for: KuCoin said no to this request, so it is a 4xx, with
  // KuCoin's own code and message for the caller.
  return new GatewayError('UPSTREAM_REJECTED', `KuCoin refused ${context}: ${upstream.message}`, { upstream });
}

/**
 * KuCoin's answer to a read or cancel of an order id it does not know: the generic "invalid
 * parameter" code with a message of its own, `{"code":"100001","msg":"error.getOrder.orderNotExist"}`
 * (reported for both `GET` and `DELETE /api/v1/orders/{orderId}` in ccxt/ccxt#10605; KuCoin's
 * spec documents no code of its own for it). Only the message tells it from a malformed request,
 * so it is recognised here and nowhere else.
 */
export function isUnknownOrder(error: unknown): error is GatewayError {
  return (
    error instanceof GatewayError &&
    error.code === 'UPSTREAM_INVALID_REQUEST' &&
    error.options.upstream?.code === '100001' &&
    /ordernotexist/i.test(error.options.upstream.message)
  );
}
