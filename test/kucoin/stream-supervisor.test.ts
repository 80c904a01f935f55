import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { GatewayError } from '../../src/errors.js';
import type { BulletSource } from '../../src/kucoin/stream/bullet.js';
import { UpstreamSupervisor, type SupervisorOptions, type UpstreamPush, type UpstreamState } from '../../src/kucoin/stream/supervisor.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { attachSimWebSocket, type SimPush } from '../../src/simulator/ws/server.js';
import { TokenRegistry } from '../../src/simulator/ws/tokens.js';

type Frame = Record<string, unknown>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The simulator's Classic socket on 127.0.0.1:0, as the tests' KuCoin. */
async function startSim() {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const engine = new EventEmitter();
  const tokens = new TokenRegistry({ now: Date.now, lifetimeMs: 86_400_000 });
  const socket = attachSimWebSocket(server, { engine, tokens, pingIntervalMs: 5_000, pingTimeoutMs: 5_000, sessionMs: 600_000, now: Date.now });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await socket.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    socket,
    tokens,
    endpoint: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    push: (push: SimPush) => engine.emit('push', push),
  };
}

interface RawBehaviour {
  welcome?: boolean;
  pong?: boolean;
  /** How to answer a (un)subscribe; default ack. */
  reply?: (message: Frame) => 'ack' | 'none' | { code: number; data: string };
  /** Sees each message first; true when it answered it itself. */
  script?: (message: Frame, ws: WebSocket) => boolean;
}

/** A bare `ws` server that misbehaves as told; `behaviour(n)` is for the n-th connection (0-based). */
async function startRaw(behaviour: (n: number) => RawBehaviour) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const connections: { url: URL; received: Frame[]; ws: WebSocket }[] = [];
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'ws://raw');
    const how = { welcome: true, pong: true, reply: () => 'ack' as const, ...behaviour(connections.length) };
    const connection = { url, received: [] as Frame[], ws };
    connections.push(connection);
    if (how.welcome) ws.send(JSON.stringify({ id: url.searchParams.get('connectId'), type: 'welcome' }));
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Frame;
      connection.received.push(message);
      if (how.script?.(message, ws)) return;
      if (message.type === 'ping' && how.pong) ws.send(JSON.stringify({ id: message.id, type: 'pong' }));
      if (message.type === 'subscribe' || message.type === 'unsubscribe') {
        const answer = how.reply(message);
        if (answer === 'ack') ws.send(JSON.stringify({ id: message.id, type: 'ack' }));
        else if (answer !== 'none') ws.send(JSON.stringify({ id: message.id, type: 'error', ...answer }));
      }
    });
  });
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  const port = (wss.address() as AddressInfo).port;
  return { connections, endpoint: `ws://127.0.0.1:${port}/`, tokensUsed: () => connections.map((c) => c.url.searchParams.get('token')) };
}

type Answer = 'token' | 'unknown-token' | Error;

/** KucoinClient's bullet-private, played by the test: `script` says what the n-th call answers (a fresh token by default). */
function fakeClient(endpoint: string, issue: () => string, options: { pingInterval?: number; pingTimeout?: number; script?: Answer[] } = {}) {
  const script = [...(options.script ?? [])];
  const issued: string[] = [];
  const callTimes: number[] = [];
  let unknown = 0;
  const client: BulletSource = {
    async call(name) {
      expect(name).toBe('bulletPrivate');
      callTimes.push(Date.now());
      const next = script.shift() ?? 'token';
      if (next instanceof Error) throw next;
      const token = next === 'token' ? issue() : `never-issued-token-${(unknown += 1)}`;
      issued.push(token);
      return {
        token,
        instanceServers: [{ endpoint, encrypt: false, protocol: 'websocket', pingInterval: options.pingInterval ?? 100, pingTimeout: options.pingTimeout ?? 200 }],
      };
    },
  };
  return { client, issued, callTimes };
}

function supervise(client: BulletSource, overrides: Partial<SupervisorOptions> = {}) {
  const metrics = createMetrics();
  const logs: Frame[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Frame) });
  const supervisor = new UpstreamSupervisor({
    client,
    logger,
    metrics,
    welcomeTimeoutMs: 300,
    ackTimeoutMs: 300,
    backoff: { initialMs: 10, maxMs: 40 },
    lingerMs: 60_000,
    stableAfterMs: 60_000,
    random: () => 0.5,
    ...overrides,
  });
  const pushes: UpstreamPush[] = [];
  const states: UpstreamState[] = [];
  let resubscribed = 0;
  supervisor.on('push', (push) => pushes.push(push));
  supervisor.on('state', (state) => states.push(state));
  supervisor.on('resubscribed', () => (resubscribed += 1));
  cleanups.push(() => supervisor.close());
  return { supervisor, metrics, logs, pushes, states, resubscribed: () => resubscribed };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metric(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const family = await metrics.registry.getSingleMetric(name)!.get();
  const sample = family.values.find((v) => !('le' in v.labels) && Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value));
  return sample?.value ?? 0;
}

