/**
 * Which symbols a client asks to watch are no contract in KuCoin's list: the catalog answers from
 * its cache when it has them all, and asks KuCoin only about the others.
 */
import { GatewayError } from '../errors.js';
import type { ContractCatalog } from '../futures/contract-catalog.js';

/** The symbols of `symbols` that are no contract (UNKNOWN_SYMBOL); other failures reject. A socket's watch list is no REST request: the reads are the gateway's own. */
export function unknownContracts(catalog: ContractCatalog, symbols: readonly string[]): string[] | Promise<string[]> {
  const unsure = symbols.filter((symbol) => catalog.cached(symbol) === undefined);
  if (unsure.length === 0) return [];
  return Promise.all(
    unsure.map((symbol) =>
      catalog.resolve(symbol, null).then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof GatewayError && error.code === 'UNKNOWN_SYMBOL') return symbol;
          throw error;
        },
      ),
    ),
  ).then((found) => found.filter((symbol): symbol is string => symbol !== undefined));
}
