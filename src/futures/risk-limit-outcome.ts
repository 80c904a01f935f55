import type { UpstreamPush } from '../kucoin/stream/supervisor.js';

/**
 * What KuCoin reports about a risk-limit level change. `POST /api/v1/position/risk-limit-level/change`
 * (https://www.kucoin.com/docs-new/api-3470264) "will indicate only whether the adjustment request
 * was submitted"; the outcome is the private push `position.adjustRiskLimit` `{success,
 * riskLimitLevel, msg}` on `/contract/position:{symbol}` (spec/ws/openapi-futures-private.json of
 * Kucoin/kucoin-universal-sdk), and it can fail.
 */
export type RiskLimitOutcome =
  | { kind: 'changed'; level: number }
  | { kind: 'failed'; level: number | undefined; message: string }
  | { kind: 'pending' };

/** The KuCoin stream's pushes (src/kucoin/stream/supervisor.ts), when the gateway has one. */
export interface PushSource {
  on(event: 'push', listener: (push: UpstreamPush) => void): unknown;
  off(event: 'push', listener: (push: UpstreamPush) => void): unknown;
}

/** A topic of the KuCoin stream held subscribed for a while (FuturesFeed.holdTopic, src/account/feed.ts). */
export interface TopicHold {
  /** KuCoin acked the topic on the connection that delivers pushes now. */
  subscribed(): boolean;
  /** Idempotent. */
  release(): void;
}

/** Brings the KuCoin stream up for a topic, with or without /ws/futures clients (the gateway's FuturesFeed). */
export interface TopicHolder {
  holdTopic(topic: string): TopicHold;
}

/**
 * Resolves once `hold` is subscribed or at `until`, whichever is first: a push sent before KuCoin
 * acked the topic is not delivered, so the change is posted after the ack when it comes in time.
 */
export async function untilSubscribed(hold: TopicHold, until: number, now: () => number, stepMs = 20): Promise<boolean> {
  while (!hold.subscribed()) {
    const left = until - now();
    if (left <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(stepMs, left)));
  }
  return true;
}

export interface RiskLimitWatchOptions {
  symbol: string;
  level: number;
  /** The live stream, if any: its push carries failures as well as successes. */
  pushes: PushSource | undefined;
  /** The position's current level (GET /api/v1/position `riskLimitLevel`); the fallback without a live stream. */
  readLevel: () => Promise<number | undefined>;
  pollIntervalMs: number;
  now: () => number;
}

/**
 * Started before the change is posted (the push can overtake the POST's answer); `outcome(until)`
 * settles on the first of: the push, a position read showing the requested level, or `until`.
 * A failure is seen only through the push: the operation holds the stream subscribed to the
 * symbol's position topic while it waits (leverage.ts); if the stream is down it ends `pending`.
 */
export class RiskLimitWatch {
  readonly #options: RiskLimitWatchOptions;
  #settled: RiskLimitOutcome | undefined;
  #wake: (() => void) | undefined;

  constructor(options: RiskLimitWatchOptions) {
    this.#options = options;
    options.pushes?.on('push', this.#onPush);
  }

  readonly #onPush = (push: UpstreamPush): void => {
    // positionAll delivers each symbol's pushes under that symbol's own topic.
    if (push.subject !== 'position.adjustRiskLimit' || push.topic !== `/contract/position:${this.#options.symbol}`) return;
    const data = (push.data ?? {}) as { success?: unknown; riskLimitLevel?: unknown; msg?: unknown };
    const level = typeof data.riskLimitLevel === 'number' ? data.riskLimitLevel : undefined;
    if (data.success === true && (level === undefined || level === this.#options.level)) this.#settle({ kind: 'changed', level: this.#options.level });
    else this.#settle({ kind: 'failed', level, message: typeof data.msg === 'string' && data.msg !== '' ? data.msg : 'KuCoin reported the risk-limit level change failed' });
  };

  #settle(outcome: RiskLimitOutcome): void {
    if (this.#settled) return;
    this.#settled = outcome;
    this.#wake?.();
  }

  async outcome(until: number): Promise<RiskLimitOutcome> {
    const { now, pollIntervalMs, readLevel, level } = this.#options;
    try {
      while (!this.#settled && now() < until) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, Math.max(0, Math.min(pollIntervalMs, until - now()))).unref();
        });
        if (this.#settled || now() >= until) break;
        try {
          if ((await readLevel()) === level) this.#settle({ kind: 'changed', level });
        } catch {
          // A failed read says nothing about the change; the push or the next read may.
        }
      }
      return this.#settled ?? { kind: 'pending' };
    } finally {
      this.close();
    }
  }

  close(): void {
    this.#options.pushes?.off('push', this.#onPush);
    this.#wake = undefined;
  }
}
