import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { GatewayError } from '../errors.js';
import type { Pool } from './endpoints.js';
import { budgetRules, GATEWAY_CALLER, reserveShare, type BudgetMetrics, type BudgetRules, type Claim, type PoolHeaders, type RateBudgetOptions, type RefusalKind } from './rate-budget.js';

/**
 * RateBudget's rules (read its comment: headroom, the write reserve, fair read shares over this
 * window and the one before, the newcomer's part, KuCoin's `remaining` less the weight in flight)
 * with the state in Redis, so every replica spends one account's pools together.
 *
 * Why Lua and not rate-limiter-flexible's RateLimiterRedis: its point counter takes points from one
 * key against one limit. A reservation here checks the pool's remaining, the write reserve and the
 * caller's share (which depends on how many callers read in two windows) and takes the weight, all
 * in one step; a settlement replaces the remaining with KuCoin's header less the weight reserved
 * after the answered call and still in flight, across every replica (a sequence number per
 * reservation orders them). Neither fits a counter, and done in several commands two replicas
 * would both pass the same check. So each operation is ONE script (atomic in Redis), and time is
 * Redis's `TIME` (replica clocks differ); tests pass their own `now` instead.
 *
 * Keys, per pool (all with a PX refreshed by every call, so an idle budget leaves nothing behind):
 * - `…:state`: limit, remaining, resetAt, window (a counter), recent (callers that read in this
 *   window or the one before), inflight (the weight of unsettled reservations);
 * - `…:inflight`: each unsettled reservation as `id:weight`, scored by when it lapses. A replica
 *   that dies with calls in flight would otherwise shrink the budget for good: a reservation not
 *   settled within `leaseMs` stops counting as in flight (its weight stays spent).
 * - `…:readers` / `…:readers-prev`: read weight per caller in this window and the one before.
 */
const PRELUDE = `
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local windowMs = tonumber(ARGV[3])
local ttl = ARGV[4]
local function reap()
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  if #lapsed == 0 then return end
  local sum = 0
  for _, member in ipairs(lapsed) do
    sum = sum + tonumber(string.match(member, ':(%d+)$'))
    redis.call('HDEL', KEYS[1], 's:' .. member)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  redis.call('HINCRBY', KEYS[1], 'inflight', -sum)
end
local function state()
  local s = redis.call('HMGET', KEYS[1], 'limit', 'remaining', 'resetAt', 'recent', 'window')
  local st = { limit = tonumber(s[1]), remaining = tonumber(s[2]), resetAt = tonumber(s[3]), recent = tonumber(s[4]) or 0, window = tonumber(s[5]) or 0 }
  if st.resetAt == nil or st.limit == nil or now >= st.resetAt then
    -- Readers of the window just ended (not of an older one) still count towards the divisor.
    if st.resetAt ~= nil and now < st.resetAt + windowMs and redis.call('EXISTS', KEYS[3]) == 1 then
      redis.call('RENAME', KEYS[3], KEYS[4])
      st.recent = redis.call('HLEN', KEYS[4])
    else
      redis.call('DEL', KEYS[3], KEYS[4])
      st.recent = 0
    end
    st.limit = st.limit or tonumber(ARGV[2])
    st.remaining = st.limit
    st.resetAt = now + windowMs
    st.window = st.window + 1
  end
  return st
end
local function finish(st, status)
  redis.call('HSET', KEYS[1], 'limit', st.limit, 'remaining', st.remaining, 'resetAt', st.resetAt, 'recent', st.recent, 'window', st.window)
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
  local inflight = math.max(0, tonumber(redis.call('HGET', KEYS[1], 'inflight')) or 0)
  return { status, st.remaining, st.limit, st.resetAt - now, st.recent, st.window, inflight }
end
`;

