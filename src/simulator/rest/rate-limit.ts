/**
 * KuCoin's resource pools (docs/kucoin.md "Envelope, statuses and rate limits"): a quota per 30 s window counted from the
 * window's first request; each call spends its endpoint's weight (docs/kucoin.md "REST endpoints the gateway calls"); a call the pool cannot
 * afford is 429000 with HTTP 429. Every answer carries `gw-ratelimit-limit`, `-remaining` and
 * `-reset` (ms until the window resets; U-TRANS `processLimit`).
 */
import type { Pool } from '../../kucoin/endpoints.js';

export const RATE_WINDOW_MS = 30_000;

interface Window {
  remaining: number;
  resetAt: number;
}

/** What a pool has spent and refused since the last reset (`GET /sim/usage`). */
export interface PoolUsage {
  limit: number;
  /** Calls that spent weight. */
  calls: number;
  weight: number;
  /** Calls refused with 429000 because the pool could not afford them. */
  refused: number;
  /** The most weight spent in one of the pool's own windows. */
  maxWindowWeight: number;
  /** Weight spent per second: [epoch second, weight], oldest first. */
  perSecond: Array<[number, number]>;
}

export class ResourcePools {
  readonly #limits: Record<Pool, number>;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<Pool, Window>();
  readonly #usage = new Map<Pool, PoolUsage>();

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
    const usage = this.#usageOf(pool);
    if (window.remaining < weight) {
      usage.refused += 1;
      return false;
    }
    window.remaining -= weight;
    usage.calls += 1;
    usage.weight += weight;
    usage.maxWindowWeight = Math.max(usage.maxWindowWeight, this.#limits[pool] - window.remaining);
    const second = Math.floor(this.#now() / 1000);
    const last = usage.perSecond.at(-1);
    if (last?.[0] === second) last[1] += weight;
    else usage.perSecond.push([second, weight]);
    return true;
  }

  #usageOf(pool: Pool): PoolUsage {
    let usage = this.#usage.get(pool);
    if (!usage) {
      usage = { limit: this.#limits[pool], calls: 0, weight: 0, refused: 0, maxWindowWeight: 0, perSecond: [] };
      this.#usage.set(pool, usage);
    }
    return usage;
  }

  /** Every pool's usage since the last reset. */
  usage(): Record<Pool, PoolUsage> {
    return { futures: structuredClone(this.#usageOf('futures')), public: structuredClone(this.#usageOf('public')) };
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
    this.#usage.clear();
  }
}
