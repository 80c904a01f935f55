import { createHash } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { RequestScope } from '../request-scope.js';

interface Entry<T, P> {
  fingerprint: string;
  /** The outcome, in flight or final. */
  outcome?: Promise<T>;
  /** The outcome's value once it succeeded (for a conflict's answer). */
  value?: T;
  /** Set instead of `outcome` while an earlier try's fate is unknown: what settling it needs. */
  pending?: P;
  expiresAt: number;
}

export interface IdempotencyOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** Which failures the store keeps, and how. */
export interface OutcomePolicy<P, T = unknown> {
  /** The 409 for the key reused with another request, given the key's earlier success when there is one (default: idempotencyConflict). */
  conflict?(key: string, earlier: T | undefined): Promise<Error>;
  /**
   * What settling needs when the key may have been used where this store cannot see: by another
   * replica while the shared store is unreachable, at any time in a record's lifetime (`ttlMs`).
   * Given, the store runs the action with it instead of placing blindly.
   */
  unseen?(now: number, ttlMs: number): P;
  /**
   * What settling needs if the claim made now is abandoned (its replica dies mid-request): the
   * try may be sent until `leaseUntil` (epoch ms); `settling` is the earlier try this claim settles.
   */
  abandoned?(now: number, leaseUntil: number, settling: P | undefined): P;
  /** The error for a request that waited for another replica's claim until its deadline (nothing was sent). */
  stillRunning?(key: string): Error;
  /** A failure kept and replayed as it is (a business "no"). */
  isFinal(error: unknown): boolean;
  /**
   * A failure after which the key's order may exist: what the next request with the key needs to
   * settle it first (handed to its action). Such a key is never simply forgotten.
   */
  pendingOf?(error: unknown): P | undefined;
}

/** Runs an action once per idempotency key: the in-process store, or the Redis one every replica shares. */
export interface IdempotencyRecords<T, P = never> {
  /**
   * Runs `action` once per key. A concurrent or later call with the same key and the same request
   * shares the first outcome (`replayed: true`); the same key with another request is a 409. After
   * a pending outcome the next call runs `action(pending)` first. `scope`: the request's (its
   * deadline bounds a wait for another replica's claim); null for none.
   */
  run(
    key: string,
    request: unknown,
    action: (pending: P | undefined) => Promise<T>,
    policy: OutcomePolicy<P, T> | ((error: unknown) => boolean),
    scope: RequestScope | null,
  ): Promise<{ value: T; replayed: boolean }>;
}

/** The 409 for a key reused with another request. */
export const idempotencyConflict = (key: string) =>
  new GatewayError('IDEMPOTENCY_CONFLICT', `Idempotency key ${JSON.stringify(key)} was already used for a different request.`, { clientOid: key });

/**
 * Remembers the outcome of a request by its idempotency key (the order's clientOid), so a
 * repeated request gets the first answer and nothing new goes upstream: a retried POST must not place a second order.
 * Final outcomes are kept: a success, or KuCoin's business "no". An outcome that leaves the
 * order's fate unknown is kept as pending: the next request with the key gets it and must settle
 * it (look the order up) before placing anything. Other failures (the call was never sent, a
 * rate limit) are forgotten, so the key runs again.
 * In-memory: a restart forgets it. Replicas share `RedisIdempotencyStore` (idempotency-redis.ts)
 * instead, which falls back to this one while Redis is unreachable.
 */
export class IdempotencyStore<T, P = never> implements IdempotencyRecords<T, P> {
  readonly #entries = new Map<string, Entry<T, P>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: IdempotencyOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 24 * 3_600_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs `action` once per key. A concurrent or later call with the same key and the same request
   * shares the first outcome (`replayed: true`); the same key with another request is a 409. After
   * a pending outcome the next call runs `action(pending)`, and concurrent ones share that run.
   * `unseen`: the key may have been used where this store cannot see (the shared store is
   * unreachable): a key this store does not hold is settled with `policy.unseen` first.
   * `_scope`: unused here (nothing waits on another replica), taken as every store's `run` takes it.
   */
  async run(
    key: string,
    request: unknown,
    action: (pending: P | undefined) => Promise<T>,
    policy: OutcomePolicy<P, T> | ((error: unknown) => boolean),
    _scope: RequestScope | null = null,
    options: { unseen?: boolean } = {},
  ): Promise<{ value: T; replayed: boolean }> {
    const { isFinal, pendingOf, unseen, conflict } = typeof policy === 'function' ? { isFinal: policy, pendingOf: undefined, unseen: undefined, conflict: undefined } : policy;
    const fingerprint = fingerprintOf(request);
    const now = this.#now();
    const found = this.#entries.get(key);
    const existing = found && found.expiresAt > now ? found : undefined;
    if (existing) {
      if (existing.fingerprint !== fingerprint) {
        throw conflict ? await conflict(key, existing.value) : idempotencyConflict(key);
      }
      if (existing.outcome) return { value: await existing.outcome, replayed: true };
    } else {
      this.#evict(now);
    }
    const pending = existing ? existing.pending : options.unseen ? unseen?.(now, this.#ttlMs) : undefined;
    const outcome = action(pending);
    this.#set(key, { fingerprint, outcome, expiresAt: now + this.#ttlMs });
    try {
      const value = await outcome;
      const entry = this.#entries.get(key);
      if (entry?.outcome === outcome) entry.value = value;
      return { value, replayed: false };
    } catch (error) {
      const next = pendingOf?.(error) ?? (isFinal(error) ? undefined : pending);
      if (next !== undefined) this.#set(key, { fingerprint, pending: next, expiresAt: this.#now() + this.#ttlMs });
      else if (!isFinal(error)) this.#entries.delete(key);
      throw error;
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Re-inserted at the end, so insertion order stays expiry order. */
  #set(key: string, entry: Entry<T, P>): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  #evict(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now || this.#entries.size >= this.#maxEntries) this.#entries.delete(key);
      else break; // insertion order is expiry order: the rest are younger
    }
  }
}

/** Canonical JSON (sorted keys) hashed, so key order in a body does not make two requests differ. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
