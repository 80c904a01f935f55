import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';

/**
 * The inbound limit's windows in this process's memory, counted SYNCHRONOUSLY: the same semantics as
 * express-rate-limit's MemoryStore (a fixed window of `windowMs` per key, starting at the key's
 * first hit; `totalHits` and `resetTime`), but `hit` returns the count in the same tick. The
 * library's store is awaited, and the request went on in a later microtask behind a promise: that,
 * its middleware's awaits and their promise hooks were ~20–25 µs of each limited request by
 * ablation (docs/performance.md, benchmark 1).
 *
 * Memory is bounded as in MemoryStore: keys live in `current`; once a window has passed, `current`
 * becomes `previous` and the old `previous` (keys not seen for a whole window, all expired) is
 * dropped. MemoryStore rotates on a timer; here the rotation is done by the next hit, so no timer
 * is held. The async Store methods let the same object stand where a Store is expected.
 */
export class LocalWindows implements Store {
  readonly localKeys = true;
  #windowMs: number;
  #current = new Map<string, { totalHits: number; resetTime: Date }>();
  #previous = new Map<string, { totalHits: number; resetTime: Date }>();
  #rotateAt: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
    this.#rotateAt = Date.now() + windowMs;
  }

  init(options: Options): void {
    this.#windowMs = options.windowMs;
  }

  /** Counts one hit for `key` now; the object returned is the key's live window (read it, do not keep it). */
  hit(key: string): IncrementResponse {
    const now = Date.now();
    if (now >= this.#rotateAt) {
      this.#previous = this.#current;
      this.#current = new Map();
      this.#rotateAt = now + this.#windowMs;
    }
    let client = this.#current.get(key);
    if (client === undefined) {
      client = this.#previous.get(key);
      if (client === undefined) client = { totalHits: 0, resetTime: new Date(now + this.#windowMs) };
      else this.#previous.delete(key);
      this.#current.set(key, client);
    }
    if (client.resetTime.getTime() <= now) {
      client.totalHits = 0;
      client.resetTime = new Date(now + this.#windowMs);
    }
    client.totalHits++;
    return client;
  }

  /** Keys held (both generations): for tests of the bound. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  async increment(key: string): Promise<IncrementResponse> {
    return this.hit(key);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const client = this.#current.get(key) ?? this.#previous.get(key);
    if (client === undefined || client.resetTime.getTime() <= Date.now()) return undefined;
    return client;
  }

  async decrement(key: string): Promise<void> {
    const client = this.#current.get(key) ?? this.#previous.get(key);
    if (client !== undefined && client.totalHits > 0) client.totalHits--;
  }

  async resetKey(key: string): Promise<void> {
    this.#current.delete(key);
    this.#previous.delete(key);
  }

  async resetAll(): Promise<void> {
    this.#current.clear();
    this.#previous.clear();
  }

  shutdown(): void {
    void this.resetAll();
  }
}
