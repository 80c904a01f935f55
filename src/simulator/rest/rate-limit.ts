/**
 * KuCoin's resource pools (kucoin-futures.md §2, DOC-RL): a quota per 30 s window counted from the
 * window's first request; each call spends its endpoint's weight (§3 table); a call the pool cannot
 * afford is 429000 with HTTP 429. Every answer carries `gw-ratelimit-limit`, `-remaining` and
 * `-reset` (ms until the window resets; U-TRANS `processLimit`).
 */
import type { Pool } from '../../kucoin/endpoints.js';

export const RATE_WINDOW_MS = 30_000;

interface Window {
  remaining: number;
  resetAt: number;
}

export class ResourcePools {
  readonly #limits: Record<Pool, number>;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<Pool, Window>();

  constructor(options: { limits: Record<Pool, number>; windowMs?: number; now: () => number }) {
    this.#limits = options.limits;
    this.#windowMs = options.windowMs ?? RATE_WINDOW_MS;
    this.#now = options.now;
  }

  /** The window in force, or undefined when none has started (the next request starts one). */
  #current(pool: Pool): Window | undefined {
    const window = this.#windows.get(pool);
    return window && this.#now() < window.resetAt ? window : undefined;
  }

  /** Spends `weight` if the pool can afford it. */
  take(pool: Pool, weight: number): boolean {
    let window = this.#current(pool);
    if (!window) {
      window = { remaining: this.#limits[pool], resetAt: this.#now() + this.#windowMs };
      this.#windows.set(pool, window);
    }
    if (window.remaining < weight) return false;
    window.remaining -= weight;
    return true;
  }

  headers(pool: Pool): Record<string, string> {
    const window = this.#current(pool);
    return {
      'gw-ratelimit-limit': String(this.#limits[pool]),
      'gw-ratelimit-remaining': String(window?.remaining ?? this.#limits[pool]),
      'gw-ratelimit-reset': String(window ? window.resetAt - this.#now() : this.#windowMs),
    };
  }

  reset(): void {
    this.#windows.clear();
  }
}
