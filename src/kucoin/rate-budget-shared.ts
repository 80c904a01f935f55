import type { SharedRedis } from '../redis/shared-redis.js';
import { createHash } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { Pool } from './endpoints.js';
import type { RedisRateBudget } from './rate-budget-redis.js';
import type { Claim, RateBudget, Reservation, UpstreamBudget } from './rate-budget.js';

/**
 * The part of a Redis key that says whose KuCoin quota it counts: a short hash of the API key (the
 * key itself is a secret and stays out of Redis), or `anonymous` without credentials.
 */
export function accountTag(credentials: { key: string } | null): string {
  return credentials === null ? 'anonymous' : createHash('sha256').update(credentials.key).digest('hex').slice(0, 16);
}

/** What the shared budget needs of SharedRedis. */
export type BudgetRedis = Pick<SharedRedis, 'available' | 'failed'>;

export interface SharedBudgetMetrics {
  /** Calls reserved in this replica's own budget because the shared one could not be reached. */
  upstreamBudgetFallbacks: { inc(labels: { pool: Pool }): void };
  /** 1 while the last reservation was made in the shared budget, 0 while this replica falls back. */
  upstreamBudgetShared: { set(value: number): void };
}

/**
 * The budget every replica shares (REDIS_URL set): reservations go to Redis; when Redis cannot be
 * reached (down, or a command failed or timed out) the call is reserved in this replica's own
 * RateBudget instead, counted (`shared.failed('budget')`, `gateway_upstream_budget_fallbacks_total`),
 * never refused for it. KuCoin's `gw-ratelimit-*` headers are the account's, whoever spent it, and
 * every answer corrects the replica's own budget too, so a fallback starts from what KuCoin last
 * said is left. A reservation is ended where it was made.
 */
export class SharedRateBudget implements UpstreamBudget {
  readonly #store: RedisRateBudget;
  readonly #local: RateBudget;
  readonly #redis: BudgetRedis;
  readonly #metrics: SharedBudgetMetrics;
  #shared = true;

  constructor(options: { store: RedisRateBudget; local: RateBudget; redis: BudgetRedis; metrics: SharedBudgetMetrics }) {
    this.#store = options.store;
    this.#local = options.local;
    this.#redis = options.redis;
    this.#metrics = options.metrics;
    this.#metrics.upstreamBudgetShared.set(1);
  }

  async reserve(pool: Pool, weight: number, context: string, claim?: Claim): Promise<Reservation> {
    if (this.#redis.available('budget')) {
      try {
        const reservation = await this.#store.reserve(pool, weight, context, claim);
        this.#setShared(true);
        return this.#ending(pool, reservation);
      } catch (error) {
        if (error instanceof GatewayError) throw error; // the shared budget refused: that is the answer
        this.#redis.failed('budget', error);
      }
    } else {
      this.#redis.failed('budget', new Error('shared Redis not connected'));
    }
    this.#setShared(false);
    this.#metrics.upstreamBudgetFallbacks.inc({ pool });
    return this.#local.reserve(pool, weight, context, claim);
  }

  remaining(pool: Pool): number {
    return this.#shared ? this.#store.known(pool) : this.#local.remaining(pool);
  }

  #ending(pool: Pool, reservation: Reservation): Reservation {
    const quietly = (work: void | Promise<void>) => Promise.resolve(work).catch((error: unknown) => this.#redis.failed('budget', error));
    return {
      settle: (headers) => {
        if (headers) this.#local.correct(pool, headers);
        return quietly(reservation.settle(headers));
      },
      exhaust: (resetMs) => {
        this.#local.exhaust(pool, resetMs);
        return quietly(reservation.exhaust(resetMs));
      },
      release: () => quietly(reservation.release()),
    };
  }

  #setShared(shared: boolean): void {
    if (this.#shared === shared) return;
    this.#shared = shared;
    this.#metrics.upstreamBudgetShared.set(shared ? 1 : 0);
  }
}
