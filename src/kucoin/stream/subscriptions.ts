import type { Logger } from 'pino';
import type { UpstreamConnection } from './connection.js';
import { batchTopics, type TopicBatch } from './topics.js';

/** A topic KuCoin answered a subscribe for with an error frame. */
export interface RefusedTopic {
  topic: string;
  code: number | undefined;
  message: string;
}

export interface SubscriptionEvents {
  /** One topic refused (each time KuCoin refuses it). */
  refused?: (refusal: RefusedTopic) => void;
  /** The set of refused topics changed (a refusal, or a refused topic no longer wanted). */
  refusedChanged?: () => void;
}

/** KuCoin's limit codes (docs/kucoin.md "The private WebSocket" table): splitting the message would not help. */
const LIMIT_CODE = 509;

/**
 * What one connection is subscribed to, brought to the wanted set by (un)subscribing the
 * difference, one message at a time, each waiting for its ack (docs/kucoin.md "The private WebSocket").
 */
export class TopicSubscriptions {
  readonly #conn: UpstreamConnection;
  readonly #logger: Logger;
  readonly #acked = new Set<string>();
  /** Topics KuCoin answered with an error frame; not asked again while they stay wanted. */
  readonly #refused = new Map<string, RefusedTopic>();
  readonly #events: SubscriptionEvents;
  #chain: Promise<void> = Promise.resolve();

  constructor(conn: UpstreamConnection, logger: Logger, events: SubscriptionEvents = {}) {
    this.#conn = conn;
    this.#logger = logger;
    this.#events = events;
  }

  get acked(): ReadonlySet<string> {
    return this.#acked;
  }

  /** The wanted topics KuCoin refused on this connection, in topic order. */
  get refused(): RefusedTopic[] {
    return [...this.#refused.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  /**
   * Resolves once every topic of `wanted` (read live: later changes are picked up) is acked or
   * refused and nothing else is subscribed. Rejects with ConnectionEnded when the connection ends.
   * Calls run one after another.
   */
  sync(wanted: ReadonlySet<string>): Promise<void> {
    const run = this.#chain.then(() => this.#syncNow(wanted));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #syncNow(wanted: ReadonlySet<string>): Promise<void> {
    await this.#conn.ready();
    for (;;) {
      let dropped = false;
      for (const topic of this.#refused.keys()) {
        if (!wanted.has(topic)) dropped = this.#refused.delete(topic) || dropped;
      }
      if (dropped) this.#events.refusedChanged?.();
      const drop = [...this.#acked].filter((topic) => !wanted.has(topic));
      const add = [...wanted].filter((topic) => !this.#acked.has(topic) && !this.#refused.has(topic));
      if (drop.length === 0 && add.length === 0) return;
      for (const batch of batchTopics(drop)) await this.#unsubscribe(batch);
      for (const batch of batchTopics(add)) await this.#subscribe(batch);
    }
  }

  async #unsubscribe(batch: TopicBatch): Promise<void> {
    const reply = await this.#conn.request('unsubscribe', batch.topic, batch.private);
    // Refused or not, the topic is no longer ours: its pushes, if any come, are for nobody.
    for (const topic of batch.members) this.#acked.delete(topic);
    if (!reply.ok) {
      this.#logger.warn({ event: 'upstream_ws_unsubscribe_refused', connectId: this.#conn.connectId, topic: batch.topic, code: reply.code, message: reply.message }, 'KuCoin refused an unsubscribe');
    }
  }

  /** A refused batch of several topics is split in halves, so one bad topic does not take the others with it. */
  async #subscribe(batch: TopicBatch): Promise<void> {
    const reply = await this.#conn.request('subscribe', batch.topic, batch.private);
    if (reply.ok) {
      for (const topic of batch.members) this.#acked.add(topic);
      return;
    }
    if (batch.members.length > 1 && reply.code !== LIMIT_CODE) {
      const half = Math.ceil(batch.members.length / 2);
      for (const part of [batch.members.slice(0, half), batch.members.slice(half)]) {
        for (const smaller of batchTopics(part)) await this.#subscribe(smaller);
      }
      return;
    }
    for (const topic of batch.members) {
      const refusal: RefusedTopic = { topic, code: reply.code, message: reply.message };
      this.#refused.set(topic, refusal);
      this.#events.refused?.(refusal);
    }
    this.#events.refusedChanged?.();
    this.#logger.error(
      { event: 'upstream_ws_subscribe_refused', connectId: this.#conn.connectId, topic: batch.topic, code: reply.code, message: reply.message },
      `KuCoin refused the subscription to ${batch.topic}`,
    );
  }
}
