// UpstreamSupervisor: the token, the welcome, subscriptions with acks, then pushes.
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { cleanUp, expectNoSecrets, fakeClient, histogram, metric, positionPush, sleep, startRaw, startSim, supervise, TOPICS, waitFor } from './stream-supervisor-harness.js';

afterEach(cleanUp);

describe('connecting (docs/kucoin.md "The private WebSocket")', () => {
  it("asks for its token as the gateway's own call, whoever acquired it (no caller's share, no request deadline)", async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const scopes: unknown[] = [];
    const client = { call: (name: Parameters<typeof bullet.client.call>[0], options: Parameters<typeof bullet.client.call>[1]) => (scopes.push(options.scope), bullet.client.call(name, options)) };
    const { supervisor, resubscribed } = supervise(client);
    supervisor.setTopics(TOPICS);
    // A REST request (a leverage change waiting for its push) brings the stream up.
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed() === 1);
    expect(scopes).toEqual([null]);
  });

  it('gets a token, waits for welcome, subscribes with acks, then delivers pushes', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, metrics, pushes, states, resubscribed, logs } = supervise(bullet.client);
    supervisor.setTopics(TOPICS);
    expect(supervisor.state).toBe('idle');
    supervisor.acquire();
    expect(supervisor.state).toBe('connecting');
    await waitFor('resubscribed', () => resubscribed() === 1);
    expect(supervisor.state).toBe('up');
    expect(states).toEqual(['connecting', 'up']);

    sim.push(positionPush(1));
    sim.push({ topic: '/contractAccount/wallet', subject: 'walletBalance.change', data: { currency: 'USDT', timestamp: String(Date.now() - 250) }, private: true });
    sim.push({ topic: '/contract/instrument:XBTUSDTM', subject: 'mark.index.price', data: { markPrice: 1, timestamp: Date.now() }, private: false });
    sim.push({ topic: '/contract/instrument:ETHUSDTM', subject: 'mark.index.price', data: { markPrice: 2, timestamp: Date.now() }, private: false });
    await waitFor('three pushes', () => pushes.length === 3);
    await sleep(20);
    expect(pushes.map((p) => [p.topic, p.subject])).toEqual([
      ['/contract/position:XBTUSDTM', 'position.change'],
      ['/contractAccount/wallet', 'walletBalance.change'],
      ['/contract/instrument:XBTUSDTM', 'mark.index.price'],
    ]);
    expect(pushes[0]!.data).toMatchObject({ seq: 1 });
    expect(Math.abs(pushes[0]!.receivedAt - Date.now())).toBeLessThan(1_000);

    expect(bullet.issued).toHaveLength(1);
    expect(await metric(metrics, 'gateway_upstream_ws_state', { state: 'up' })).toBe(1);
    expect(await metric(metrics, 'gateway_upstream_ws_state', { state: 'connecting' })).toBe(0);
    expect(await metric(metrics, 'gateway_upstream_ws_messages_total', { subject: 'position.change' })).toBe(1);
    expect(await metric(metrics, 'gateway_upstream_ws_messages_total', { subject: 'walletBalance.change' })).toBe(1);
    const walletAge = await histogram(metrics, 'gateway_upstream_ws_message_age_seconds', { topic: '/contractAccount/wallet' });
    expect(walletAge.count).toBe(1);
    expect(walletAge.sum).toBeGreaterThanOrEqual(0.25);
    expect(walletAge.sum).toBeLessThan(5);
    // The position push carries no ts/timestamp: no age.
    expect((await histogram(metrics, 'gateway_upstream_ws_message_age_seconds', { topic: '/contract/position' })).count).toBe(0);
    expect((await histogram(metrics, 'gateway_upstream_ws_message_age_seconds', { topic: '/contract/instrument' })).count).toBe(1);
    expect(await metric(metrics, 'gateway_upstream_ws_disconnect_streak')).toBe(0);
    expectNoSecrets(logs, bullet.issued);
  });

  it('subscribes the difference when the wanted set changes, while up', async () => {
    const raw = await startRaw(() => ({}));
    const bullet = fakeClient(raw.endpoint, () => 'tok-1');
    const { supervisor } = supervise(bullet.client);
    supervisor.setTopics(['/contract/instrument:A', '/contractAccount/wallet']);
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    supervisor.setTopics(['/contract/instrument:A', '/contract/instrument:B', '/contract/instrument:C']);
    await waitFor('three more messages', () => raw.connections[0]!.received.filter((f) => f.type !== 'ping').length === 4);
    const subscriptions = raw.connections[0]!.received.filter((f) => f.type !== 'ping').map((f) => [f.type, f.topic, f.privateChannel, f.response]);
    expect(subscriptions).toEqual([
      ['subscribe', '/contractAccount/wallet', true, true],
      ['subscribe', '/contract/instrument:A', false, true],
      ['unsubscribe', '/contractAccount/wallet', true, true],
      ['subscribe', '/contract/instrument:B,C', false, true],
    ]);
  });

  it('connects to `${endpoint}?token=…&connectId=…` with a fresh token and connectId each time', async () => {
    const raw = await startRaw(() => ({}));
    let n = 0;
    const bullet = fakeClient(raw.endpoint, () => `tok-${(n += 1)}`);
    const { supervisor } = supervise(bullet.client);
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    raw.connections[0]!.ws.terminate();
    await waitFor('second connection', () => raw.connections.length === 2 && supervisor.state === 'up');
    expect(raw.tokensUsed()).toEqual(['tok-1', 'tok-2']);
    const ids = raw.connections.map((c) => c.url.searchParams.get('connectId'));
    expect(ids[0]).toBeTruthy();
    expect(ids[0]).not.toBe(ids[1]);
  });
});
