import type { KucoinMarginModeResult } from '../kucoin/payloads.js';
import type { FuturesDeps } from './deps.js';

/** The symbol's margin mode as KuCoin reports it (`GET /api/v2/position/getMarginMode`, §3.5); always a read. */
export async function marginModeOf(deps: FuturesDeps, symbol: string): Promise<string | undefined> {
  const result = await deps.client.call<Partial<KucoinMarginModeResult> | null>('getMarginMode', { query: { symbol }, context: `reading the ${symbol} margin mode` });
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
export async function knownMarginModeOf(deps: FuturesDeps, symbol: string): Promise<string | undefined> {
  return deps.marginModes?.get(symbol) ?? (await marginModeOf(deps, symbol));
}

export type MarginMode = 'CROSS' | 'ISOLATED';

/**
 * What the gateway knows of each symbol's margin mode. Bounded in size and age: a change made
 * outside the gateway while no push reaches it (the live feed idle) is picked up by the next read
 * after maxAgeMs, or at once after KuCoin refuses an order for it (330005, `forget`).
 */
export class MarginModeMemory {
  readonly #bySymbol = new Map<string, { mode: MarginMode; at: number }>();
  readonly #maxSymbols: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: { maxSymbols?: number; maxAgeMs?: number; now?: () => number } = {}) {
    this.#maxSymbols = options.maxSymbols ?? 1_000;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  get(symbol: string): MarginMode | undefined {
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
