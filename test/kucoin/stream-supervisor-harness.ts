/**
 * What the UpstreamSupervisor tests share: the simulator's socket and a misbehaving raw socket as
 * KuCoin, a scripted bullet-private, a supervisor that records its pushes, states and logs, and
 * metric readers. Each test file registers `cleanUp` with afterEach.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { expect, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BulletSource } from '../../src/kucoin/stream/bullet.js';
import { UpstreamSupervisor, type SupervisorOptions, type UpstreamPush, type UpstreamState } from '../../src/kucoin/stream/supervisor.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { attachSimWebSocket, type SimPush } from '../../src/simulator/ws/server.js';
import { TokenRegistry } from '../../src/simulator/ws/tokens.js';

export type Frame = Record<string, unknown>;

/** What a test started (servers, supervisors, timers), stopped after it in reverse order. */
export const cleanups: (() => Promise<void> | void)[] = [];

/** Each test file's afterEach: real timers back, then every cleanup. */
export async function cleanUp(): Promise<void> {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** The simulator's Classic socket on 127.0.0.1:0, as the tests' KuCoin. */
export async function startSim() {
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

export interface RawBehaviour {
  welcome?: boolean;
  pong?: boolean;
  /** How to answer a (un)subscribe; default ack. */
  reply?: (message: Frame) => 'ack' | 'none' | { code: number; data: string };
  /** Sees each message first; true when it answered it itself. */
  script?: (message: Frame, ws: WebSocket) => boolean;
}

/** A bare `ws` server that misbehaves as told; `behaviour(n)` is for the n-th connection (0-based). */
export async function startRaw(behaviour: (n: number) => RawBehaviour) {
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

export type Answer = 'token' | 'unknown-token' | Error;

/** KucoinClient's bullet-private, played by the test: `script` says what the n-th call answers (a fresh token by default). */
export function fakeClient(endpoint: string, issue: () => string, options: { pingInterval?: number; pingTimeout?: number; script?: Answer[] } = {}) {
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

export function supervise(client: BulletSource, overrides: Partial<SupervisorOptions> = {}) {
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

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function metric(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const family = await metrics.registry.getSingleMetric(name)!.get();
  const sample = family.values.find((v) => !('le' in v.labels) && Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value));
  return sample?.value ?? 0;
}

/** A histogram's `_count` and `_sum` for one label set. */
export async function histogram(metrics: Metrics, name: string, labels: Record<string, string>): Promise<{ count: number; sum: number }> {
  const family = await metrics.registry.getSingleMetric(name)!.get();
  const read = (suffix: string) =>
    family.values.find((v) => (v as { metricName?: string }).metricName === `${name}_${suffix}` && Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value))?.value ?? 0;
  return { count: read('count'), sum: read('sum') };
}

export const positionPush = (seq: number): SimPush => ({
  topic: '/contract/position:XBTUSDTM',
  subject: 'position.change',
  data: { symbol: 'XBTUSDTM', seq, currentTimestamp: Date.now() },
  private: true,
});

export const TOPICS = ['/contract/position:XBTUSDTM', '/contractAccount/wallet', '/contract/instrument:XBTUSDTM'];

/** Every issued token must stay out of the log lines. */
export function expectNoSecrets(logs: Frame[], tokens: readonly string[]): void {
  const text = logs.map((line) => JSON.stringify(line)).join('\n');
  for (const token of tokens) expect(text).not.toContain(token);
}
