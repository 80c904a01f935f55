/**
 * FuturesFeed.holdTopic: a REST operation keeps the KuCoin stream up and subscribed to one topic
 * for a while, with no /ws/futures client (the risk-limit outcome wait, src/futures/leverage.ts).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { FuturesServices } from '../../src/futures/services.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { FuturesFeed } from '../../src/account/feed.js';
import { ACCOUNT_TOPICS } from '../../src/account/feed-upstream.js';
import { FakeUpstream } from './fake-upstream.js';

const TOPIC = '/contract/position:XBTUSDTM';

function feedOn(upstream: FakeUpstream): FuturesFeed {
  return new FuturesFeed({ upstream, services: {} as FuturesServices, logger: pino({ level: 'silent' }), metrics: createMetrics() });
}

describe('FuturesFeed.holdTopic', () => {
  it('acquires the stream and subscribes the topic with no client, and gives both back on release (once)', async () => {
    const upstream = new FakeUpstream();
    const feed = feedOn(upstream);
    const hold = feed.holdTopic(TOPIC);
    expect(upstream.acquires).toBe(1);
    expect(upstream.topics).toEqual([...ACCOUNT_TOPICS, TOPIC]);
    expect(hold.subscribed()).toBe(false);
    for (let i = 0; i < 50 && !hold.subscribed(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hold.subscribed()).toBe(true);

    hold.release();
    hold.release();
    expect(upstream.releases).toBe(1);
    expect(upstream.topics).toEqual([...ACCOUNT_TOPICS]);
    feed.close();
  });

  it('keeps a topic two operations hold until both released', () => {
    const upstream = new FakeUpstream();
    upstream.autoUp = false;
    const feed = feedOn(upstream);
    const first = feed.holdTopic(TOPIC);
    const second = feed.holdTopic(TOPIC);
    first.release();
    expect(upstream.topics).toContain(TOPIC);
    second.release();
    expect(upstream.topics).not.toContain(TOPIC);
    expect(upstream.releases).toBe(2);
    feed.close();
  });
});
