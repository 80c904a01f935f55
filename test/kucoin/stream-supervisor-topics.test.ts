// UpstreamSupervisor: topics KuCoin refuses and the per-message and per-connection topic limits.
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { cleanUp, fakeClient, metric, sleep, startRaw, supervise, waitFor } from './stream-supervisor-harness.js';

afterEach(cleanUp);

describe('refused topics', () => {
  it('counts a refusal by topic template and reports the refused topics to consumers, until they are no longer wanted', async () => {
    const raw = await startRaw(() => ({
      reply: (message) => (String(message.topic).startsWith('/contract/announcement') ? { code: 404, data: `topic ${String(message.topic)} is not found` } : 'ack'),
    }));
    const bullet = fakeClient(raw.endpoint, () => 'tok');
    const { supervisor, metrics, resubscribed } = supervise(bullet.client);
    const reports: string[][] = [];
    supervisor.on('refused', (topics) => reports.push(topics.map((t) => `${t.topic} ${t.code}`)));
    supervisor.setTopics(['/contract/instrument:XBTUSDTM,ETHUSDTM', '/contract/announcement:XBTUSDTM,ETHUSDTM']);
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);
    expect(reports).toEqual([['/contract/announcement:ETHUSDTM 404', '/contract/announcement:XBTUSDTM 404']]);
    expect(supervisor.refusedTopics.map((t) => t.topic)).toEqual(['/contract/announcement:ETHUSDTM', '/contract/announcement:XBTUSDTM']);
    expect(await metric(metrics, 'gateway_upstream_ws_topic_refusals_total', { topic: '/contract/announcement:{symbol}' })).toBe(2);
    supervisor.setTopics(['/contract/instrument:XBTUSDTM,ETHUSDTM']);
    await waitFor('refusal cleared', () => reports.length === 2);
    expect(reports[1]).toEqual([]);
    expect(supervisor.state).toBe('up');
  });
});

describe('topic limits (docs/kucoin.md "The private WebSocket")', () => {
  it('sends at most 100 topics a message and refuses past 300 a connection with an error log', async () => {
    const raw = await startRaw(() => ({}));
    const bullet = fakeClient(raw.endpoint, () => 'tok');
    const { supervisor, logs, resubscribed } = supervise(bullet.client);
    const instruments = Array.from({ length: 299 }, (_, i) => `/contract/instrument:S${i}`);
    supervisor.setTopics(['/contractAccount/wallet', ...instruments]);
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);

    // Growing past the limit keeps every topic already wanted and refuses the newcomers.
    supervisor.setTopics(['/contract/position:XBTUSDTM', '/contract/instrument:NEW', '/contractAccount/wallet', ...instruments]);
    const limit = logs.filter((line) => line.event === 'upstream_ws_topic_limit');
    expect(limit.map((line) => [line.level, line.refused, line.examples])).toEqual([[50, 2, ['/contract/position:XBTUSDTM', '/contract/instrument:NEW']]]);
    await sleep(50);

    const subscribes = raw.connections[0]!.received.filter((f) => f.type === 'subscribe');
    expect(subscribes.map((f) => String(f.topic).split(',').length)).toEqual([1, 100, 100, 99]);
    expect(subscribes.map((f) => f.privateChannel)).toEqual([true, false, false, false]);
    expect(new Set(subscribes.flatMap((f) => String(f.topic).replace('/contract/instrument:', '').split(','))).size).toBe(300);
  });

  it('refuses what is not a topic', () => {
    const { supervisor } = supervise(fakeClient('ws://127.0.0.1:1/', () => 'tok').client);
    expect(() => supervisor.setTopics(['contract/instrument:XBTUSDTM'])).toThrow(TypeError);
  });
});
