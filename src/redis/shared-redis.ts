import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';

/** What the gateway uses the shared Redis for; the label of `gateway_redis_errors_total`. */
export type RedisUse = 'switch' | 'idempotency' | 'budget' | 'inbound_limit' | 'stream_pacing' | 'fences';

export interface SharedRedisOptions {
  /** REDIS_URL (may hold a password: never logged). */
  url: string;
  /** REDIS_KEY_PREFIX: put before every key and channel by `key()`. */
  keyPrefix: string;
  logger: Logger;
  metrics: Pick<Metrics, 'redisUp' | 'redisErrors'>;
  /** How long one command may take before it fails (default 500 ms): a slow Redis must not hold requests. */
  commandTimeoutMs?: number;
}

type StatusListener = (up: boolean) => void;

/** ioredis's error for a command past `commandTimeout`. */
const isTimeout = (error: unknown): boolean => error instanceof Error && /timed out/i.test(error.message);

/** How long users are told Redis is down after a failed command, before they try it again. */
const SUSPECT_MS = 1_000;

/**
 * The Redis every replica shares (REDIS_URL), as the gateway uses it: one connection for commands
 * and, made on first use, one for subscriptions.
 *
 * While Redis is unreachable a command fails at once (no offline queue) or after
 * `commandTimeoutMs`, never waits for a reconnection: each user of the store decides what a replica
 * does without it (keep its last known state, fall back to its own memory, refuse with a typed 503),
 * and calls `failed()` so the outage is counted and logged. The connection itself reconnects on its
 * own, every at most second; `up` and `onStatus` say where it stands.
 *
 * ioredis's `keyPrefix` option is not used: it does not reach every path (Lua scripts' keys built in
 * the script, other libraries' raw commands), so every key is built with `key()` instead.
 */
export class SharedRedis {
  readonly client: Redis;
  readonly #options: SharedRedisOptions;
  #subscriber: Redis | undefined;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  readonly #listeners = new Set<StatusListener>();
  #up = false;
  /** Per use, until when `available(use)` says false after a command timed out on a live connection. */
  readonly #suspectUntil = new Map<RedisUse, number>();
  /** Whether the current outage was logged already (one line per outage, not one per retry). */
  #outageLogged = false;
  #closed = false;

  constructor(options: SharedRedisOptions) {
    this.#options = options;
    options.metrics.redisUp.set(0);
    this.client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: 1_000,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
      // Scripts are loaded with SCRIPT LOAD by their users when needed; nothing else is set per connection.
      enableReadyCheck: true,
    });
    this.client.on('ready', () => this.#setUp(true));
    this.client.on('close', () => this.#setUp(false));
    this.client.on('error', (error: Error) => {
      if (this.#outageLogged) return;
      this.#outageLogged = true;
      // ioredis's messages name the host and port, never the URL's password.
      options.logger.warn({ event: 'redis_unreachable', err: { message: error.message } }, 'shared Redis unreachable; each replica runs on what it last knew');
    });
  }

  /** `REDIS_KEY_PREFIX` + the parts joined with `:`. */
  key(...parts: string[]): string {
    return this.#options.keyPrefix + parts.join(':');
  }

  /** Connected and ready for commands. */
  get up(): boolean {
    return this.#up;
  }

  /**
   * Connected, and no command of `use` timed out in the last `SUSPECT_MS`. A Redis that is connected
   * but silent (paused, overloaded) fails each command only after the command timeout: a user on
   * every request's path asks this, so that its requests do not each wait that long before falling
   * back. Per use: one slow command of one use does not send the others to their fallbacks.
   */
  available(use: RedisUse): boolean {
    return this.#up && Date.now() >= (this.#suspectUntil.get(use) ?? 0);
  }

  /** Calls `listener` on every change of `up`; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves true once ready, false when `timeoutMs` passes first (a replica starting without Redis). */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.#up) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const off = this.onStatus((up) => {
        if (!up) return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /** Counts a failed command of `use` (the caller decides what to do instead). */
  failed(use: RedisUse, error: unknown): void {
    this.#options.metrics.redisErrors.inc({ use });
    // Only a command that timed out on a live connection (a silent Redis) makes it suspect; a closed
    // connection is `up: false` already. Not pushed further by the failures counted while users skip
    // Redis: after a second it is tried again.
    const now = Date.now();
    if (this.#up && isTimeout(error) && now >= (this.#suspectUntil.get(use) ?? 0)) this.#suspectUntil.set(use, now + SUSPECT_MS);
    if (!this.#outageLogged) {
      this.#outageLogged = true;
      this.#options.logger.warn({ event: 'redis_command_failed', use, err: { message: error instanceof Error ? error.message : String(error) } }, `shared Redis command failed (${use})`);
    }
  }

  /**
   * Delivers every message published on `channel` (a full key, from `key()`) to `handler`, also
   * after a reconnection (ioredis subscribes again). Returns the unsubscribe function.
   */
  subscribe(channel: string, handler: (message: string) => void): () => void {
    const subscriber = (this.#subscriber ??= this.#makeSubscriber());
    let handlers = this.#handlers.get(channel);
    if (handlers === undefined) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      subscriber.subscribe(channel).catch((error: unknown) => this.failed('switch', error));
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.#handlers.get(channel) === handlers) {
        this.#handlers.delete(channel);
        subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    // The subscriber has nothing to finish, and with its offline queue a QUIT sent while Redis is
    // down would wait for Redis forever: it is simply cut. The command connection finishes what it
    // sent (an idempotency outcome, a flip) and fails at once while Redis is down.
    this.#subscriber?.disconnect();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  #makeSubscriber(): Redis {
    // Its own connection (a subscribed connection takes no other command). The offline queue is on
    // here, so a SUBSCRIBE made while Redis is down is sent once it is back.
    const subscriber = this.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    subscriber.on('error', () => undefined); // the command connection logs the outage
    subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    });
    return subscriber;
  }

  #setUp(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    this.#options.metrics.redisUp.set(up ? 1 : 0);
    if (up) {
      this.#suspectUntil.clear();
      if (this.#outageLogged) this.#options.logger.info({ event: 'redis_reachable' }, 'shared Redis reachable again');
      this.#outageLogged = false;
    }
    for (const listener of this.#listeners) listener(up);
  }
}