/** A histogram's `_count` and `_sum` for one label set. */
async function histogram(metrics: Metrics, name: string, labels: Record<string, string>): Promise<{ count: number; sum: number }> {
  const family = await metrics.registry.getSingleMetric(name)!.get();
  const read = (suffix: string) =>
    family.values.find((v) => (v as { metricName?: string }).metricName === `${name}_${suffix}` && Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value))?.value ?? 0;
  return { count: read('count'), sum: read('sum') };
}

const positionPush = (seq: number): SimPush => ({
  topic: '/contract/position:XBTUSDTM',
  subject: 'position.change',
  data: { symbol: 'XBTUSDTM', seq, currentTimestamp: Date.now() },
  private: true,
});

const TOPICS = ['/contract/position:XBTUSDTM', '/contractAccount/wallet', '/contract/instrument:XBTUSDTM'];

/** Every issued token must stay out of the log lines. */
function expectNoSecrets(logs: Frame[], tokens: readonly string[]): void {
  const text = logs.map((line) => JSON.stringify(line)).join('\n');
  for (const token of tokens) expect(text).not.toContain(token);
}

describe('connecting (kucoin-futures.md §5 steps 1-4)', () => {
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

describe('failures and reconnects (§5 steps 3 and 5, §6 item 7)', () => {
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

describe('planned rotation before the 24 h cut (§5 step 5)', () => {
  it('makes the new connection ready before letting the old go: no gap, no duplicate', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, metrics, pushes, states, resubscribed } = supervise(bullet.client, { rotateAfterMs: 250 });
    supervisor.setTopics(TOPICS);
    supervisor.acquire();
    await waitFor('up', () => resubscribed() === 1);

    let seq = 0;
    let most = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 3; i += 1) sim.push(positionPush((seq += 1)));
      most = Math.max(most, sim.socket.connectionCount());
    }, 2);
    cleanups.push(() => clearInterval(pump));
    await waitFor('two rotations', () => resubscribed() >= 3, 5_000);
    clearInterval(pump);
    await waitFor('every push', () => pushes.length >= seq);
    await sleep(50);

    const seen = pushes.map((p) => (p.data as { seq: number }).seq);
    expect(seen).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    expect(most).toBe(2);
    expect(states).toEqual(['connecting', 'up']);
    expect(bullet.issued.length).toBeGreaterThanOrEqual(3);
    expect(new Set(bullet.issued).size).toBe(bullet.issued.length);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'rotation' })).toBeGreaterThanOrEqual(2);
    await waitFor('old connections closed', () => sim.socket.connectionCount() === 1);
  });

  it('switches after a barrier ping on the old connection and filters repeats on both sides of the switch', async () => {
    // Events E1..E5 on one topic, delivered in the orders a real network allows:
    //   old: E1 | (on the barrier ping) E2, E3, E4, pong      new: E3, ack | (after the switch) E4, E5
    // E2 reached only the old connection (it happened before the new one subscribed).
    const push = (ws: WebSocket, seq: number) =>
      ws.send(JSON.stringify({ topic: '/contract/position:XBTUSDTM', type: 'message', subject: 'position.change', data: { seq } }));
    let newSubscribed = false;
    const raw = await startRaw((n) =>
      n === 0
        ? {
            script: (message, ws) => {
              if (message.type !== 'ping' || !newSubscribed) return false;
              for (const seq of [2, 3, 4]) push(ws, seq);
              ws.send(JSON.stringify({ id: message.id, type: 'pong' }));
              return true;
            },
          }
        : n === 1
          ? {
              script: (message, ws) => {
                if (message.type !== 'subscribe') return false;
                push(ws, 3);
                ws.send(JSON.stringify({ id: message.id, type: 'ack' }));
                newSubscribed = true;
                return true;
              },
            }
          : {},
    );
    const bullet = fakeClient(raw.endpoint, () => 'tok', { pingInterval: 10_000, pingTimeout: 1_000 });
    const { supervisor, pushes, resubscribed } = supervise(bullet.client, { rotateAfterMs: 200 });
    supervisor.setTopics(['/contract/position:XBTUSDTM']);
    supervisor.acquire();
    await waitFor('up', () => resubscribed() === 1);
    push(raw.connections[0]!.ws, 1);
    await waitFor('switched', () => resubscribed() === 2);
    push(raw.connections[1]!.ws, 4);
    push(raw.connections[1]!.ws, 5);
    await waitFor('E5', () => pushes.some((p) => (p.data as { seq: number }).seq === 5));
    await sleep(20);
    expect(pushes.map((p) => (p.data as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps the old connection when the new one cannot come up, and tries again', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'), { script: ['token', 'unknown-token'] });
    const { supervisor, metrics, states, resubscribed } = supervise(bullet.client, { rotateAfterMs: 100 });
    supervisor.acquire();
    await waitFor('rotated once', () => resubscribed() === 2);
    expect(states).toEqual(['connecting', 'up']);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'rotation' })).toBeGreaterThanOrEqual(1);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'token_refused' })).toBe(1);
  });
});