/** ARGV[5] weight, [6] spend, [7] caller, [8] member, [9] leaseMs, [10] headroom, [11] write reserve share. */
const RESERVE = `${PRELUDE}
reap()
local st = state()
local weight = tonumber(ARGV[5])
local floor = math.ceil(st.limit * tonumber(ARGV[10]))
local refusal = nil
if ARGV[6] == 'write' then
  if st.remaining - weight < floor then refusal = 'pool' end
else
  local reserve = math.ceil(st.limit * tonumber(ARGV[11]))
  local readable = st.limit - floor - reserve
  local caller = ARGV[7]
  local spent = tonumber(redis.call('HGET', KEYS[3], caller))
  if spent == nil then
    spent = 0
    if redis.call('HEXISTS', KEYS[4], caller) == 0 then st.recent = st.recent + 1 end
    redis.call('HSET', KEYS[3], caller, 0)
  end
  if st.remaining - weight < floor + reserve then
    refusal = 'read_reserve'
  else
    local share = readable / st.recent
    local newcomers = math.ceil(readable * 0.1) -- RateBudget's NEWCOMER_SHARE
    if spent + weight > share or (spent + weight > newcomers and st.remaining - weight < floor + reserve + newcomers) then
      refusal = 'read_share'
    else
      redis.call('HSET', KEYS[3], caller, spent + weight)
    end
  end
end
if refusal == nil then
  st.remaining = st.remaining - weight
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[9]), ARGV[8])
  redis.call('HINCRBY', KEYS[1], 'inflight', weight)
  -- Its place in the order of reservations, across every replica (see SETTLE).
  redis.call('HSET', KEYS[1], 's:' .. ARGV[8], redis.call('HINCRBY', KEYS[1], 'seq', 1))
end
return finish(st, refusal or 'ok')
`;

/** ARGV[5] member, [6] weight, [7] limit, [8] remaining, [9] resetMs (each '' when KuCoin did not say). */
const SETTLE = `${PRELUDE}
reap()
local mine = tonumber(redis.call('HGET', KEYS[1], 's:' .. ARGV[5]))
redis.call('HDEL', KEYS[1], 's:' .. ARGV[5])
if redis.call('ZREM', KEYS[2], ARGV[5]) == 1 then redis.call('HINCRBY', KEYS[1], 'inflight', -tonumber(ARGV[6])) end
local st = state()
local limit, remaining, resetMs = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
if limit ~= nil and limit > 0 then st.limit = limit end
if remaining ~= nil then
  -- Less what KuCoin cannot have counted yet: the calls reserved after this one and still in flight.
  -- Those reserved before it were sent before it and are taken as counted (the headroom covers one
  -- that arrives late). Taking off every call in flight counted the earlier ones twice, and under a
  -- read flood that ate the write reserve: orders were refused while KuCoin had room.
  local later = 0
  if mine then
    for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
      local seq = tonumber(redis.call('HGET', KEYS[1], 's:' .. member))
      if seq == nil or seq > mine then later = later + (tonumber(string.match(member, ':(%d+)$')) or 0) end
    end
  else
    later = math.max(0, tonumber(redis.call('HGET', KEYS[1], 'inflight')) or 0)
  end
  st.remaining = math.max(0, remaining - later)
end
if resetMs ~= nil then st.resetAt = now + resetMs end
return finish(st, 'ok')
`;

/** ARGV[5] resetMs or ''. */
const EXHAUST = `${PRELUDE}
reap()
local st = state()
st.remaining = 0
local resetMs = tonumber(ARGV[5])
if resetMs ~= nil then st.resetAt = now + resetMs end
return finish(st, 'ok')
`;

/** ARGV[5] member, [6] weight, [7] window, [8] spend, [9] caller. */
const RELEASE = `${PRELUDE}
reap()
local weight = tonumber(ARGV[6])
redis.call('HDEL', KEYS[1], 's:' .. ARGV[5])
local removed = redis.call('ZREM', KEYS[2], ARGV[5])
if removed == 1 then redis.call('HINCRBY', KEYS[1], 'inflight', -weight) end
local st = state()
-- Given back only to the window it was taken from.
if removed == 1 and st.window == tonumber(ARGV[7]) then
  st.remaining = math.min(st.limit, st.remaining + weight)
  local spent = tonumber(redis.call('HGET', KEYS[3], ARGV[9]))
  if ARGV[8] == 'read' and spent ~= nil then redis.call('HSET', KEYS[3], ARGV[9], math.max(0, spent - weight)) end
end
return finish(st, 'ok')
`;

