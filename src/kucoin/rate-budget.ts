import { GatewayError } from '../http/errors.js';
import type { Pool } from './endpoints.js';

interface PoolState {
  limit: number;
  remaining: number;
  resetAt: number;
}

/** What KuCoin's `gw-ratelimit-*` headers said (kucoin-futures.md §2); each may be missing. */
export interface PoolHeaders {
  limit?: number;
  remaining?: number;
  resetMs?: number;
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
 * before it is sent and settles it when it ends; KuCoin's `gw-ratelimit-*` headers on an answer
 * then correct the estimate. When a pool cannot afford a call, the caller gets a typed 429 with
 * the time until the window resets, instead of KuCoin answering 429000 and, repeated, banning the
 * account.
 *
 * KuCoin's `remaining` on one answer cannot count the calls still in flight that it had not seen
 * when it answered; taking it as it stands handed their weight back to be spent twice (the busiest
 * KuCoin window of the quota-500 economy run held 476 against a ceiling of 475). So the weight
 * reserved by calls not yet settled is taken off KuCoin's figure. A call KuCoin had already counted
 * is then counted twice until it settles: the error is on the side of sending less.
 */
export class RateBudget {
  readonly #pools = new Map<Pool, PoolState>();
  /** Weight reserved by calls sent and not yet settled, per pool (kept across windows). */
  readonly #inFlight = new Map<Pool, number>();
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
    this.#inFlight.set(pool, this.inFlight(pool) + weight);
  }

  /**
   * A call that reserved `weight` has ended. With KuCoin's headers (it answered), KuCoin's own
   * count wins over ours, less what is still in flight (U-TRANS `processLimit`: reset is in
   * milliseconds). Without them (no answer), the weight stays spent: KuCoin may have counted it.
   */
  settle(pool: Pool, weight: number, headers: PoolHeaders = {}): void {
    const inFlight = Math.max(0, this.inFlight(pool) - weight);
    this.#inFlight.set(pool, inFlight);
    const state = this.#state(pool);
    if (headers.limit !== undefined && headers.limit > 0) state.limit = headers.limit;
    if (headers.remaining !== undefined) state.remaining = Math.max(0, headers.remaining - inFlight);
    if (headers.resetMs !== undefined) state.resetAt = this.#now() + headers.resetMs;
  }

  inFlight(pool: Pool): number {
    return this.#inFlight.get(pool) ?? 0;
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
