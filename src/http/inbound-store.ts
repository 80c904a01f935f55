import { MemoryStore, type ClientRateLimitInfo, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { SharedRedis } from '../redis/shared-redis.js';

/**
 * The inbound limit's windows shared by every replica (rate-limit-redis on the shared Redis), with
 * this replica's own MemoryStore standing in while Redis cannot be reached: a caller is then
 * limited per replica (up to replicas × RATE_LIMIT_MAX behind a balancer), never refused with a
 * 5xx and never let through unbounded. Back on Redis, the shared window counts again (what was
 * counted in memory meanwhile is not carried over).
 *
 * rate-limit-redis loads its Lua scripts in `init` and keeps the SHA promises: a load that failed
 * (Redis down at start, or down when a NOSCRIPT reload ran) would reject every later call. So after
 * any failure the scripts are loaded again before Redis is used; a Redis that restarted empty
 * answers NOSCRIPT, which rate-limit-redis itself recovers from by reloading.
 *
 * A Redis that is connected but slow fails a command only after the command timeout (500 ms): after
 * any failure this store counts in memory for `RETRY_AFTER_MS` before it asks Redis again, so a
 * slow Redis delays one request per second rather than every one.
 */
const RETRY_AFTER_MS = 1_000;

export class SharedInboundStore implements Store {
  readonly prefix: string;
  readonly #shared: SharedRedis;
  readonly #redis: RedisStore;
  readonly #memory = new MemoryStore();
  #options: Options | undefined;
  /** Set after a failure: the scripts are (re)loaded before Redis is used again. */
  #reload: Promise<void> | undefined;
  #needsLoad = true;
  /** Memory only until then (epoch ms), after a failure. */
  #retryAt = 0;

  constructor(shared: SharedRedis) {
    this.#shared = shared;
    // A new connection: ask Redis again at once.
    shared.onStatus((up) => {
      if (up) this.#retryAt = 0;
    });
    this.prefix = shared.key('inbound', '');
    this.#redis = new RedisStore({
      prefix: this.prefix,
      sendCommand: (command: string, ...args: string[]) => shared.client.call(command, ...args) as Promise<string | number | (string | number)[]>,
    });
  }

  init(options: Options): void {
    if (this.#options?.windowMs === options.windowMs) return;
    this.#options = options;
    this.#memory.init(options);
    // Scripts are loaded on first use (#redisReady), so a Redis down at start rejects nothing here.
    this.#needsLoad = true;
  }

  async increment(key: string): Promise<IncrementResponse> {
    return this.#either((store) => store.increment(key));
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.#either((store) => store.get(key));
  }

  async decrement(key: string): Promise<void> {
    return this.#either((store) => store.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    return this.#either((store) => store.resetKey(key));
  }

  shutdown(): void {
    this.#memory.shutdown();
  }

  async #either<T>(use: (store: RedisStore | MemoryStore) => Promise<T>): Promise<T> {
    if (!this.#shared.up || Date.now() < this.#retryAt) {
      this.#fallBack(new Error(this.#shared.up ? 'shared Redis failed a moment ago' : 'shared Redis not connected'), false);
      return use(this.#memory);
    }
    try {
      await this.#scriptsLoaded();
      return await use(this.#redis);
    } catch (error) {
      this.#fallBack(error);
      return use(this.#memory);
    }
  }

  #scriptsLoaded(): Promise<void> {
    if (!this.#needsLoad) return Promise.resolve();
    this.#reload ??= this.#redis.init(this.#options ?? ({ windowMs: 60_000 } as Options)).then(
      () => {
        this.#needsLoad = false;
        this.#reload = undefined;
      },
      (error: unknown) => {
        this.#reload = undefined;
        throw error;
      },
    );
    return this.#reload;
  }

  #fallBack(error: unknown, failedNow = true): void {
    if (failedNow) this.#retryAt = Date.now() + RETRY_AFTER_MS;
    this.#needsLoad = true;
    this.#shared.failed('inbound_limit', error);
  }
}