describe('reference counting', () => {
  it('opens on the first acquire and closes lingerMs after the last release', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, states, metrics } = supervise(bullet.client, { lingerMs: 150 });
    supervisor.acquire();
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    supervisor.release();
    supervisor.release();
    await sleep(50);
    expect(supervisor.state).toBe('up');
    supervisor.acquire(); // within the linger: the same connection stays
    await sleep(200);
    expect(supervisor.state).toBe('up');
    expect(bullet.issued).toHaveLength(1);
    supervisor.release();
    await waitFor('idle', () => supervisor.state === 'idle');
    await waitFor('closed upstream', () => sim.socket.connectionCount() === 0);
    expect(await metric(metrics, 'gateway_upstream_ws_state', { state: 'idle' })).toBe(1);
    supervisor.acquire();
    await waitFor('up again', () => supervisor.state === 'up');
    expect(bullet.issued).toHaveLength(2);
    expect(states).toEqual(['connecting', 'up', 'idle', 'connecting', 'up']);
  });

  it('with lingerAfterRelease(false), closes at the last release, or at once when unheld; true lingers again', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor } = supervise(bullet.client, { lingerMs: 60_000 });
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    supervisor.lingerAfterRelease(false);
    expect(supervisor.state).toBe('up'); // still held
    supervisor.release();
    expect(supervisor.state).toBe('idle'); // at once, not 60 s later
    await waitFor('closed upstream', () => sim.socket.connectionCount() === 0);

    supervisor.lingerAfterRelease(true);
    supervisor.acquire();
    await waitFor('up again', () => supervisor.state === 'up');
    supervisor.release();
    await sleep(50);
    expect(supervisor.state).toBe('up'); // lingering as usual
    supervisor.lingerAfterRelease(false); // nothing holds it: now
    expect(supervisor.state).toBe('idle');
  });

  it('stops an attempt in progress when released to zero', async () => {
    const raw = await startRaw(() => ({ welcome: false }));
    const bullet = fakeClient(raw.endpoint, () => 'tok');
    const { supervisor } = supervise(bullet.client, { lingerMs: 0, welcomeTimeoutMs: 5_000 });
    supervisor.acquire();
    await waitFor('a connection', () => raw.connections.length === 1);
    supervisor.release();
    await waitFor('idle', () => supervisor.state === 'idle');
    await waitFor('socket closed', () => raw.connections[0]!.ws.readyState === raw.connections[0]!.ws.CLOSED);
    await sleep(50);
    expect(raw.connections).toHaveLength(1);
  });

  it('refuses a release without an acquire', () => {
    const { supervisor } = supervise(fakeClient('ws://127.0.0.1:1/', () => 'tok').client);
    expect(() => supervisor.release()).toThrow(/without a matching acquire/);
  });

  it('close() ends everything for good', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, metrics } = supervise(bullet.client);
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    await supervisor.close();
    expect(supervisor.state).toBe('closed');
    await waitFor('closed upstream', () => sim.socket.connectionCount() === 0);
    supervisor.acquire();
    await sleep(30);
    expect(supervisor.state).toBe('closed');
    expect(bullet.issued).toHaveLength(1);
    expect(await metric(metrics, 'gateway_upstream_ws_state', { state: 'closed' })).toBe(1);
  });
});

describe('topic limits (§2 "WS limits")', () => {
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
