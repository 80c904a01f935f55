/**
 * The topics the feed keeps subscribed upstream: those naming every member's watched symbols and
 * those held by operations waiting on a push (FuturesFeed.holdTopic). The upstream is given a new
 * list only when the list changed.
 */
import { feedTopics } from './feed-upstream.js';
import { WatchCounts } from './watch-counts.js';

export interface FeedTopicsOptions {
  setTopics(topics: string[]): void;
  /** Called on every change of watches or holds, before the upstream is given the topics. */
  synced(watched: ReadonlySet<string>): void;
}

export class FeedTopics<Owner> {
  readonly #options: FeedTopicsOptions;
  readonly #watches = new WatchCounts<Owner>();
  /** Held topics, with how many holds each. */
  readonly #held = new Map<string, number>();
  #key = '';
  #stopped = false;

  constructor(options: FeedTopicsOptions) {
    this.#options = options;
  }

  /** `owner` now watches exactly `symbols`. */
  watch(owner: Owner, symbols: Iterable<string>): void {
    this.#watches.set(owner, symbols);
    this.#sync();
  }

  unwatch(owner: Owner): void {
    this.#watches.delete(owner);
    this.#sync();
  }

  hold(topic: string): void {
    this.#held.set(topic, (this.#held.get(topic) ?? 0) + 1);
    this.#sync();
  }

  release(topic: string): void {
    const holds = (this.#held.get(topic) ?? 1) - 1;
    if (holds > 0) this.#held.set(topic, holds);
    else this.#held.delete(topic);
    this.#sync();
  }

  /** Every symbol at least one owner watches. */
  watched(): Set<string> {
    return this.#watches.symbols();
  }

  /** The feed closed: holds released later change the counts but no longer the upstream's topics. */
  stop(): void {
    this.#stopped = true;
  }

  #sync(): void {
    if (this.#stopped) return;
    const watched = this.watched();
    const topics = feedTopics(watched, this.#held.keys());
    this.#options.synced(watched);
    const key = topics.join('\n');
    if (key === this.#key) return;
    this.#key = key;
    this.#options.setTopics(topics);
  }
}