const PEEK = `${PRELUDE}
reap()
return finish(state(), 'ok')
`;

type Reply = [status: string, remaining: number, limit: number, resetInMs: number, recent: number, window: number, inflight: number];
type Script = (...args: (string | number)[]) => Promise<Reply>;
interface BudgetCommands {
  kfgBudgetReserve: Script;
  kfgBudgetSettle: Script;
  kfgBudgetExhaust: Script;
  kfgBudgetRelease: Script;
  kfgBudgetPeek: Script;
}

/** What a Redis reservation must remember to end itself. */
export interface RedisReservation {
  settle(headers?: PoolHeaders): Promise<void>;
  exhaust(resetMs: number | undefined): Promise<void>;
  release(): Promise<void>;
}

/** The in-process budget's options (the same rules, the same defaults), and what Redis adds. */
export interface RedisRateBudgetOptions extends RateBudgetOptions {
  /** The shared Redis's command connection (SharedRedis.client). */
  client: Redis;
  /** Builds a full key (SharedRedis.key): `key('budget', account, pool, 'state')`. */
  key: (...parts: string[]) => string;
  /** Whose pools these are (a fingerprint of the KuCoin API key, never the key). */
  account: string;
  /** How long a reservation not settled counts as in flight (longer than any try: UPSTREAM_TIMEOUT_MS and more). */
  leaseMs?: number;
  /** Tests only: their clock instead of Redis's TIME. */
  now?: () => number;
}

/**
 * The shared store. Every method is one script; a Redis failure rejects with Redis's error (the
 * caller, SharedRateBudget, falls back), a refusal with UPSTREAM_RATE_LIMITED.
 */
export class RedisRateBudget {
  readonly #client: Redis & BudgetCommands;
  readonly #key: (...parts: string[]) => string;
  readonly #account: string;
  readonly #limits: Record<Pool, number>;
  readonly #windowMs: number;
  readonly #headroom: number;
  readonly #rules: BudgetRules;
  readonly #leaseMs: number;
  readonly #metrics: BudgetMetrics | undefined;
  readonly #now: (() => number) | undefined;
  /** The pool's quota and remaining as the last answer from Redis said. */
  readonly #known = new Map<Pool, { limit: number; remaining: number }>();

