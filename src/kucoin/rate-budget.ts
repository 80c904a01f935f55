import { GatewayError } from '../errors.js';
import type { Pool } from './endpoints.js';

/**
 * What a call spends. `write` is what acts on the account (orders, cancels, closes, margin and
 * leverage changes, the private stream's token, the lookup that settles an uncertain order): it may
 * spend the write reserve. `read` is everything else, shared between callers.
 */
export type Spend = 'read' | 'write';

/** Who spends: the request scope's caller (`key:<fingerprint>` / `ip:<addr>`), or the gateway's own. */
export interface Claim {
  caller: string;
  spend: Spend;
}

/** Work that serves no request (the live feed, its token): it serves every client. */
export const GATEWAY_CALLER = 'gateway';

/** Why a call was refused: the pool itself, the reads' part of it, or this caller's share of that. */
export type RefusalKind = 'pool' | 'read_reserve' | 'read_share';

/** The metrics the budget feeds (src/observability/metrics.ts). */
export interface BudgetMetrics {
  upstreamBudgetWriteReserve: { set(labels: { pool: Pool }, value: number): void };
  upstreamBudgetRefusals: { inc(labels: { pool: Pool; kind: RefusalKind }): void };
  /** Set by the shared budget on every answer from Redis (the client sets it after each call). */
  upstreamBudgetRemaining?: { set(labels: { pool: Pool }, value: number): void };
}

/**
 * One reserved call. Exactly one of `settle` (it was sent) or `release` (it was not) ends it; a
 * second end is ignored. The shared budget's promises never reject: a Redis failure is counted.
 */
export interface Reservation {
  /** The call ended; with KuCoin's headers when it answered (see RateBudget's `settle`). */
  settle(headers?: PoolHeaders): void | Promise<void>;
  /** KuCoin answered 429000: the pool is spent until the reset it announced. */
  exhaust(resetMs: number | undefined): void | Promise<void>;
  /** Not sent after all (the kill switch or the deadline stopped it): the weight is given back. */
  release(): void | Promise<void>;
}

/**
 * What KucoinClient needs of a budget: the in-process RateBudget (synchronous, REDIS_URL unset) or
 * the budget every replica shares (rate-budget-shared.ts). `reserve` throws (or rejects with)
 * UPSTREAM_RATE_LIMITED without spending anything.
 */
export interface UpstreamBudget {
  reserve(pool: Pool, weight: number, context: string, claim?: Claim): Reservation | Promise<Reservation>;
  /** What is left of the pool, as last known (for the gauge). */
  remaining(pool: Pool): number;
}

interface PoolState {
  limit: number;
  remaining: number;
  resetAt: number;
  /** Read weight each caller spent in this window (0 for one that was refused every time). */
  readers: Map<string, number>;
  /** Callers that tried to read in this window or the one before: the share's divisor. */
  recentReaders: Set<string>;
}

/** What KuCoin's `gw-ratelimit-*` headers said (KuCoin REST rate limit docs); each may be missing. */
export interface PoolHeaders {
  limit?: number;
  remaining?: number;
  resetMs?: number;
}

export interface RateBudgetOptions {
  /** Quota per window of each pool (KuCoin: Futures 2000 at VIP0, Public 2000). */
  limits: Record<Pool, number>;
  /** KuCoin's window, counted from the first request: 30 s. */
  windowMs?: number;
  /** Share of the quota never spent, so other users of the key (or our own estimate's error) cannot push the account into a 429000. */
  headroom?: number;
  /** Share of the quota above the headroom that only writes may spend (UPSTREAM_WRITE_RESERVE / 100). */
  writeReserve?: number;
  /** The pools that keep the write reserve (default: every pool); the others are all readable. */
  reservedPools?: readonly Pool[];
  metrics?: BudgetMetrics;
  now?: () => number;
}

/** Both budgets' rules (this one and the one in Redis), from their options with the defaults filled in. */
export interface BudgetRules {
  limits: Record<Pool, number>;
  windowMs: number;
  headroom: number;
  writeReserve: number;
  reservedPools: ReadonlySet<Pool> | undefined;
}

