// UpstreamSupervisor: a connection that fails or drops is replaced, with a fresh token, after a
// backoff.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { GatewayError } from '../../src/errors.js';
import type { BulletSource } from '../../src/kucoin/stream/bullet.js';
import { cleanUp, expectNoSecrets, fakeClient, metric, positionPush, sleep, startRaw, startSim, supervise, TOPICS, waitFor } from './stream-supervisor-harness.js';

afterEach(cleanUp);

describe('failures and reconnects (docs/kucoin.md "The private WebSocket")', () => {
  it('reconnects with a new token when welcome does not come in time', async () => {
    const raw = await startRaw((n) => ({ welcome: n > 0 }));
    let n = 0;
    const bullet = fakeClient(raw.endpoint, () => `tok-${(n += 1)}`);
    const { supervisor, metrics, states, resubscribed } = supervise(bullet.client, { welcomeTimeoutMs: 100 });
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);
    expect(states).toEqual(['connecting', 'reconnecting', 'up']);
    expect(raw.tokensUsed()).toEqual(['tok-1', 'tok-2']);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'welcome_timeout' })).toBe(1);
    expect(await metric(metrics, 'gateway_upstream_ws_disconnect_streak')).toBe(1);
  });

  it('treats a missing pong as a dead connection and reconnects', async () => {
    const raw = await startRaw((n) => ({ pong: n > 0 }));
    const bullet = fakeClient(raw.endpoint, () => 'tok', { pingInterval: 40, pingTimeout: 60 });
    const { supervisor, metrics, states, resubscribed } = supervise(bullet.client);
    supervisor.setTopics(['/contractAccount/wallet']);
    supervisor.acquire();
    await waitFor('second resubscribed', () => resubscribed() === 2);
    expect(states).toEqual(['connecting', 'up', 'reconnecting', 'up']);
    expect(raw.connections[0]!.received.filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(1);
    expect(raw.connections[1]!.received.filter((f) => f.type === 'subscribe').map((f) => f.topic)).toEqual(['/contractAccount/wallet']);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'pong_timeout' })).toBe(1);
    // The healthy connection keeps pinging and stays.
    await sleep(200);
    expect(supervisor.state).toBe('up');
    expect(raw.connections).toHaveLength(2);
  });

  it('reconnects when a subscription is not acked in time', async () => {
    const raw = await startRaw((n) => ({ reply: () => (n === 0 ? 'none' : 'ack') }));
    const bullet = fakeClient(raw.endpoint, () => 'tok');
    const { supervisor, metrics, resubscribed } = supervise(bullet.client, { ackTimeoutMs: 100 });
    supervisor.setTopics(['/contractAccount/wallet']);
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);
    expect(raw.connections).toHaveLength(2);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'ack_timeout' })).toBe(1);
  });

  it('after a drop, reconnects with a fresh token, resubscribes everything and says so', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, metrics, pushes, states, resubscribed, logs } = supervise(bullet.client);
    supervisor.setTopics(TOPICS);
    supervisor.acquire();
    await waitFor('up', () => resubscribed() === 1);
    expect(sim.socket.dropAll()).toBe(1);
    await waitFor('reconnecting', () => supervisor.state === 'reconnecting');
    expect(await metric(metrics, 'gateway_upstream_ws_disconnect_streak')).toBe(1);
    await waitFor('resubscribed again', () => resubscribed() === 2);
    expect(states).toEqual(['connecting', 'up', 'reconnecting', 'up']);
    expect(bullet.issued).toHaveLength(2);
    expect(bullet.issued[0]).not.toBe(bullet.issued[1]);
    expect(sim.socket.connectionCount()).toBe(1);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'dropped' })).toBe(1);

    // Every topic was subscribed again: the private one reaches us on the new connection.
    sim.push(positionPush(7));
    sim.push({ topic: '/contract/instrument:XBTUSDTM', subject: 'mark.index.price', data: { markPrice: 1 }, private: false });
    await waitFor('pushes', () => pushes.length === 2);
    expect(pushes[0]!.data).toMatchObject({ seq: 7 });
    expect(logs.some((line) => line.event === 'upstream_ws_down' && line.reason === 'dropped')).toBe(true);
    expectNoSecrets(logs, bullet.issued);
  });

  it('resets the disconnect streak and the backoff once a connection stayed up', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, metrics, resubscribed } = supervise(bullet.client, { stableAfterMs: 100 });
    supervisor.acquire();
    await waitFor('up', () => resubscribed() === 1);
    sim.socket.dropAll();
    await waitFor('up again', () => resubscribed() === 2);
    expect(await metric(metrics, 'gateway_upstream_ws_disconnect_streak')).toBe(1);
    await sleep(150);
    expect(await metric(metrics, 'gateway_upstream_ws_disconnect_streak')).toBe(0);
  });

  it('backs off when the upgrade is refused with 401, then recovers with a fresh token', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'), { script: ['unknown-token', 'unknown-token'] });
    const { supervisor, metrics, states, resubscribed, logs } = supervise(bullet.client);
    supervisor.setTopics(TOPICS);
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);
    expect(states).toEqual(['connecting', 'reconnecting', 'up']);
    expect(bullet.issued).toHaveLength(3);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'token_refused' })).toBe(2);
    expect(await metric(metrics, 'gateway_upstream_ws_disconnect_streak')).toBe(2);
    const failures = logs.filter((line) => line.event === 'upstream_ws_connect_failed');
    expect(failures.map((line) => [line.level, line.reason, line.detail])).toEqual([
      [40, 'token_refused', 'HTTP 401 on upgrade'],
      [40, 'token_refused', 'HTTP 401 on upgrade'],
    ]);
    expect(logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
    expectNoSecrets(logs, bullet.issued);
  });

  it('backs off while bullet-private fails (CREDENTIALS_* / UPSTREAM_*), then recovers', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'), {
      script: [new GatewayError('UPSTREAM_UNAVAILABLE', 'KuCoin could not be reached.'), new GatewayError('CREDENTIALS_REJECTED', 'KuCoin rejected the credentials.')],
    });
    const { supervisor, metrics, states, resubscribed, logs } = supervise(bullet.client);
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);
    expect(states).toEqual(['connecting', 'reconnecting', 'up']);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'token_unavailable' })).toBe(2);
    expect(logs.filter((line) => line.event === 'upstream_ws_connect_failed').map((line) => line.detail)).toEqual([
      'UPSTREAM_UNAVAILABLE: KuCoin could not be reached.',
      'CREDENTIALS_REJECTED: KuCoin rejected the credentials.',
    ]);
  });

  it('logs and counts error frames; a refused topic does not take its batch down', async () => {
    const raw = await startRaw(() => ({
      reply: (message) => (String(message.topic).includes('BAD') ? { code: 404, data: `topic ${String(message.topic)} is not found` } : 'ack'),
    }));
    const bullet = fakeClient(raw.endpoint, () => 'tok');
    const { supervisor, metrics, logs, resubscribed } = supervise(bullet.client);
    supervisor.setTopics(['/contract/instrument:A,B,BAD,C']);
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);
    const subscribed = raw.connections[0]!.received.filter((f) => f.type === 'subscribe').map((f) => f.topic);
    expect(subscribed).toEqual(['/contract/instrument:A,B,BAD,C', '/contract/instrument:A,B', '/contract/instrument:BAD,C', '/contract/instrument:BAD', '/contract/instrument:C']);
    expect(await metric(metrics, 'gateway_upstream_ws_errors_total', { code: '404' })).toBe(3);
    expect(logs.filter((line) => line.event === 'upstream_ws_error_frame')).toHaveLength(3);
    expect(logs.filter((line) => line.event === 'upstream_ws_subscribe_refused').map((line) => line.topic)).toEqual(['/contract/instrument:BAD']);
    expect(supervisor.state).toBe('up');
  });
});

