import type { Context, Handler } from 'openapi-backend';
import { GatewayError } from '../../errors.js';
import type { GatewayOperation } from '../openapi-backend.js';
import type { HandlerDeps } from './context.js';

/** Operations under /api/futures: the surface the kill switch hides. */
export function isFuturesPath(path: string): boolean {
  return path === '/api/futures' || path.startsWith('/api/futures/');
}

/**
 * Runs after validation, before any futures operation handler: the provider must be enabled and,
 * for operations the contract marks `x-requires-credentials`, KuCoin credentials configured.
 */
export function futuresPreconditions(deps: HandlerDeps): Handler {
  return (c: Context) => {
    const operation = c.operation as GatewayOperation;
    if (!isFuturesPath(operation.path)) return;
    if (!deps.config.exchangeKucoin) {
      throw new GatewayError('UPSTREAM_UNAVAILABLE', 'The KuCoin provider is disabled (EXCHANGE_KUCOIN=false).');
    }
    if (operation['x-requires-credentials'] === true && deps.config.kucoin.credentials === null) {
      throw new GatewayError(
        'CREDENTIALS_MISSING',
        'KuCoin credentials are not configured: set KUCOIN_FUTURES_KEY, KUCOIN_FUTURES_SECRET and KUCOIN_FUTURES_PASSPHRASE.',
      );
    }
  };
}

/** Operations in the contract that this build does not serve yet: a typed 501, never a 500. */
export const notImplemented: Handler = (c: Context) => {
  throw new GatewayError('NOT_IMPLEMENTED', `${c.operation.operationId} is in the contract but not served by this build yet.`);
};