export function budgetRules(options: RateBudgetOptions): BudgetRules {
  const rules = {
    limits: options.limits,
    windowMs: options.windowMs ?? 30_000,
    headroom: options.headroom ?? 0.05,
    writeReserve: options.writeReserve ?? 0.2,
    reservedPools: options.reservedPools === undefined ? undefined : new Set(options.reservedPools),
  };
  if (!(rules.headroom + rules.writeReserve < 1)) throw new RangeError('headroom and write reserve leave nothing to read');
  return rules;
}

/** The share of `pool`'s quota only writes may spend: none in a pool that keeps no reserve. */
export function reserveShare(rules: BudgetRules, pool: Pool): number {
  return rules.reservedPools !== undefined && !rules.reservedPools.has(pool) ? 0 : rules.writeReserve;
}

/**
 * Share of the readable budget a caller that has already read that much may not take from the last
 * part of it: kept for a caller that arrives while another has been reading alone, which would
 * otherwise wait for the next window.
 */
const NEWCOMER_SHARE = 0.1;

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
 *
 * The quota is one account's, shared by every client of the gateway, so one client reading flat out
 * used to leave nothing for another's order or close. Two rules keep them apart:
 * - Writes may spend down to the headroom; reads only down to the headroom plus the write reserve.
 *   Whatever reads do, the reserve is there for orders, cancels and closes.
 * - The readable part (quota less headroom and reserve) is shared: a caller may spend at most
 *   readable / n in a window, n being the callers that tried to read in this window or the one
 *   before (one alone gets it all, two half each; one refused in a flooded window counts in the
 *   next). A caller past NEWCOMER_SHARE of the readable part may not spend its last
 *   NEWCOMER_SHARE, so a caller arriving mid-window is served at once rather than after the reset.
 * Both are checked in O(1); the per-caller counts are dropped when the window rolls over.
 */
export class RateBudget implements UpstreamBudget {
  readonly #pools = new Map<Pool, PoolState>();
  /** Weight reserved by calls sent and not yet settled, per pool (kept across windows). */
  readonly #inFlight = new Map<Pool, number>();
  readonly #windowMs: number;
  readonly #headroom: number;
  readonly #rules: BudgetRules;
  readonly #metrics: BudgetMetrics | undefined;
  readonly #now: () => number;
  readonly #limits: Record<Pool, number>;

