/**
 * KuCoin's pushes, applied one at a time in arrival order, so clients see KuCoin's order of
 * events even when applying one waits for a REST read (a cache miss). Bounded: a feed that falls
 * this far behind drops pushes, and once it has caught up nothing it cached can be trusted, so the
 * feed takes fresh snapshots (`caughtUp`).
 */
import type { Logger } from 'pino';
import type { UpstreamPush } from '../kucoin/stream/supervisor.js';
import { errorInfo } from './feed-messages.js';

export interface PushQueueOptions {
  apply: (push: UpstreamPush) => Promise<void>;
  logger: Logger;
  /** Pushes waiting at most; more are dropped. */
  maxQueued: number;
  /** Called once the queue is empty again after it dropped pushes. */
  caughtUp: () => void;
}

export class PushQueue {
  readonly #options: PushQueueOptions;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #overflowed = false;

  constructor(options: PushQueueOptions) {
    this.#options = options;
  }

  /** Pushes are waiting to be applied: what is cached is behind what KuCoin has said. */
  get pending(): boolean {
    return this.#queued > 0;
  }

  /** Pushes were dropped and the queue has not caught up yet. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  add(push: UpstreamPush): void {
    const { apply, logger, maxQueued, caughtUp } = this.#options;
    if (this.#queued >= maxQueued) {
      if (!this.#overflowed) logger.error({ event: 'ws_feed_overflow', queued: this.#queued }, 'live feed fell behind KuCoin; pushes dropped, clients will get fresh snapshots');
      this.#overflowed = true;
      return;
    }
    this.#queued += 1;
    this.#queue = this.#queue
      .then(() => apply(push))
      .catch((error: unknown) => logger.warn({ event: 'ws_push_dropped', subject: push.subject, topic: push.topic, err: errorInfo(error) }, `KuCoin push ${push.subject} could not be applied`))
      .finally(() => {
        this.#queued -= 1;
        if (this.#queued === 0 && this.#overflowed) {
          this.#overflowed = false;
          caughtUp();
        }
      });
  }
}
