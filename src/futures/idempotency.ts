import { createHash } from 'node:crypto';
import { GatewayError } from '../http/errors.js';

interface Entry<T> {
  fingerprint: string;
  outcome: Promise<T>;
  expiresAt: number;
}

export interface IdempotencyOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/**
 * Remembers the outcome of a request by its idempotency key (the order's clientOid), so a
 * repeated request gets the first answer and nothing new goes upstream (design.md §7).
 * Only outcomes that are final are kept: a success, or KuCoin's business "no". An outcome that
 * leaves the order's fate unknown is forgotten, so a retry with the same key runs again; KuCoin
 * rejects a repeated clientOid (300018), which the orders service reconciles.
 * In-memory: a restart forgets, and several gateway processes do not share it (documented).
 */
export class IdempotencyStore<T> {
  readonly #entries = new Map<string, Entry<T>>();
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
   * shares the first outcome (`replayed: true`); the same key with another request is a 409.
   */
  async run(key: string, request: unknown, action: () => Promise<T>, isFinal: (error: unknown) => boolean): Promise<{ value: T; replayed: boolean }> {
    const fingerprint = fingerprintOf(request);
    const now = this.#now();
    const existing = this.#entries.get(key);
    if (existing && existing.expiresAt > now) {
      if (existing.fingerprint !== fingerprint) {
        throw new GatewayError('IDEMPOTENCY_CONFLICT', `Idempotency key ${JSON.stringify(key)} was already used for a different request.`, { clientOid: key });
      }
      return { value: await existing.outcome, replayed: true };
    }
    this.#evict(now);
    const outcome = action();
    this.#entries.set(key, { fingerprint, outcome, expiresAt: now + this.#ttlMs });
    try {
      return { value: await outcome, replayed: false };
    } catch (error) {
      if (!isFinal(error)) this.#entries.delete(key);
      throw error;
    }
  }

  get size(): number {
    return this.#entries.size;
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
