import type { KucoinClient } from '../kucoin/client.js';
import type { KucoinMarginModeResult } from '../kucoin/payloads.js';
import type { RequestScope } from '../request-scope.js';

/** What a margin-mode read needs: the part of FuturesDeps (deps.ts, which holds the memory below) it uses. */
export interface MarginModeDeps {
  client: KucoinClient;
  marginModes?: MarginModeMemory;
}

/** The symbol's margin mode as KuCoin reports it (`GET /api/v2/position/getMarginMode`, docs/kucoin.md "REST endpoints the gateway calls"); always a read. */
export async function marginModeOf(deps: MarginModeDeps, scope: RequestScope | null, symbol: string): Promise<string | undefined> {
  const result = await deps.client.call<Partial<KucoinMarginModeResult> | null>('getMarginMode', { query: { symbol }, context: `reading the ${symbol} margin mode`, scope });
  const mode = result?.marginMode;
  if (mode === 'CROSS' || mode === 'ISOLATED') deps.marginModes?.set(symbol, mode);
  return mode;
}

/**
 * The margin mode an order should carry, without a KuCoin read when the gateway already knows it:
 * from an earlier read, its own successful change, or KuCoin's `/contract/marginMode` push
 * (openapi-futures-private.json "the margin mode change", subject `user.config`, data
 * `{"ETHUSDTM":"ISOLATED"}`). The read costs weight 2 of the quota an order's POST also draws on.
 */
export async function knownMarginModeOf(deps: MarginModeDeps, scope: RequestScope | null, symbol: string): Promise<string | undefined> {
  return deps.marginModes?.get(symbol) ?? (await marginModeOf(deps, scope, symbol));
}

export type MarginMode = 'CROSS' | 'ISOLATED';

/**
 * What the gateway knows of each symbol's margin mode. Served only while KuCoin's margin-mode
 * pushes reach the gateway (`watching`, set by the live feed while its upstream is live): otherwise
 * a change made outside the gateway (KuCoin's web UI) would go unseen, so every order reads.
 * Bounded in size and age, and forgotten after KuCoin refuses an order for it (330005, `forget`).
 */
export class MarginModeMemory {
  readonly #bySymbol = new Map<string, { mode: MarginMode; at: number }>();
  readonly #maxSymbols: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #watching = false;

  constructor(options: { maxSymbols?: number; maxAgeMs?: number; now?: () => number } = {}) {
    this.#maxSymbols = options.maxSymbols ?? 1_000;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the `/contract/marginMode` pushes are being received; false also forgets everything known. */
  watching(live: boolean): void {
    this.#watching = live;
    if (!live) this.#bySymbol.clear();
  }

  get(symbol: string): MarginMode | undefined {
    if (!this.#watching) return undefined;
    const known = this.#bySymbol.get(symbol);
    if (!known) return undefined;
    if (this.#now() - known.at > this.#maxAgeMs) {
      this.#bySymbol.delete(symbol);
      return undefined;
    }
    return known.mode;
  }

  set(symbol: string, mode: MarginMode): void {
    this.#bySymbol.delete(symbol);
    this.#bySymbol.set(symbol, { mode, at: this.#now() });
    while (this.#bySymbol.size > this.#maxSymbols) this.#bySymbol.delete(this.#bySymbol.keys().next().value!);
  }

  forget(symbol: string): void {
    this.#bySymbol.delete(symbol);
  }
}
