import { GatewayError } from '../http/errors.js';
import type { Pool } from './endpoints.js';

interface PoolState {
  limit: number;
  remaining: number;
  resetAt: number;
}

export interface RateBudgetOptions {
  /** Quota per window of each pool (kucoin-futures.md §2: Futures 2000 at VIP0, Public 2000). */
  limits: Record<Pool, number>;
  /** KuCoin's window, counted from the first request (§2): 30 s. */
  windowMs?: number;
  /** Share of the quota never spent, so other users of the key (or our own estimate's error) cannot push the account into a 429000. */
  headroom?: number;
  now?: () => number;
}

/**
 * A weight-aware budget for KuCoin's resource pools. Each call reserves its endpoint's weight
 * before it is sent; KuCoin's `gw-ratelimit-*` headers then correct the estimate. When a pool
 * cannot afford a call, the caller gets a typed 429 with the time until the window resets,
 * instead of KuCoin answering 429000 and, repeated, banning the account.
 */
export class RateBudget {
  readonly #pools = new Map<Pool, PoolState>();
  readonly #windowMs: number;
  readonly #headroom: number;
  readonly #now: () => number;
  readonly #limits: Record<Pool, number>;

  constructor(options: RateBudgetOptions) {
    this.#limits = options.limits;
    this.#windowMs = options.windowMs ?? 30_000;
    this.#headroom = options.headroom ?? 0.05;
    this.#now = options.now ?? Date.now;
  }

  #state(pool: Pool): PoolState {
    const now = this.#now();
    let state = this.#pools.get(pool);
    if (!state || now >= state.resetAt) {
      const limit = state?.limit ?? this.#limits[pool];
      state = { limit, remaining: limit, resetAt: now + this.#windowMs };
      this.#pools.set(pool, state);
    }
    return state;
  }

  /** Takes `weight` from the pool or throws UPSTREAM_RATE_LIMITED without spending anything. */
  reserve(pool: Pool, weight: number, context: string): void {
    const state = this.#state(pool);
    const floor = Math.ceil(state.limit * this.#headroom);
    if (state.remaining - weight < floor) {
      const retryAfterSeconds = Math.max(1, Math.ceil((state.resetAt - this.#now()) / 1000));
      throw new GatewayError('UPSTREAM_RATE_LIMITED', `KuCoin's ${pool} quota for this account is spent for now; ${context} was not sent.`, {
        retryAfterSeconds,
        notSent: true,
      });
    }
    state.remaining -= weight;
  }

  /** KuCoin's own count wins over ours (U-TRANS `processLimit`: reset is in milliseconds). */
  observe(pool: Pool, headers: { limit?: number; remaining?: number; resetMs?: number }): void {
    const state = this.#state(pool);
    if (headers.limit !== undefined && headers.limit > 0) state.limit = headers.limit;
    if (headers.remaining !== undefined) state.remaining = headers.remaining;
    if (headers.resetMs !== undefined) state.resetAt = this.#now() + headers.resetMs;
  }

  /** After a 429000 the pool is spent until the reset KuCoin announced. */
  exhaust(pool: Pool, resetMs: number | undefined): void {
    const state = this.#state(pool);
    state.remaining = 0;
    if (resetMs !== undefined) state.resetAt = this.#now() + resetMs;
  }

  remaining(pool: Pool): number {
    return this.#state(pool).remaining;
  }
}
