import type { SharedRedis } from '../../redis/shared-redis.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** What a connection attempt may do now: start, or wait `retryInMs` (plus up to `jitterMs`). */
export type PaceVerdict = { admitted: true; limiter: 'shared' | 'local' } | { admitted: false; limiter: 'shared' | 'local'; retryInMs: number; jitterMs: number };

/** What the supervisor asks before each new connection attempt (token request and connect). */
export interface ConnectPacing {
  take(): Promise<PaceVerdict>;
}

export interface ConnectPacerOptions {
  /** The shared Redis (SharedRedis); without it the process paces itself alone. */
  shared?: Pick<SharedRedis, 'client' | 'key' | 'up' | 'failed'>;
  /** Whose connections these are (a fingerprint of the KuCoin API key, never the key). */
  account: string;
  /** New connections per window, for the whole account. Default 4. */
  points?: number;
  /** The window in whole seconds (rate-limiter-flexible's unit). Default 10. */
  durationSeconds?: number;
  /**
   * This replica's own allowance per window while Redis cannot be reached. Default 1: every replica
   * falls back at once in an outage, and 4 replicas × 1 per 10 s stay within 28 a minute.
   */
  fallbackPoints?: number;
}

/**
 * KuCoin allows 30 new private-stream connections a minute per user (docs/kucoin.md "The private
 * WebSocket"); every replica holds its own connection, so their reconnects are counted together.
 * rate-limiter-flexible's counters are fixed windows: n points per d seconds can let 2n through
 * around a boundary, and a minute covers at most 60/d + 1 windows. 4 per 10 s is 24 a minute
 * sustained and at most 28 in any 60 s; 24 per 60 s would allow 48.
 *
 * The shared counter is a RateLimiterRedis (one key per account); a RateLimiterMemory is its
 * insurance, used (and counted, `shared.failed('stream_pacing')`) whenever Redis cannot answer,
 * and is the only limiter without REDIS_URL. Its errors are caught here rather than through the
 * library's `insuranceLimiter`, which would fall back silently.
 */
export class ConnectPacer implements ConnectPacing {
  readonly #shared: ConnectPacerOptions['shared'];
  readonly #redis: RateLimiterRedis | undefined;
  readonly #memory: RateLimiterMemory;
  readonly #account: string;
  readonly #jitterMs: number;

  constructor(options: ConnectPacerOptions) {
    const points = options.points ?? 4;
    const duration = options.durationSeconds ?? 10;
    if (!(Number.isInteger(points) && points > 0 && Number.isInteger(duration) && duration > 0)) throw new RangeError('pacing needs whole positive points and seconds');
    this.#shared = options.shared;
    this.#account = options.account;
    this.#jitterMs = Math.min(1_000, duration * 100);
    this.#redis =
      options.shared &&
      new RateLimiterRedis({ storeClient: options.shared.client, points, duration, keyPrefix: options.shared.key('stream', 'connects'), rejectIfRedisNotReady: true });
    this.#memory = new RateLimiterMemory({ points: options.shared ? (options.fallbackPoints ?? 1) : points, duration });
  }

  async take(): Promise<PaceVerdict> {
    if (this.#redis && this.#shared) {
      if (this.#shared.up) {
        try {
          await this.#redis.consume(this.#account);
          return { admitted: true, limiter: 'shared' };
        } catch (error) {
          if (error instanceof RateLimiterRes) return this.#refused('shared', error);
          this.#shared.failed('stream_pacing', error);
        }
      } else {
        this.#shared.failed('stream_pacing', new Error('shared Redis not connected'));
      }
    }
    try {
      await this.#memory.consume(this.#account);
      return { admitted: true, limiter: 'local' };
    } catch (error) {
      if (error instanceof RateLimiterRes) return this.#refused('local', error);
      throw error;
    }
  }

  #refused(limiter: 'shared' | 'local', res: RateLimiterRes): PaceVerdict {
    return { admitted: false, limiter, retryInMs: Math.max(1, res.msBeforeNext), jitterMs: this.#jitterMs };
  }
}
