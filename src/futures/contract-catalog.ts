import { GatewayError } from '../errors.js';
import type { KucoinClient } from '../kucoin/client.js';
import type { RequestScope } from '../request-scope.js';
import type { KucoinContract } from '../kucoin/payloads.js';
import { toKucoinSymbol } from '../symbols.js';

export interface ContractCatalogOptions {
  /** How long the list stays fresh; sizing rules change rarely, market fields in it go stale. */
  ttlMs?: number;
  /** A symbol the list does not know triggers at most one refresh per this interval. */
  missRefreshMs?: number;
  now?: () => number;
}

/**
 * The contract list (`GET /api/v1/contracts/active`), cached: it decides which symbols exist
 * (built from the list, not from a hard-coded rename: docs/kucoin.md "Fields and units") and
 * carries the multiplier, lot size, tick size and max leverage every order needs.
 * Each method takes the scope of the request it serves (null: the gateway's own work): a refresh is
 * shared by whoever arrives while it runs, and made within the deadline of, and charged to, the one
 * that started it.
 */
export class ContractCatalog {
  readonly #client: KucoinClient;
  readonly #ttlMs: number;
  readonly #missRefreshMs: number;
  readonly #now: () => number;
  #bySymbol = new Map<string, KucoinContract>();
  #list: KucoinContract[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(client: KucoinClient, options: ContractCatalogOptions = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#missRefreshMs = options.missRefreshMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async list(scope: RequestScope | null): Promise<KucoinContract[]> {
    if (this.#now() - this.#loadedAt > this.#ttlMs) await this.#refresh(scope);
    return this.#list;
  }

  /** The contract for any accepted spelling, or UNKNOWN_SYMBOL (404). */
  async resolve(input: string, scope: RequestScope | null): Promise<KucoinContract> {
    const symbol = toKucoinSymbol(input) ?? input.trim().toUpperCase();
    await this.list(scope);
    let contract = this.#bySymbol.get(symbol);
    if (!contract && this.#now() - this.#loadedAt > this.#missRefreshMs) {
      await this.#refresh(scope);
      contract = this.#bySymbol.get(symbol);
    }
    if (!contract) throw new GatewayError('UNKNOWN_SYMBOL', `Unknown futures symbol ${JSON.stringify(input)}.`);
    return contract;
  }

  /**
   * The contract of a symbol KuCoin itself reported (a position, an order): it exists even when it
   * has left the active list (settling, delisted), so a miss is read from `/api/v1/contracts/{symbol}`.
   */
  async forHeld(symbol: string, scope: RequestScope | null): Promise<KucoinContract> {
    await this.list(scope);
    const known = this.#bySymbol.get(symbol);
    if (known) return known;
    const contract = await this.#client.call<KucoinContract>('contract', { params: { symbol }, context: `reading contract ${symbol}`, scope });
    this.#bySymbol.set(symbol, contract);
    return contract;
  }

  /** `forHeld` for several symbols, each read at most once. */
  async forHeldAll(symbols: Iterable<string>, scope: RequestScope | null): Promise<Map<string, KucoinContract>> {
    return new Map(await Promise.all([...new Set(symbols)].map(async (s) => [s, await this.forHeld(s, scope)] as const)));
  }

  /** A known contract's cached entry, without any upstream call (for mapping pushes and lists). */
  cached(symbol: string): KucoinContract | undefined {
    return this.#bySymbol.get(symbol);
  }

  async #refresh(scope: RequestScope | null): Promise<void> {
    this.#loading ??= this.#client
      .call<KucoinContract[]>('contractsActive', { context: 'listing contracts', scope })
      .then((contracts) => {
        if (!Array.isArray(contracts)) throw new GatewayError('UPSTREAM_BAD_RESPONSE', 'KuCoin sent a contract list that is not a list.');
        this.#list = contracts;
        this.#bySymbol = new Map(contracts.map((c) => [c.symbol, c]));
        this.#loadedAt = this.#now();
      })
      .finally(() => {
        this.#loading = undefined;
      });
    await this.#loading;
  }
}
