/**
 * The live feed behind `/ws/futures` (asyncapi.yaml): one for the gateway, shared by
 * every client socket, fed by the one upstream KuCoin connection.
 *
 * Decisions:
 * - The upstream is acquired by the first client and released by the last; its topics are the
 *   account-wide private ones plus `/contract/instrument` and `/contract/announcement` for the union
 *   of every client's watched symbols, reset whenever that union changes. Announcements are
 *   subscribed per symbol, as KuCoin's current spec and SDK do (openapi-futures-public.json
 *   `/contract/announcement:{symbol}`, docs-new 3470088w0; the bare topic is the older docs' form);
 *   the push itself names the symbol in its data, and ticks are filtered per client here.
 * - A topic KuCoin refuses is told to the clients: `upstream_status` `up` with `refusedTopics`
 *   (asyncapi.yaml), before a client's snapshots and again to every live client when the list changes.
 * - Snapshots come from REST (src/account/snapshot.ts) and are taken only while the upstream is live
 *   (its topics acked since it last came up), so no change can fall between a snapshot and the
 *   pushes that follow it. A client that connects before then waits; when the upstream is
 *   reconnecting or closed it is told so first (asyncapi.yaml `upstream_status`).
 * - Clients waiting at the same time share one REST read; changes pushed during the read are
 *   replayed onto its answer (FeedCache), so a snapshot is never older than a push already seen.
 *   The snapshot is sent in the same synchronous step that makes the client live: every change
 *   after it reaches the client as a live message, none before it does.
 * - A snapshot that fails (KuCoin REST down, breaker open, rate-limited) tells the waiting clients
 *   `down` with the reason and is retried with backoff, and at once when the upstream comes back;
 *   `up` precedes the snapshots of a client that was told anything else.
 * - After the upstream recovers ('resubscribed' after a state other than up), every client gets
 *   `up` and fresh snapshots. A planned rotation never leaves `up` and loses nothing (the
 *   supervisor's handover), so it re-snapshots nobody.
 * - Pushes are applied one at a time in arrival order, so clients see KuCoin's order of events. A
 *   cache miss (an order placed outside the gateway, a contract not in the catalog) holds the queue
 *   for one REST read: an order push carries too little to make an `Order` (no time in force,
 *   leverage, flags), so such an order is read once and the push applied to it. Orders the gateway
 *   placed itself are made from what it sent (feed-pushes.ts).
 * - A funding read that fails for the symbol's own reason (4xx: no such contract, no funding)
 *   leaves that symbol without a tick and is logged; only availability failures count as "down".
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import type { RefusedTopic, UpstreamPush, UpstreamState } from '../kucoin/stream/supervisor.js';
import type { TopicHold } from '../futures/risk-limit-outcome.js';
import type { FuturesDeps } from '../futures/deps.js';
import type { Metrics } from '../observability/metrics.js';
import { FeedCache } from './feed-cache.js';
import { FeedPushes } from './feed-pushes.js';
import { PushQueue } from './push-queue.js';
import { errorInfo, reasonText, refusedStatus, type FeedMessage, type FeedSubscriber } from './feed-messages.js';
import { MARGIN_MODE_TOPIC, type UpstreamFeedSource } from './feed-upstream.js';
import { FeedTopics } from './feed-topics.js';
import { deliver, sendFundingSnapshot, tell, type Member } from './feed-members.js';
import { RetryTimer } from './retry-timer.js';
import { unknownContracts } from './unknown-contracts.js';
import { accountSnapshot, fillAccount, fillFunding } from './snapshot.js';

export interface FuturesFeedOptions {
  upstream: UpstreamFeedSource;
  services: FuturesDeps;
  logger: Logger;
  metrics: Metrics;
  /** Backoff of snapshot retries after a failed REST read; default 1000 doubling to 30000. */
  retry?: { initialMs: number; maxMs: number };
  /** Pushes waiting to be applied before the feed gives up on them and re-snapshots; default 10000. */
  maxQueuedPushes?: number;
}

export class FuturesFeed {
  readonly #upstream: UpstreamFeedSource;
  readonly #services: FuturesDeps;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #members = new Map<FeedSubscriber, Member>();
  readonly #topics: FeedTopics<FeedSubscriber>;
  readonly #cache = new FeedCache();
  readonly #pushes: FeedPushes;
  /** Topics acked since the upstream last came up. */
  #live: boolean;
  /** Counts the upstream's returns to live: a cache read in an older epoch missed the gap's pushes. */
  #epoch = 0;
  /** The epoch of the current round's account read; -1 before it. */
  #accountEpoch = -1;
  #acquired = false;
  #round: Promise<void> | undefined;
  readonly #retry: RetryTimer;
  /** Why the last REST snapshot failed, until one succeeds. */
  #restDown: string | undefined;
  #lastReason: string | undefined;
  readonly #queue: PushQueue;
  #closed = false;

