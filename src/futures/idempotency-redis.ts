import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { GatewayError, type ErrorCode, type GatewayErrorOptions } from '../errors.js';
import type { RequestScope } from '../request-scope.js';
import type { SharedRedis } from '../redis/shared-redis.js';
import { fingerprintOf, idempotencyConflict, IdempotencyStore, type IdempotencyRecords, type OutcomePolicy } from './idempotency.js';

export interface RedisIdempotencyOptions {
  shared: SharedRedis;
  /**
   * How long a claim holds its key before another replica may take it over (settling it first):
   * longer than any request can run (UPSTREAM_DEADLINE_MS plus a margin), so a live claimant is
   * never taken over.
   */
  leaseMs: number;
  /** How long an outcome is kept (24 h, as in the in-process store); Redis forgets it then (PX). */
  ttlMs?: number;
  /** How often a waiter re-reads a claimed record when no notification came (pub/sub messages are lost while Redis is away). */
  pollMs?: number;
  /** Who claims (logged in the record, for an operator reading Redis): host and pid by default. */
  replica?: string;
}

/**
 * One record per key (a hash under `<prefix>idem:<key>`):
 * - `fp`: the request's fingerprint; `token`: the claim that wrote the record; `owner`: its replica;
 * - `state`: `claimed` (in flight until `lease`, Redis's clock), `final` (the outcome), `pending`
 *   (the outcome is unknown: the next request settles `settle` first), or `forgotten` (a failure
 *   that must not be kept: only the requests that waited on that claim get it, any other runs anew);
 * - `outcome`: JSON `{"value":…}` or `{"error":{code,message,options}}`;
 * - `settle`: JSON, what the next claimant settles first: the pending try of a `pending` record, or
 *   for a `claimed` one what its claimant may have sent should it die before writing its outcome.
 *
 * The claim is one Lua script: reading the record, deciding (conflict, replay, wait, claim or take
 * over) and writing the claim must be one atomic step, or two replicas could both see an expired
 * lease (or no record) and both place. A script does that in one round trip and cannot fail half
 * way; WATCH/MULTI would need a retry loop under contention, exactly when ten requests race for a key.
 * The lease is measured on Redis's clock (TIME), so the replicas' clocks need not agree.
 */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = redis.call('HMGET', KEYS[1], 'fp', 'state', 'token', 'lease', 'outcome', 'settle')
local fp, state, token, lease, outcome, settle = r[1], r[2], r[3], r[4], r[5], r[6]
if fp and state == 'forgotten' and token ~= ARGV[7] then fp = false end
if fp then
  if fp ~= ARGV[1] then return {'conflict', state == 'final' and outcome or ''} end
  if state == 'final' then return {'final', outcome} end
  if state == 'claimed' and tonumber(lease) > now then return {'busy', token, tostring(tonumber(lease) - now)} end
  if (state == 'pending' or state == 'forgotten') and token == ARGV[7] then return {'failed', outcome} end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'claimed', 'token', ARGV[2], 'owner', ARGV[3], 'lease', tostring(now + tonumber(ARGV[4])), 'settle', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if fp then return {'takeover', settle or ''} end
return {'fresh'}
`;

/** Writes a claim's outcome, only while the claim still holds the key (a takeover may have replaced it), then tells the waiters. */
const WRITE = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'outcome', ARGV[3], 'settle', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[6], ARGV[7]) end
return 1
`;