  constructor(options: RateBudgetOptions) {
    this.#rules = budgetRules(options);
    ({ limits: this.#limits, windowMs: this.#windowMs, headroom: this.#headroom } = this.#rules);
    this.#metrics = options.metrics;
    this.#now = options.now ?? Date.now;
    for (const pool of Object.keys(this.#limits) as Pool[]) this.#metrics?.upstreamBudgetWriteReserve.set({ pool }, this.writeReserve(pool));
  }

  #state(pool: Pool): PoolState {
    const now = this.#now();
    let state = this.#pools.get(pool);
    if (!state || now >= state.resetAt) {
      const limit = state?.limit ?? this.#limits[pool];
      // Readers of the window just ended (not of an older one) still count towards the divisor.
      const recent = state && now < state.resetAt + this.#windowMs ? state.readers.keys() : [];
      state = { limit, remaining: limit, resetAt: now + this.#windowMs, readers: new Map(), recentReaders: new Set(recent) };
      this.#pools.set(pool, state);
    }
    return state;
  }

  #refuse(pool: Pool, state: PoolState, kind: RefusalKind, detail: string): never {
    this.#metrics?.upstreamBudgetRefusals.inc({ pool, kind });
    const retryAfterSeconds = Math.max(1, Math.ceil((state.resetAt - this.#now()) / 1000));
    throw new GatewayError('UPSTREAM_RATE_LIMITED', detail, { retryAfterSeconds, notSent: true });
  }

  /**
   * Takes `weight` from the pool for `claim` or throws UPSTREAM_RATE_LIMITED without spending
   * anything. Without a claim the call is the gateway's own write.
   */
  reserve(pool: Pool, weight: number, context: string, claim: Claim = { caller: GATEWAY_CALLER, spend: 'write' }): Reservation {
    const state = this.#state(pool);
    const floor = Math.ceil(state.limit * this.#headroom);
    if (claim.spend === 'write') {
      if (state.remaining - weight < floor) {
        this.#refuse(pool, state, 'pool', `KuCoin's ${pool} quota for this account is spent for now; ${context} was not sent.`);
      }
    } else {
      const reserve = this.#reserveOf(pool, state.limit);
      const readable = state.limit - floor - reserve;
      const spent = state.readers.get(claim.caller) ?? 0;
      state.readers.set(claim.caller, spent);
      state.recentReaders.add(claim.caller);
      if (state.remaining - weight < floor + reserve) {
        this.#refuse(pool, state, 'read_reserve', `KuCoin's ${pool} quota for reads is spent for now (the rest is kept for orders, cancels and closes); ${context} was not sent.`);
      }
      const share = readable / state.recentReaders.size;
      const newcomers = Math.ceil(readable * NEWCOMER_SHARE);
      if (spent + weight > share || (spent + weight > newcomers && state.remaining - weight < floor + reserve + newcomers)) {
        this.#refuse(
          pool,
          state,
          'read_share',
          `This caller's share of KuCoin's ${pool} read quota is spent for now (shared between ${state.recentReaders.size} callers reading); ${context} was not sent.`,
        );
      }
      state.readers.set(claim.caller, spent + weight);
    }
    state.remaining -= weight;
    this.#inFlight.set(pool, this.inFlight(pool) + weight);
    let open = true;
    return {
      settle: (headers) => {
        if (!open) return;
        open = false;
        this.#settle(pool, weight, headers);
      },
      exhaust: (resetMs) => this.exhaust(pool, resetMs),
      release: () => {
        if (!open) return;
        open = false;
        this.#inFlight.set(pool, Math.max(0, this.inFlight(pool) - weight));
        // Given back only to the window it was taken from.
        if (this.#pools.get(pool) !== state || this.#now() >= state.resetAt) return;
        state.remaining = Math.min(state.limit, state.remaining + weight);
        const spent = state.readers.get(claim.caller);
        if (claim.spend === 'read' && spent !== undefined) state.readers.set(claim.caller, Math.max(0, spent - weight));
      },
    };
  }

  #reserveOf(pool: Pool, limit: number): number {
    return Math.ceil(limit * reserveShare(this.#rules, pool));
  }

  /** Weight of the pool's current quota that reads may never spend. */
  writeReserve(pool: Pool): number {
    return this.#reserveOf(pool, this.#pools.get(pool)?.limit ?? this.#limits[pool]);
  }

  /**
   * A call that reserved `weight` has ended. With KuCoin's headers (it answered), KuCoin's own
   * count wins over ours, less what is still in flight (U-TRANS `processLimit`: reset is in
   * milliseconds). Without them (no answer), the weight stays spent: KuCoin may have counted it.
   */
  #settle(pool: Pool, weight: number, headers: PoolHeaders = {}): void {
    const inFlight = Math.max(0, this.inFlight(pool) - weight);
    this.#inFlight.set(pool, inFlight);
    const state = this.#state(pool);
    if (headers.limit !== undefined && headers.limit > 0 && headers.limit !== state.limit) {
      state.limit = headers.limit;
      this.#metrics?.upstreamBudgetWriteReserve.set({ pool }, this.writeReserve(pool));
    }
    if (headers.remaining !== undefined) state.remaining = Math.max(0, headers.remaining - inFlight);
    if (headers.resetMs !== undefined) state.resetAt = this.#now() + headers.resetMs;
  }

  /**
   * KuCoin's headers from a call this budget did not reserve (the shared budget keeps this
   * replica's own budget current with them, for when Redis fails).
   */
  correct(pool: Pool, headers: PoolHeaders): void {
    this.#settle(pool, 0, headers);
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
