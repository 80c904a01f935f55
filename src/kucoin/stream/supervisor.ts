import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { GatewayError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import { Backoff } from './backoff.js';
import { BulletAnswerInvalid, connectUrl, fetchBullet } from './bullet.js';
import { ConnectionEnded, UpstreamConnection, type EndReason } from './connection.js';
import { pushTimestampMs, type PushFrame } from './frames.js';
import { Handover } from './handover.js';
import { TopicSubscriptions, type RefusedTopic } from './subscriptions.js';
import { expandTopics, MAX_TOPICS_PER_CONNECTION, topicPrefix, topicTemplate } from './topics.js';
import { supervisorTiming, type SupervisorOptions, type SupervisorTiming } from './supervisor-options.js';
import type { UpstreamPush, UpstreamState, UpstreamSupervisorEvents } from './upstream-events.js';

export type { RefusedTopic } from './subscriptions.js';
export type { UpstreamPush, UpstreamState, UpstreamSupervisorEvents } from './upstream-events.js';
export type { SupervisorOptions } from './supervisor-options.js';

/** The `reason` of a reconnect: how the previous connection or attempt ended. */
type RetryReason = Exclude<EndReason, 'local'> | 'token_unavailable' | 'rotation';

interface Link {
  conn: UpstreamConnection;
  topics: TopicSubscriptions;
}

interface Attempt {
  link?: Link;
  /** The new connection's pushes until it becomes the source. */
  buffer: UpstreamPush[];
  cancelled: boolean;
}

type TimerName = 'linger' | 'retry' | 'rotate' | 'stable' | 'handover' | 'pace';

const STATES: readonly UpstreamState[] = ['idle', 'connecting', 'up', 'reconnecting', 'closed'];
/** KuCoin's frames are a few KB; the `ws` default of 100 MiB is not a limit worth one peer's memory. */
const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** How long after a switch the new connection's pushes are checked against the old one's. */
const HANDOVER_MS = 10_000;
const MAX_BUFFERED_PUSHES = 10_000;

/**
 * The gateway's one KuCoin private WebSocket, shared by every consumer: opened by the
 * first acquire, closed a while after the last release. Each connection gets a fresh bullet token
 * (a token is good for one connection: docs/kucoin.md "The private WebSocket"). A lost connection
 * comes back after a jittered exponential backoff, one attempt at a time, with every topic
 * resubscribed; before KuCoin's 24 h cut a new connection is made ready before the old one is let go.
 */
export class UpstreamSupervisor extends EventEmitter<UpstreamSupervisorEvents> {
  readonly #o: SupervisorOptions;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #timing: SupervisorTiming;
  /** The wanted topics, one symbol each; mutated in place, since syncs in progress read it live. */
  readonly #wanted = new Set<string>();
  /** Every connection not yet over: the source, an attempt, an old one closing. */
  readonly #links = new Set<Link>();
  #state: UpstreamState = 'idle';
  #refs = 0;
  /** Set by lingerAfterRelease(false): the last release stops at once instead of after lingerMs. */
  #noLinger = false;
  #streak = 0;
  #active: Link | undefined;
  #attempt: Attempt | undefined;
  #handover: Handover | undefined;
  #closing: Promise<void> | undefined;
  /** What the last 'refused' event said, to emit only changes. */
  #refused: RefusedTopic[] = [];
  readonly #timers: Record<TimerName, NodeJS.Timeout | undefined> = {
    linger: undefined,
    retry: undefined,
    rotate: undefined,
    stable: undefined,
    handover: undefined,
    pace: undefined,
  };
  /** Ends a pacing wait early (the supervisor stopped). */
  #wakePace: (() => void) | undefined;

  constructor(options: SupervisorOptions) {
    super();
    this.#o = options;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 }, this.#random);
    this.#timing = supervisorTiming(options);
    for (const state of STATES) this.#metrics.upstreamWsState.set({ state }, state === this.#state ? 1 : 0);
    this.#metrics.upstreamWsDisconnectStreak.set(0);
  }

  get state(): UpstreamState {
    return this.#state;
  }

  /** The wanted topics KuCoin refused on the source connection (its error frame's code and text). */
  get refusedTopics(): RefusedTopic[] {
    return this.#refused;
  }

  /** Whether KuCoin has acked `topic` (one symbol) on the connection that is the push source now. */
  isSubscribed(topic: string): boolean {
    return this.#state === 'up' && this.#active?.topics.acked.has(topic) === true;
  }

  /** Reference-counted: the first acquire opens the connection. Ignored once closed. */
  acquire(): void {
    if (this.#state === 'closed') return;
    this.#refs += 1;
    this.#clearTimer('linger');
    if (this.#state !== 'idle') return;
    this.#setState('connecting');
    // The connection outlives whatever acquired it (a REST read, a leverage change waiting for its
    // push): its token calls are the gateway's own (scope null in bullet.ts), never that request's
    // caller or deadline (src/request-scope.ts).
    void this.#open('initial');
  }

  /** The last release closes the connection after lingerMs. */
  release(): void {
    if (this.#state === 'closed') return;
    if (this.#refs === 0) throw new Error('UpstreamSupervisor.release() without a matching acquire()');
    this.#refs -= 1;
    if (this.#refs > 0) return;
    if (this.#noLinger) {
      void this.#stop('idle');
      return;
    }
    this.#timers.linger = setTimeout(() => {
      this.#timers.linger = undefined;
      void this.#stop('idle');
    }, this.#timing.lingerMs).unref();
  }

  /**
   * The full wanted set; the connection (un)subscribes the difference. Comma-joined topics count
   * one per symbol. Past MAX_TOPICS_PER_CONNECTION, topics already wanted are kept first and the
   * rest refused with an error log.
   */
  setTopics(topics: string[]): void {
    for (const topic of topics) {
      if (typeof topic !== 'string' || !topic.startsWith('/')) throw new TypeError(`setTopics: ${JSON.stringify(topic)} is not a KuCoin topic (those start with "/")`);
    }
    const requested = expandTopics(topics);
    const accepted = [...requested.filter((t) => this.#wanted.has(t)), ...requested.filter((t) => !this.#wanted.has(t))];
    const refused = accepted.splice(MAX_TOPICS_PER_CONNECTION);
    if (refused.length > 0) {
      this.#logger.error(
        { event: 'upstream_ws_topic_limit', limit: MAX_TOPICS_PER_CONNECTION, requested: requested.length, refused: refused.length, examples: refused.slice(0, 5) },
        `KuCoin allows ${MAX_TOPICS_PER_CONNECTION} topics per connection; ${refused.length} refused`,
      );
    }
    this.#wanted.clear();
    for (const topic of accepted) this.#wanted.add(topic);
    for (const link of [this.#active, this.#attempt?.link]) {
      // A failure here is the connection's end, which #onEnded or #open handles.
      if (link) link.topics.sync(this.#wanted).catch(() => undefined);
    }
  }

  /**
   * Whether the last release leaves the connection up for lingerMs (the default) or closes it at
   * once. The kill switch turns lingering off while futures are off (off means no upstream
   * connection); unheld at that moment, the connection closes now.
   */
  lingerAfterRelease(linger: boolean): void {
    this.#noLinger = !linger;
    if (linger || this.#state === 'closed' || this.#state === 'idle' || this.#refs > 0) return;
    void this.#stop('idle');
  }

  /** Closes every connection for good; acquire is ignored afterwards. */
  close(): Promise<void> {
    this.#closing ??= this.#stop('closed');
    return this.#closing;
  }

  /** One connection attempt: token, socket, welcome, every topic acked, then it becomes the source. */
  async #open(reason: RetryReason | 'initial'): Promise<void> {
    const attempt: Attempt = { buffer: [], cancelled: false };
    this.#attempt = attempt;
    if (reason !== 'initial') this.#metrics.upstreamWsReconnects.inc({ reason });
    // While the old connection is still the source, what it delivers is remembered for the switch.
    this.#handover = this.#active ? new Handover() : undefined;
    let link: Link | undefined;
    try {
      if (!(await this.#paced(attempt))) return;
      const bullet = await fetchBullet(this.#o.client, this.#random);
      if (attempt.cancelled) return;
      const connectId = randomUUID();
      const conn = new UpstreamConnection({
        url: connectUrl(bullet, connectId),
        connectId,
        token: bullet.token,
        pingIntervalMs: bullet.pingIntervalMs,
        pingTimeoutMs: bullet.pingTimeoutMs,
        welcomeTimeoutMs: this.#timing.welcomeTimeoutMs,
        ackTimeoutMs: this.#timing.ackTimeoutMs,
        createSocket: this.#o.createSocket ?? ((url) => new WebSocket(url, { maxPayload: MAX_PAYLOAD_BYTES })),
        logger: this.#logger,
        onPush: (frame) => this.#onPush(current, frame),
        onErrorFrame: (error) => {
          this.#metrics.upstreamWsErrors.inc({ code: String(error.code ?? 'none') });
          this.#logger.warn({ event: 'upstream_ws_error_frame', connectId, code: error.code, message: error.message }, 'KuCoin sent an error frame');
        },
      });
      const current: Link = {
        conn,
        topics: new TopicSubscriptions(conn, this.#logger, {
          refused: (refusal) => this.#metrics.upstreamWsTopicRefusals.inc({ topic: topicTemplate(refusal.topic) }),
          refusedChanged: () => {
            if (this.#active === current) this.#publishRefused(current);
          },
        }),
      };
      link = current;
      attempt.link = current;
      this.#links.add(current);
      void conn.ended.then((why) => this.#onEnded(current, why));
      this.#logger.info({ event: 'upstream_ws_connecting', connectId, host: new URL(bullet.endpoint).host, reason }, 'Opening the KuCoin private WebSocket');

      await conn.ready();
      await current.topics.sync(this.#wanted);
      // The barrier of a switch: once the old connection answers a ping sent after the new one's
      // acks, whatever KuCoin queued on it before them has been delivered.
      if (this.#active) await this.#active.conn.probe();
      if (attempt.cancelled) return;
      const ended = conn.endReason;
      if (ended) throw new ConnectionEnded(ended);
      this.#attempt = undefined;
      this.#activate(current, attempt.buffer);
    } catch (error) {
      if (attempt.cancelled) return;
      this.#attempt = undefined;
      this.#handover = undefined;
      if (link) void link.conn.close();
      this.#attemptFailed(error, link);
    }
  }

  /**
   * Waits until the account may open one more connection (pacing.ts): a refusal waits what the
   * limiter says plus jitter, so replicas refused together do not come back together. False when
   * the attempt was cancelled meanwhile.
   */
  async #paced(attempt: Attempt): Promise<boolean> {
    const pacing = this.#o.pacing;
    if (!pacing) return true;
    for (;;) {
      let verdict;
      try {
        verdict = await pacing.take();
      } catch (error) {
        // A limiter that cannot answer must not stop reconnecting: the backoff still spaces attempts.
        this.#logger.warn({ event: 'upstream_ws_pacing_failed', err: { message: error instanceof Error ? error.message : String(error) } }, 'connection pacing failed; connecting anyway');
        return !attempt.cancelled;
      }
      if (attempt.cancelled) return false;
      if (verdict.admitted) return true;
      const delayMs = verdict.retryInMs + Math.floor(this.#random() * verdict.jitterMs);
      this.#metrics.upstreamWsPaced.inc({ limiter: verdict.limiter });
      this.#logger.info({ event: 'upstream_ws_paced', limiter: verdict.limiter, delayMs }, `KuCoin connection attempts are paced; waiting ${delayMs} ms`);
      await new Promise<void>((resolve) => {
        this.#wakePace = resolve;
        this.#timers.pace = setTimeout(resolve, delayMs).unref();
      });
      this.#timers.pace = undefined;
      this.#wakePace = undefined;
      if (attempt.cancelled) return false;
    }
  }

  #activate(link: Link, buffered: UpstreamPush[]): void {
    const old = this.#active;
    const handover = this.#handover;
    this.#active = link;
    handover?.switch();
    this.#setState('up', old ? 'rotation' : undefined);
    for (const push of buffered) if (!handover?.isRepeat(push)) this.emit('push', push);
    if (old) void old.conn.close();
    this.#logger.info(
      { event: old ? 'upstream_ws_rotated' : 'upstream_ws_up', connectId: link.conn.connectId, previous: old?.conn.connectId, topics: link.topics.acked.size },
      old ? 'KuCoin private WebSocket rotated to a new connection' : 'KuCoin private WebSocket is up',
    );
    this.#clearTimer('handover');
    if (handover) {
      this.#timers.handover = setTimeout(() => {
        if (this.#handover === handover) this.#handover = undefined;
      }, HANDOVER_MS).unref();
    }
    this.#clearTimer('rotate');
    this.#timers.rotate = setTimeout(() => {
      this.#timers.rotate = undefined;
      if (!this.#attempt && !this.#timers.retry) void this.#open('rotation');
    }, this.#timing.rotateAfterMs).unref();
    this.#clearTimer('stable');
    this.#timers.stable = setTimeout(() => {
      this.#timers.stable = undefined;
      this.#backoff.reset();
      this.#setStreak(0);
    }, this.#timing.stableAfterMs).unref();
    this.#publishRefused(link);
    this.emit('resubscribed');
  }

  /** A refused topic is not only logged: consumers tell their clients (the feed's upstream_status). */
  #publishRefused(link: Link): void {
    const refused = link.topics.refused;
    const key = (list: RefusedTopic[]) => list.map((r) => `${r.topic} ${r.code ?? ''} ${r.message}`).join('\n');
    if (key(refused) === key(this.#refused)) return;
    this.#refused = refused;
    this.emit('refused', refused);
  }

  #attemptFailed(error: unknown, link: Link | undefined): void {
    const reason: RetryReason = error instanceof ConnectionEnded && error.reason !== 'local' ? error.reason : 'token_unavailable';
    const detail =
      error instanceof ConnectionEnded ? link?.conn.detail
      : error instanceof GatewayError ? `${error.code}: ${error.message}`
      : error instanceof BulletAnswerInvalid ? error.message
      : String(error);
    this.#setStreak(this.#streak + 1);
    this.#logger.warn({ event: 'upstream_ws_connect_failed', reason, detail, streak: this.#streak }, `KuCoin private WebSocket did not come up (${reason})`);
    // A failed rotation leaves the old connection the source, still up.
    if (!this.#active) this.#setState('reconnecting', reason);
    this.#scheduleRetry(reason);
  }

  #onEnded(link: Link, why: EndReason): void {
    this.#links.delete(link);
    // An attempt's end is handled where it is awaited (#open); an old connection's is expected.
    if (link !== this.#active) return;
    this.#active = undefined;
    this.#clearTimer('rotate');
    this.#clearTimer('stable');
    this.#setStreak(this.#streak + 1);
    const reason: RetryReason = why === 'local' ? 'server_closed' : why;
    this.#logger.warn({ event: 'upstream_ws_down', connectId: link.conn.connectId, reason, detail: link.conn.detail, streak: this.#streak }, `KuCoin private WebSocket lost (${reason})`);
    this.#setState('reconnecting', reason);
    // A rotation already under way becomes the reconnect.
    if (!this.#attempt) this.#scheduleRetry(reason);
  }

  /** One reconnect in flight at a time: an attempt or its wait, never two. */
  #scheduleRetry(reason: RetryReason): void {
    if (this.#attempt || this.#timers.retry) return;
    const delayMs = this.#backoff.next();
    this.#logger.info({ event: 'upstream_ws_retry', reason, delayMs }, `Reconnecting to KuCoin in ${delayMs} ms`);
    this.#timers.retry = setTimeout(() => {
      this.#timers.retry = undefined;
      void this.#open(reason);
    }, delayMs).unref();
  }

  #onPush(link: Link, frame: PushFrame): void {
    const push: UpstreamPush = { topic: frame.topic, subject: frame.subject, data: frame.data, receivedAt: this.#now() };
    this.#metrics.upstreamWsMessages.inc({ subject: push.subject });
    const stamped = pushTimestampMs(push.data);
    if (stamped !== undefined) {
      this.#metrics.upstreamWsMessageAge.observe({ topic: topicPrefix(push.topic) }, Math.max(0, push.receivedAt - stamped) / 1000);
    }
    const attempt = this.#attempt;
    if (link === this.#active) {
      const handover = this.#handover;
      if (handover?.switched) {
        if (handover.isRepeat(push)) return;
      } else {
        handover?.remember(push);
      }
      this.emit('push', push);
    } else if (attempt && link === attempt.link && attempt.buffer.length < MAX_BUFFERED_PUSHES) {
      attempt.buffer.push(push);
    }
    // Anything else comes from a connection that is no longer the source: the new one delivers it.
  }

  #stop(next: 'idle' | 'closed'): Promise<void> {
    for (const name of Object.keys(this.#timers) as TimerName[]) this.#clearTimer(name);
    if (this.#attempt) this.#attempt.cancelled = true;
    this.#wakePace?.();
    this.#attempt = undefined;
    this.#active = undefined;
    this.#handover = undefined;
    if (next === 'closed') this.#refs = 0;
    const closing = [...this.#links].map((link) => link.conn.close());
    // Nothing is wanted any more, so nothing is failing: the next acquire starts afresh.
    this.#backoff.reset();
    this.#setStreak(0);
    this.#setState(next);
    return Promise.all(closing).then(() => undefined);
  }

  #setState(state: UpstreamState, reason?: string): void {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.#metrics.upstreamWsState.set({ state: previous }, 0);
    this.#metrics.upstreamWsState.set({ state }, 1);
    this.#logger.info({ event: 'upstream_ws_state', state, previous, reason }, `KuCoin private WebSocket ${state}`);
    if (reason === undefined) this.emit('state', state);
    else this.emit('state', state, reason);
  }

  #setStreak(streak: number): void {
    this.#streak = streak;
    this.#metrics.upstreamWsDisconnectStreak.set(streak);
  }

  #clearTimer(name: TimerName): void {
    clearTimeout(this.#timers[name]);
    this.#timers[name] = undefined;
  }
}