  constructor(options: FuturesFeedOptions) {
    this.#upstream = options.upstream;
    this.#services = options.services;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#retry = new RetryTimer(options.retry ?? { initialMs: 1_000, maxMs: 30_000 }, () => this.#startRound());
    this.#live = this.#upstream.state === 'up';
    this.#topics = new FeedTopics({
      setTopics: (topics) => this.#upstream.setTopics(topics),
      // Unwatched symbols are unsubscribed, so their funding would go stale.
      synced: (watched) => {
        for (const symbol of this.#cache.funding.keys()) if (!watched.has(symbol)) this.#cache.funding.delete(symbol);
      },
    });
    this.#pushes = new FeedPushes({ cache: this.#cache, services: this.#services, broadcast: (message, fundingSymbol) => this.#broadcast(message, fundingSymbol) });
    this.#upstream.on('state', this.#onState);
    this.#queue = new PushQueue({
      apply: (push) => this.#pushes.apply(push),
      logger: this.#logger,
      maxQueued: options.maxQueuedPushes ?? 10_000,
      caughtUp: () => this.#resync(),
    });
    this.#upstream.on('push', this.#onPush);
    this.#upstream.on('resubscribed', this.#onResubscribed);
    this.#upstream.on('refused', this.#onRefused);
  }

  get clientCount(): number {
    return this.#members.size;
  }

  /** A new connection, already greeted: its snapshots follow as soon as the upstream is live. */
  add(subscriber: FeedSubscriber): void {
    if (this.#closed || this.#members.has(subscriber)) return;
    const member: Member = { live: false, told: undefined, pendingFunding: new Set() };
    this.#members.set(subscriber, member);
    this.#topics.watch(subscriber, subscriber.symbols);
    if (!this.#acquired) {
      this.#acquired = true;
      this.#upstream.acquire();
    }
    const state = this.#upstream.state;
    if (state === 'reconnecting') tell(subscriber, member, 'reconnecting', reasonText(this.#lastReason));
    else if (state === 'closed') tell(subscriber, member, 'down', reasonText(this.#lastReason));
    else if (this.#restDown !== undefined) tell(subscriber, member, 'down', this.#restDown);
    this.#startRound();
  }

  remove(subscriber: FeedSubscriber): void {
    if (!this.#members.delete(subscriber)) return;
    this.#topics.unwatch(subscriber);
    if (this.#members.size === 0) {
      this.#retry.cancel();
      this.#restDown = undefined;
      if (this.#acquired) {
        this.#acquired = false;
        this.#upstream.release();
      }
    }
  }

  /**
   * Keeps the KuCoin stream up and subscribed to `topic` until released, with or without clients:
   * an operation whose outcome KuCoin only pushes (a risk-limit level change's
   * `position.adjustRiskLimit`) waits on it. The pushes reach the upstream's 'push' listeners.
   */
  holdTopic(topic: string): TopicHold {
    if (this.#closed) return { subscribed: () => false, release: () => undefined };
    this.#topics.hold(topic);
    this.#upstream.acquire();
    let released = false;
    return {
      subscribed: () => this.#upstream.state === 'up' && (this.#upstream.isSubscribed?.(topic) ?? this.#live),
      release: () => {
        if (released) return;
        released = true;
        this.#topics.release(topic);
        this.#upstream.release();
      },
    };
  }

  /** The subscriber's watch list changed: `added` get a funding snapshot (asyncapi.yaml `subscriptions`). */
  watch(subscriber: FeedSubscriber, added: readonly string[], removed: readonly string[]): void {
    const member = this.#members.get(subscriber);
    if (!member) return;
    for (const symbol of removed) member.pendingFunding.delete(symbol);
    this.#topics.watch(subscriber, subscriber.symbols);
    // A client still waiting gets every watched symbol's tick with its snapshots.
    if (!member.live || added.length === 0) return;
    for (const symbol of added) member.pendingFunding.add(symbol);
    void this.#sendFundingSnapshots(subscriber, member, added);
  }

  /**
   * The symbols of `symbols` that are no contract in KuCoin's list (UNKNOWN_SYMBOL), without any
   * upstream call when the catalog has them all. Other failures reject.
   */
  unknownContracts(symbols: readonly string[]): string[] | Promise<string[]> {
    return unknownContracts(this.#services.catalog, symbols);
  }

  /**
   * The account as the feed holds it, for REST reads (src/account/account-view.ts): only while it is
   * current for `subscriber`, a member that has had its snapshot (upstream live, no resync or
   * re-snapshot pending) with no push waiting to be applied; else undefined.
   */
  currentAccount(subscriber: FeedSubscriber): FeedCache | undefined {
    const member = this.#members.get(subscriber);
    if (!member?.live || this.#queue.pending || !this.#cacheCurrent()) return undefined;
    return this.#cache;
  }

  /** The feed's account state, current or not (for checks that the stream has shown a change). */
  get account(): FeedCache {
    return this.#cache;
  }

  /**
   * `subscriber` gets a fresh snapshot from an account read that starts after this call (a read
   * already in flight is not used), e.g. after a write KuCoin reports on no subscribed topic.
   */
  resnapshot(subscriber: FeedSubscriber): void {
    const member = this.#members.get(subscriber);
    if (!member) return;
    member.live = false;
    this.#epoch += 1; // a round's read in flight counts as older: the round reads again
    this.#startRound();
  }

  /** Stops listening to the upstream; the gateway closes the upstream itself. */
  close(): void {
    this.#closed = true;
    this.#topics.stop();
    this.#retry.cancel();
    this.#upstream.off('state', this.#onState);
    this.#upstream.off('push', this.#onPush);
    this.#upstream.off('resubscribed', this.#onResubscribed);
    this.#upstream.off('refused', this.#onRefused);
    this.#services.marginModes?.watching(false);
    if (this.#acquired) {
      this.#acquired = false;
      this.#upstream.release();
    }
    this.#members.clear();
  }

  // --- upstream state ------------------------------------------------------------------------

  readonly #onState = (state: UpstreamState, reason?: string): void => {
    if (state === 'up') return; // 'resubscribed' follows once every topic is acked
    this.#live = false;
    this.#services.marginModes?.watching(false); // a change now would go unseen
    this.#lastReason = reason ?? state;
    if (state === 'reconnecting') {
      // asyncapi.yaml: a drop is `down`, then `reconnecting` while the gateway retries.
      for (const [subscriber, member] of this.#members) {
        if (member.told === undefined) tell(subscriber, member, 'down', reasonText(reason));
        tell(subscriber, member, 'reconnecting', reasonText(reason));
      }
    } else if (state === 'closed' || state === 'idle') {
      for (const [subscriber, member] of this.#members) {
        if (member.told !== 'down') tell(subscriber, member, 'down', reasonText(this.#lastReason));
      }
    }
    // 'connecting' is a step of the start or of a reconnect the clients already know about.
  };

  readonly #onResubscribed = (): void => {
    // Orders may use the margin modes known from now on: KuCoin pushes every change (MARGIN_MODE_TOPIC).
    this.#services.marginModes?.watching(!this.#upstream.refusedTopics.some((r) => r.topic === MARGIN_MODE_TOPIC));
    if (!this.#live) {
      this.#live = true;
      this.#epoch += 1;
    }
    this.#retry.cancel();
    this.#startRound();
  };

  /** A change of the refused topics while up reaches every live client; the others get it with their snapshots. */
  readonly #onRefused = (topics: RefusedTopic[]): void => {
    if (this.#closed) return;
    if (topics.some((r) => r.topic === MARGIN_MODE_TOPIC)) this.#services.marginModes?.watching(false);
    const message = refusedStatus(topics);
    for (const [subscriber, member] of this.#members) if (member.live) subscriber.send(message);
  };

  // --- snapshots -----------------------------------------------------------------------------

  #startRound(): void {
    if (this.#round || !this.#live || this.#closed) return;
    this.#round = this.#runRound().then(
      () => {
        this.#round = undefined;
        // A client that arrived as the round was ending; after a failed read the retry timer has it.
        if (!this.#retry.pending && [...this.#members.values()].some((member) => !member.live)) this.#startRound();
      },
      (error: unknown) => {
        this.#round = undefined;
        this.#logger.error({ event: 'ws_feed_bug', err: errorInfo(error) }, 'live feed snapshot round failed');
      },
    );
  }

  /**
   * Until every client is live: read what the waiting ones need, then snapshot each that is
   * covered. A round reads the account over REST unless the cache is current (`#cacheCurrent`):
   * clients arriving while others are live get their snapshot from the cache that serves those
   * others (one REST read per arrival cost ~4 KuCoin calls each, and 5,000 arrivals spent the
   * quota: benchmark 3). A later pass (for symbols a client added meanwhile) reads only their
   * funding, unless the upstream went and came back since the account was read.
   */
  async #runRound(): Promise<void> {
    const current = this.#cacheCurrent();
    if (!current) this.#accountEpoch = -1;
    for (;;) {
      const waiting = [...this.#members].filter(([, member]) => !member.live);
      if (waiting.length === 0 || !this.#live || this.#closed) return;
      const symbols = new Set(waiting.flatMap(([subscriber]) => [...subscriber.symbols]));
      // A watched symbol's cached funding follows its instrument pushes. (Between a first watcher's
      // read and KuCoin's ack of the widened topic, a change could be missed; funding moves slowly
      // and the next settlement push corrects it.)
      const toRead = [...symbols].filter((symbol) => !(current && this.#cache.funding.has(symbol)));
      const epoch = this.#epoch;
      try {
        await Promise.all([this.#accountEpoch === epoch ? undefined : this.#readAccount(epoch), ...toRead.map((symbol) => this.#readFunding(symbol))]);
      } catch (error) {
        if (this.#live) this.#snapshotFailed(error);
        return;
      }
      if (!this.#live || this.#closed) return;
      if (this.#accountEpoch !== this.#epoch) continue; // the upstream went and came back meanwhile
      this.#restDown = undefined;
      this.#retry.reset();
      const snapshot = accountSnapshot({ cache: this.#cache, services: this.#services, logger: this.#logger });
      // Synchronous from here to the end of the pass: no push is applied between a client's snapshot and its going live.
      for (const [subscriber, member] of this.#members) {
        if (member.live || ![...subscriber.symbols].every((symbol) => symbols.has(symbol))) continue;
        deliver(subscriber, member, snapshot, this.#upstream.refusedTopics, this.#cache);
      }
    }
  }

  /**
   * The cache has followed every push since its account read in this upstream epoch, and clients
   * are live on it. New clients' snapshots rest on this; REST list reads too (`currentAccount`),
   * which also want no push waiting to be applied.
   */
  #cacheCurrent(): boolean {
    if (!this.#live || this.#queue.overflowed || this.#closed || this.#accountEpoch !== this.#epoch) return false;
    for (const member of this.#members.values()) if (member.live) return true;
    return false;
  }

  async #readAccount(epoch: number): Promise<void> {
    await fillAccount(this.#cache, this.#services);
    this.#accountEpoch = epoch;
  }

  #readFunding(symbol: string): Promise<void> {
    return fillFunding({ cache: this.#cache, services: this.#services, logger: this.#logger }, symbol, () => this.#topics.watched().has(symbol));
  }

  #snapshotFailed(error: unknown): void {
    const reason = `KuCoin REST: ${error instanceof GatewayError ? `${error.code}: ${error.message}` : errorInfo(error).message}`;
    this.#logger.warn({ event: 'ws_snapshot_failed', err: errorInfo(error), retryInMs: this.#retry.delayMs }, 'live feed snapshot failed; clients told the upstream is down');
    this.#restDown = reason;
    for (const [subscriber, member] of this.#members) {
      if (!member.live && member.told !== 'down') tell(subscriber, member, 'down', reason);
    }
    this.#retry.schedule();
  }

  async #sendFundingSnapshots(subscriber: FeedSubscriber, member: Member, added: readonly string[]): Promise<void> {
    try {
      await Promise.all(added.map((symbol) => this.#readFunding(symbol)));
    } catch (error) {
      // Like any failed snapshot: told down, snapshots again once KuCoin answers.
      if (this.#members.get(subscriber) === member && member.live) {
        member.live = false;
        this.#snapshotFailed(error);
      }
      return;
    }
    if (this.#members.get(subscriber) !== member || !member.live) return;
    for (const symbol of added) {
      if (!member.pendingFunding.delete(symbol) || !subscriber.symbols.has(symbol)) continue;
      sendFundingSnapshot(subscriber, symbol, this.#cache);
    }
  }

  // --- pushes (applied by FeedPushes, src/account/feed-pushes.ts) ----------------------------------

  readonly #onPush = (push: UpstreamPush): void => {
    if (!this.#closed) this.#queue.add(push);
  };

  /** After dropped pushes nothing cached can be trusted: every client gets fresh snapshots. */
  #resync(): void {
    this.#accountEpoch = -1;
    for (const member of this.#members.values()) member.live = false;
    this.#startRound();
  }

  /** Timed (gateway_ws_broadcast_seconds): with thousands of clients this loop is the fan-out's cost. */
  #broadcast(message: FeedMessage, fundingSymbol?: string): void {
    const started = performance.now();
    for (const [subscriber, member] of this.#members) {
      if (!member.live) continue;
      if (fundingSymbol !== undefined && (!subscriber.symbols.has(fundingSymbol) || member.pendingFunding.has(fundingSymbol))) continue;
      subscriber.send(message);
    }
    this.#metrics.wsBroadcastSeconds.observe({ type: message.type }, (performance.now() - started) / 1000);
  }

}