  constructor(options: RedisRateBudgetOptions) {
    this.#key = options.key;
    this.#account = options.account;
    this.#rules = budgetRules(options);
    ({ limits: this.#limits, windowMs: this.#windowMs, headroom: this.#headroom } = this.#rules);
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#metrics = options.metrics;
    this.#now = options.now;
    const client = options.client as Redis & Partial<BudgetCommands>;
    // defineCommand sends EVALSHA and loads the script on NOSCRIPT (a restarted Redis is empty).
    for (const [name, lua] of [['kfgBudgetReserve', RESERVE], ['kfgBudgetSettle', SETTLE], ['kfgBudgetExhaust', EXHAUST], ['kfgBudgetRelease', RELEASE], ['kfgBudgetPeek', PEEK]] as const) {
      if (typeof client[name] !== 'function') client.defineCommand(name, { numberOfKeys: 4, lua });
    }
    this.#client = client as Redis & BudgetCommands;
    for (const pool of Object.keys(this.#limits) as Pool[]) this.#metrics?.upstreamBudgetWriteReserve.set({ pool }, this.writeReserve(pool));
  }

  #keys(pool: Pool): string[] {
    return ['state', 'inflight', 'readers', 'readers-prev'].map((part) => this.#key('budget', this.#account, pool, part));
  }

  #common(pool: Pool): (string | number)[] {
    // The data outlives the window it is about, the one after it (the divisor) and any lease.
    const ttlMs = 2 * this.#windowMs + this.#leaseMs;
    return [...this.#keys(pool), this.#now ? String(this.#now()) : '', this.#limits[pool], this.#windowMs, ttlMs];
  }

  #learn(pool: Pool, reply: Reply): Reply {
    const [, remaining, limit] = reply;
    const before = this.#known.get(pool)?.limit ?? this.#limits[pool];
    this.#known.set(pool, { limit, remaining });
    if (limit !== before) this.#metrics?.upstreamBudgetWriteReserve.set({ pool }, this.writeReserve(pool));
    this.#metrics?.upstreamBudgetRemaining?.set({ pool }, remaining);
    return reply;
  }

  async reserve(pool: Pool, weight: number, context: string, claim: Claim = { caller: GATEWAY_CALLER, spend: 'write' }): Promise<RedisReservation> {
    if (!(Number.isInteger(weight) && weight > 0)) throw new RangeError(`weight must be a positive integer, got ${weight}`);
    const member = `${randomUUID()}:${weight}`;
    const reply = this.#learn(
      pool,
      await this.#client.kfgBudgetReserve(...this.#common(pool), weight, claim.spend, claim.caller, member, this.#leaseMs, this.#headroom, reserveShare(this.#rules, pool)),
    );
    const [status, , , resetInMs, recent, window] = reply;
    if (status !== 'ok') this.#refuse(pool, status as RefusalKind, resetInMs, recent, context);
    let open = true;
    const end = () => {
      const was = open;
      open = false;
      return was;
    };
    return {
      settle: async (headers = {}) => {
        if (!end()) return;
        const h = (value: number | undefined) => (value === undefined ? '' : value);
        this.#learn(pool, await this.#client.kfgBudgetSettle(...this.#common(pool), member, weight, h(headers.limit), h(headers.remaining), h(headers.resetMs)));
      },
      exhaust: (resetMs) => this.exhaust(pool, resetMs),
      release: async () => {
        if (!end()) return;
        this.#learn(pool, await this.#client.kfgBudgetRelease(...this.#common(pool), member, weight, window, claim.spend, claim.caller));
      },
    };
  }

  #refuse(pool: Pool, kind: RefusalKind, resetInMs: number, recent: number, context: string): never {
    this.#metrics?.upstreamBudgetRefusals.inc({ pool, kind });
    const retryAfterSeconds = Math.max(1, Math.ceil(resetInMs / 1000));
    const detail =
      kind === 'pool' ? `KuCoin's ${pool} quota for this account is spent for now; ${context} was not sent.`
      : kind === 'read_reserve' ? `KuCoin's ${pool} quota for reads is spent for now (the rest is kept for orders, cancels and closes); ${context} was not sent.`
      : `This caller's share of KuCoin's ${pool} read quota is spent for now (shared between ${recent} callers reading); ${context} was not sent.`;
    throw new GatewayError('UPSTREAM_RATE_LIMITED', detail, { retryAfterSeconds, notSent: true });
  }

  async exhaust(pool: Pool, resetMs: number | undefined): Promise<void> {
    this.#learn(pool, await this.#client.kfgBudgetExhaust(...this.#common(pool), resetMs === undefined ? '' : resetMs));
  }

  /** Weight of the pool's current quota (as last known) that reads may never spend. */
  writeReserve(pool: Pool): number {
    return Math.ceil((this.#known.get(pool)?.limit ?? this.#limits[pool]) * reserveShare(this.#rules, pool));
  }

  /** The remaining as the last answer from Redis said (no round trip), or the quota before any. */
  known(pool: Pool): number {
    return this.#known.get(pool)?.remaining ?? this.#limits[pool];
  }

  async remaining(pool: Pool): Promise<number> {
    return this.#learn(pool, await this.#client.kfgBudgetPeek(...this.#common(pool)))[1];
  }

  /** Weight reserved by every replica's calls not yet settled (nor lapsed). */
  async inFlight(pool: Pool): Promise<number> {
    return this.#learn(pool, await this.#client.kfgBudgetPeek(...this.#common(pool)))[6];
  }
}