describe('backoff between attempts', () => {
  it('waits longer after each failure up to the cap, one attempt at a time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const client: BulletSource & { times: number[] } = {
      times: [],
      async call() {
        client.times.push(Date.now());
        throw new GatewayError('UPSTREAM_UNAVAILABLE', 'KuCoin could not be reached.');
      },
    };
    const { supervisor, metrics } = supervise(client, { backoff: { initialMs: 100, maxMs: 800 }, random: () => 0.999_999 });
    supervisor.acquire();
    await vi.advanceTimersByTimeAsync(10_000);
    const gaps = client.times.slice(1).map((t, i) => t - client.times[i]!);
    expect(gaps.slice(0, 7)).toEqual([99, 199, 399, 799, 799, 799, 799]);
    expect(Math.max(...gaps)).toBe(799);
    // 10 s at ≤ 0.8 s a try: about a dozen attempts, not a storm.
    expect(client.times.length).toBe(1 + 4 + Math.floor((10_000 - 99 - 199 - 399 - 799) / 799));
    expect(supervisor.state).toBe('reconnecting');
    expect(await metric(metrics, 'gateway_upstream_ws_disconnect_streak')).toBe(client.times.length);
    await supervisor.close();
    const calls = client.times.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(client.times.length).toBe(calls);
  });
});