/** Writes a record only where the key has none: an outcome decided on this replica while Redis was away, written back once it returns. */
const PUT_IF_ABSENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', ARGV[2], 'token', ARGV[3], 'owner', ARGV[4], 'outcome', ARGV[5], 'settle', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1
`;

/** An outcome decided without Redis, to be written back. */
interface Unwritten {
  fingerprint: string;
  state: 'final' | 'pending';
  outcome: string;
  settle: string;
}

/** At most this many outcomes decided without Redis wait to be written back (the oldest are dropped). */
const MAX_UNWRITTEN = 10_000;

/** How long claims wait after Redis came back without its data: every live replica reconnects (ioredis retries at least once a second) and writes back within it. */
const RECOVERY_MS = 2_000;

/** At most this many outcomes this replica wrote are kept to be written back should Redis lose its data. */
const MAX_KNOWN = 10_000;

type ClaimReply = ['conflict', string] | ['final', string] | ['busy', string, string] | ['failed', string] | ['takeover', string] | ['fresh'];

interface StoredError {
  code: ErrorCode;
  message: string;
  options: GatewayErrorOptions;
}

type Outcome<T> = { value: T } | { error: StoredError };

/** A GatewayError as kept in Redis: what its problem answer needs (never a cause: it may hold anything). */
function storedError(error: unknown): StoredError | undefined {
  if (!(error instanceof GatewayError)) return undefined;
  const { cause: _cause, notSent: _notSent, ...options } = error.options;
  return { code: error.code, message: error.message, options };
}

/** Whether a claim's reply is what the scripts write (JSON where JSON is due): a record no replica could have written is treated as Redis trouble. */
function readable(reply: ClaimReply): boolean {
  try {
    if ((reply[0] === 'conflict' || reply[0] === 'takeover') && reply[1] !== '') JSON.parse(reply[1]);
    if (reply[0] === 'final' || reply[0] === 'failed') {
      const outcome: unknown = JSON.parse(reply[1]);
      return outcome !== null && typeof outcome === 'object' && ('value' in outcome || 'error' in outcome);
    }
    return true;
  } catch {
    return false;
  }
}

const revive = (stored: StoredError) => new GatewayError(stored.code, stored.message, stored.options);

const stillRunningDefault = (key: string) =>
  new GatewayError('ORDER_UNCONFIRMED', `Another request with idempotency key ${JSON.stringify(key)} is still running; its outcome is not known yet. Nothing was sent by this request.`, { clientOid: key });

const DAY_MS = 24 * 3_600_000;

/**
 * The idempotency records every replica shares (REDIS_URL): a key is claimed atomically, with the
 * request's fingerprint, and its outcome written when known. The same request on any replica while
 * the key is claimed waits for that outcome (a pub/sub notification, or a re-read every `pollMs`)
 * and replays it; past its deadline it answers ORDER_UNCONFIRMED (reconcile by clientOid) and sends
 * nothing. A claim whose replica died expires (`leaseMs`) and the next request takes it over,
 * settling what the claimant may have sent (reconciling by clientOid) before anything new.
 *
 * Redis unreachable: the request runs on this replica's own store (`IdempotencyStore`), and a key
 * that store does not hold is settled first (`policy.unseen`: for an order, the lookup by clientOid
 * and the done orders of the record's lifetime) before anything is placed, since another replica may
 * have used it. What is left is KuCoin's own guard: a clientOid repeated while its order is open is
 * refused (300018) and reconciled into a replay or a 409. Two replicas without Redis given the same
 * key at the same instant could both find nothing and both POST; the second is refused by KuCoin
 * unless the first order was already done and KuCoin forgets done orders' clientOids (not known:
 * docs/kucoin.md §6).
 */
export class RedisIdempotencyStore<T, P = never> implements IdempotencyRecords<T, P> {
  readonly #shared: SharedRedis;
  readonly #leaseMs: number;
  readonly #ttlMs: number;
  readonly #pollMs: number;
  readonly #replica: string;
  readonly #channel: string;
  readonly #local: IdempotencyStore<T, P>;
  /** Wake-ups of the requests waiting on a record, by record key. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Outcomes decided on the local store while Redis was unreachable, by record key, oldest first. */
  readonly #unwritten = new Map<string, Unwritten>();
  /**
   * Outcomes this replica wrote to Redis, oldest first, with when they expire: written back if Redis
   * comes back without its data (restarted without persistence), so another replica replays them.
   */
  readonly #known = new Map<string, Unwritten & { expiresAt: number }>();
  /** The value of the epoch key when this replica last looked: a different one means Redis lost its data. */
  #epoch: string | undefined;
  /** The epoch check running since the connection came back; claims wait for it. */
  #epochCheck: Promise<void> | undefined;
  /** Until when claims wait: Redis lost its records, and the other replicas are writing theirs back. */
  #recoveringUntil = 0;
  #subscribed = false;

  constructor(options: RedisIdempotencyOptions) {
    this.#shared = options.shared;
    this.#leaseMs = options.leaseMs;
    this.#ttlMs = options.ttlMs ?? DAY_MS;
    this.#pollMs = options.pollMs ?? 200;
    this.#replica = options.replica ?? `${hostname()}:${process.pid}`;
    this.#channel = options.shared.key('idem-outcome');
    this.#local = new IdempotencyStore<T, P>({ ttlMs: this.#ttlMs });
    const client = options.shared.client;
    if (typeof (client as unknown as Record<string, unknown>)['idemClaim'] !== 'function') {
      client.defineCommand('idemClaim', { numberOfKeys: 1, lua: CLAIM });
      client.defineCommand('idemWrite', { numberOfKeys: 1, lua: WRITE });
      client.defineCommand('idemPutIfAbsent', { numberOfKeys: 1, lua: PUT_IF_ABSENT });
    }
    // Another replica must see what this one decided alone, or it could place the key's order again.
    options.shared.onStatus((up) => {
      if (!up) return;
      this.#epochCheck = this.#checkEpoch().finally(() => (this.#epochCheck = undefined));
      void this.#epochCheck.then(() => this.#writeBack());
    });
    if (options.shared.up) this.#epochCheck = this.#checkEpoch().finally(() => (this.#epochCheck = undefined));
  }

  /** Keys whose outcome this replica keeps for a write-back after Redis lost its data. */
  get knownSize(): number {
    return this.#known.size;
  }

  /**
   * Reads the epoch key (made once, by the first replica to find none). A replica that saw another
   * value before is looking at a Redis that lost its data: it writes back every outcome it knows, and
   * its claims wait RECOVERY_MS for the other replicas to write back theirs (each does on its own
   * reconnection, at most a second after Redis returns).
   */
  async #checkEpoch(): Promise<void> {
    const key = this.#shared.key('idem-epoch');
    try {
      const client = this.#shared.client;
      const mine = randomUUID();
      const current = (await client.set(key, mine, 'NX')) === 'OK' ? mine : await client.get(key);
      if (current === null) return;
      const lost = this.#epoch !== undefined && current !== this.#epoch;
      this.#epoch = current;
      if (!lost) return;
      this.#recoveringUntil = Date.now() + RECOVERY_MS;
      this.#shared.failed('idempotency', new Error('Redis came back without the idempotency records; writing back the ones this replica knows'));
      const now = Date.now();
      for (const [record, entry] of this.#known) {
        if (entry.expiresAt <= now) continue;
        await this.#command('idemPutIfAbsent', record, entry.fingerprint, entry.state, randomUUID(), this.#replica, entry.outcome, entry.settle, String(entry.expiresAt - now));
      }
    } catch (error) {
      this.#shared.failed('idempotency', error);
    }
  }

  #remember(record: string, entry: Unwritten): void {
    this.#known.delete(record);
    this.#known.set(record, { ...entry, expiresAt: Date.now() + this.#ttlMs });
    if (this.#known.size > MAX_KNOWN) this.#known.delete(this.#known.keys().next().value!);
  }

  /** Keys settled on this replica's own store while Redis was unreachable. */
  get localSize(): number {
    return this.#local.size;
  }

  /** Outcomes decided without Redis and not yet written back. */
  get unwritten(): number {
    return this.#unwritten.size;
  }

  async run(
    key: string,
    request: unknown,
    action: (pending: P | undefined) => Promise<T>,
    policyIn: OutcomePolicy<P, T> | ((error: unknown) => boolean),
    scope: RequestScope | null,
  ): Promise<{ value: T; replayed: boolean }> {
    const policy: OutcomePolicy<P, T> = typeof policyIn === 'function' ? { isFinal: policyIn } : policyIn;
    const fingerprint = fingerprintOf(request);
    const record = this.#shared.key('idem', key);
    const token = randomUUID();
    // The answer must leave before the deadline: stop waiting a little earlier.
    const deadline = scope?.deadline;
    let waitedOn = '';
    for (;;) {
      const now = Date.now();
      const abandoned = policy.abandoned?.(now, now + this.#leaseMs, undefined);
      let reply: ClaimReply;
      try {
        if (this.#epochCheck) await this.#epochCheck;
        // Redis lost its records a moment ago: the other replicas are writing back theirs. A claim
        // now would take a key whose outcome is about to come back, so it waits for that first.
        // At most a quarter of what the request has left, so the order still fits in its deadline.
        const recovering = Math.min(this.#recoveringUntil - Date.now(), deadline === undefined ? Number.POSITIVE_INFINITY : (deadline - Date.now()) / 4);
        if (recovering > 0) await new Promise((resolve) => setTimeout(resolve, recovering));
        if (this.#unwritten.has(record)) await this.#writeBack(record);
        reply = await this.#command<ClaimReply>('idemClaim', record, fingerprint, token, this.#replica, String(this.#leaseMs), String(this.#ttlMs), abandoned === undefined ? '' : JSON.stringify(abandoned), waitedOn);
      } catch (error) {
        this.#shared.failed('idempotency', error);
        return this.#runLocally(key, record, fingerprint, request, action, policy);
      }
      if (!readable(reply)) {
        this.#shared.failed('idempotency', new Error(`unreadable idempotency record ${record}`));
        return this.#runLocally(key, record, fingerprint, request, action, policy);
      }
      switch (reply[0]) {
        case 'conflict': {
          const earlier = reply[1] === '' ? undefined : (JSON.parse(reply[1]) as Outcome<T>);
          throw policy.conflict ? await policy.conflict(key, earlier && 'value' in earlier ? earlier.value : undefined) : idempotencyConflict(key);
        }
        case 'final':
        case 'failed': {
          const outcome = JSON.parse(reply[1]) as Outcome<T>;
          if ('error' in outcome) throw revive(outcome.error);
          return { value: outcome.value, replayed: true };
        }
        case 'busy': {
          const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - ANSWER_MARGIN_MS - Date.now();
          if (left <= 0) throw (policy.stillRunning ?? stillRunningDefault)(key);
          waitedOn = reply[1];
          await this.#wait(record, Math.min(left, Number(reply[2]) + 1, this.#pollMs));
          continue;
        }
        case 'takeover': {
          const settling = reply[1] === '' ? undefined : (JSON.parse(reply[1]) as P);
          if (settling !== undefined && policy.abandoned) {
            // What a later takeover settles, should this claimant die too: the earlier try and this one.
            const merged = policy.abandoned(now, now + this.#leaseMs, settling);
            await this.#write(record, token, 'claimed', '', JSON.stringify(merged), '');
          }
          return this.#runClaimed(record, fingerprint, token, action, policy, settling);
        }
        case 'fresh':
          return this.#runClaimed(record, fingerprint, token, action, policy, undefined);
      }
    }
  }

  /**
   * Redis unreachable: this replica's own store, settling first a key it does not hold (another
   * replica may have used it), and the outcome kept to be written back when Redis returns.
   */
  async #runLocally(key: string, record: string, fingerprint: string, request: unknown, action: (pending: P | undefined) => Promise<T>, policy: OutcomePolicy<P, T>): Promise<{ value: T; replayed: boolean }> {
    try {
      const result = await this.#local.run(key, request, action, policy, null, { unseen: true });
      this.#keepUnwritten(record, { fingerprint, state: 'final', outcome: JSON.stringify({ value: result.value }), settle: '' });
      return result;
    } catch (error) {
      const stored = storedError(error);
      const pending = policy.pendingOf?.(error);
      if (stored && pending !== undefined) this.#keepUnwritten(record, { fingerprint, state: 'pending', outcome: JSON.stringify({ error: stored }), settle: JSON.stringify(pending) });
      else if (stored && policy.isFinal(error)) this.#keepUnwritten(record, { fingerprint, state: 'final', outcome: JSON.stringify({ error: stored }), settle: '' });
      throw error;
    }
  }

  #keepUnwritten(record: string, entry: Unwritten): void {
    this.#unwritten.delete(record);
    this.#unwritten.set(record, entry);
    if (this.#unwritten.size > MAX_UNWRITTEN) this.#unwritten.delete(this.#unwritten.keys().next().value!);
  }

  /** Writes back what was decided without Redis (one record, or all), where Redis holds nothing for the key. Throws when Redis fails. */
  async #writeBack(only?: string): Promise<void> {
    const records = only === undefined ? [...this.#unwritten.keys()] : [only];
    for (const record of records) {
      const entry = this.#unwritten.get(record);
      if (!entry) continue;
      try {
        await this.#command('idemPutIfAbsent', record, entry.fingerprint, entry.state, randomUUID(), this.#replica, entry.outcome, entry.settle, String(this.#ttlMs));
      } catch (error) {
        // A claim's own write-back failing is counted by the claim.
        if (only !== undefined) throw error;
        this.#shared.failed('idempotency', error);
        return;
      }
      if (this.#unwritten.get(record) === entry) this.#unwritten.delete(record);
    }
  }

  async #runClaimed(record: string, fingerprint: string, token: string, action: (pending: P | undefined) => Promise<T>, policy: OutcomePolicy<P, T>, pending: P | undefined): Promise<{ value: T; replayed: boolean }> {
    const written = (state: 'final' | 'pending', outcome: string, settle: string) => {
      this.#remember(record, { fingerprint, state, outcome, settle });
      return this.#write(record, token, state, outcome, settle, this.#channel);
    };
    let value: T;
    try {
      value = await action(pending);
    } catch (error) {
      const next = policy.pendingOf?.(error) ?? (policy.isFinal(error) ? undefined : pending);
      const stored = storedError(error);
      const outcome = JSON.stringify({ error: stored ?? { code: 'INTERNAL_ERROR', message: 'Internal error', options: {} } });
      if (next !== undefined) await written('pending', outcome, JSON.stringify(next));
      else if (policy.isFinal(error) && stored) await written('final', outcome, '');
      else await this.#write(record, token, 'forgotten', outcome, '', this.#channel, this.#leaseMs);
      throw error;
    }
    await written('final', JSON.stringify({ value }), '');
    return { value, replayed: false };
  }

  /**
   * A failed write leaves the claim in place: once its lease ends, the next request takes it over
   * and settles it by clientOid (finding this order), so the outcome is not lost, only slower.
   */
  async #write(record: string, token: string, state: string, outcome: string, settle: string, channel: string, ttlMs = this.#ttlMs): Promise<void> {
    try {
      await this.#command('idemWrite', record, token, state, outcome, settle, String(ttlMs), channel, record);
    } catch (error) {
      this.#shared.failed('idempotency', error);
    }
  }

  #command<R>(name: 'idemClaim' | 'idemWrite' | 'idemPutIfAbsent', ...args: string[]): Promise<R> {
    const client = this.#shared.client as unknown as Record<string, (...a: string[]) => Promise<R>>;
    return client[name]!(...args);
  }

  /** Resolves when the record's outcome is published, or after `ms` (then the caller re-reads it). */
  #wait(record: string, ms: number): Promise<void> {
    if (!this.#subscribed) {
      this.#subscribed = true;
      this.#shared.subscribe(this.#channel, (message) => {
        for (const wake of this.#waiters.get(message) ?? []) wake();
      });
    }
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(record);
      if (!waiters) this.#waiters.set(record, (waiters = new Set()));
      const set = waiters;
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#waiters.get(record) === set) this.#waiters.delete(record);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      set.add(done);
    });
  }
}

/** Time kept before the request's deadline for the answer to leave. */
const ANSWER_MARGIN_MS = 50;
