import type { Context, Handler } from 'openapi-backend';
import { GatewayError } from '../../errors.js';
import type { GatewayOperation } from '../openapi-backend.js';
import type { HandlerDeps } from './context.js';

/** Operations under /api/futures: the surface the kill switch hides. */
export function isFuturesPath(path: string): boolean {
  return path === '/api/futures' || path.startsWith('/api/futures/');
}

/**
 * Checked after validation, before any futures operation handler runs: the provider must be enabled
 * and, for operations the contract marks `x-requires-credentials`, KuCoin credentials configured.
 * Returns the refusal to answer, or undefined when the operation may run (and for any operation
 * outside the futures surface).
 */
export function futuresPreconditions(deps: HandlerDeps): (c: Context) => GatewayError | undefined {
  return (c: Context) => {
    const operation = c.operation as GatewayOperation;
    if (!isFuturesPath(operation.path)) return undefined;
    if (!deps.config.exchangeKucoin) {
      return new GatewayError('UPSTREAM_UNAVAILABLE', 'The KuCoin provider is disabled (EXCHANGE_KUCOIN=false).');
    }
    if (operation['x-requires-credentials'] === true && deps.config.kucoin.credentials === null) {
      return new GatewayError(
        'CREDENTIALS_MISSING',
        'KuCoin credentials are not configured: set KUCOIN_FUTURES_KEY, KUCOIN_FUTURES_SECRET and KUCOIN_FUTURES_PASSPHRASE.',
      );
    }
    return undefined;
  };
}

/** Operations in the contract that this build does not serve yet: a typed 501, never a 500. */
export const notImplemented: Handler = (c: Context) => {
  throw new GatewayError('NOT_IMPLEMENTED', `${c.operation.operationId} is in the contract but not served by this build yet.`);
};
