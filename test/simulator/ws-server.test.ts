import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SIM_USER_ID } from '../../src/simulator/ws/frames.js';
import { attachSimWebSocket, type SimPush, type SimWebSocket } from '../../src/simulator/ws/server.js';
import { TokenRegistry } from '../../src/simulator/ws/tokens.js';

type Frame = Record<string, unknown>;
interface Sim {
  server: Server;
  engine: EventEmitter;
  tokens: TokenRegistry;
  socket: SimWebSocket;
  clock: { now: number };
  url(token: string, connectId?: string): string;
  origin: string;
}

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

async function startSim(options: Partial<{ pingIntervalMs: number; pingTimeoutMs: number; sessionMs: number }> = {}): Promise<Sim> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const engine = new EventEmitter();
  const clock = { now: 0 };
  const tokens = new TokenRegistry({ now: () => clock.now, lifetimeMs: 86_400_000 });
  const socket = attachSimWebSocket(server, { engine, tokens, pingIntervalMs: 5_000, pingTimeoutMs: 5_000, sessionMs: 60_000, now: Date.now, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  running.push(async () => {
    await socket.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { server, engine, tokens, socket, clock, origin, url: (token, connectId = 'conn-1') => `${origin}/ws?token=${token}&connectId=${connectId}` };
}

/** A client reading frames in order: `next()` is the next unread one. */
function connect(url: string) {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  let read = 0;
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    waiters.splice(0).forEach((wake) => wake());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return {
    ws,
    frames,
    closed,
    async next(): Promise<Frame> {
      while (frames.length <= read) await new Promise<void>((wake) => waiters.push(wake));
      return frames[read++]!;
    },
    send: (message: unknown) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    /** The next frame answers this ping: nothing was pushed before it. */
    async expectNothingPending(): Promise<void> {
      ws.send(JSON.stringify({ id: 'probe', type: 'ping' }));
      expect(await this.next()).toEqual({ id: 'probe', type: 'pong' });
    },
  };
}

async function connected(sim: Sim, kind: 'private' | 'public' = 'private', connectId = 'conn-1') {
  const client = connect(sim.url(sim.tokens.issue(kind), connectId));
  expect(await client.next()).toEqual({ id: connectId, type: 'welcome' });
  return client;
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

const subscribe = (topic: unknown, extra: Frame = {}) => ({ id: 'sub-1', type: 'subscribe', topic, privateChannel: true, response: true, ...extra });
const push = (p: SimPush) => p;

describe('connecting (docs/kucoin.md "The private WebSocket")', () => {
  it('sends welcome with the connectId first', async () => {
    const sim = await startSim();
    await connected(sim, 'private', 'abc-123');
    expect(sim.socket.connectionCount()).toBe(1);
  });

  it('refuses an unknown token with HTTP 401', async () => {
    const sim = await startSim();
    expect(await upgradeStatus(sim.url('not-a-token'))).toBe(401);
    expect(await upgradeStatus(`${sim.origin}/ws`)).toBe(401);
  });

  it('refuses a stale token with HTTP 401 (docs/kucoin.md "The private WebSocket")', async () => {
    const sim = await startSim();
    const token = sim.tokens.issue('private');
    sim.clock.now = 86_400_000;
    expect(await upgradeStatus(sim.url(token))).toBe(401);
  });

  it('refuses every earlier token after expireAll, and accepts a fresh one', async () => {
    const sim = await startSim();
    const token = sim.tokens.issue('private');
    sim.tokens.expireAll();
    expect(await upgradeStatus(sim.url(token))).toBe(401);
    await connected(sim);
  });

  it('answers 404 for another path when no other upgrade listener exists', async () => {
    const sim = await startSim();
    expect(await upgradeStatus(`${sim.origin}/other?token=x`)).toBe(404);
  });

  it('leaves other paths to other upgrade listeners, and 404s what none of them claims', async () => {
    const sim = await startSim();
    const other = new WebSocketServer({ noServer: true });
    sim.server.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.close(1000));
    });
    const client = connect(`${sim.origin}/other`);
    expect((await client.closed).code).toBe(1000);
    expect(await upgradeStatus(`${sim.origin}/unclaimed`)).toBe(404);
    await new Promise((resolve) => other.close(resolve));
  });
});

describe('heartbeat and commands (docs/kucoin.md "The private WebSocket")', () => {
  it('answers ping with pong carrying the same id', async () => {
    const client = await connected(await startSim());
    client.send({ id: '1545910590801', type: 'ping' });
    expect(await client.next()).toEqual({ id: '1545910590801', type: 'pong' });
  });

  it('acks a subscribe only when response is true', async () => {
    const client = await connected(await startSim(), 'public');
    client.send(subscribe('/contract/instrument:XBTUSDTM', { privateChannel: false }));
    expect(await client.next()).toEqual({ id: 'sub-1', type: 'ack' });
    client.send(subscribe('/contractMarket/tickerV2:XBTUSDTM', { response: false }));
    await client.expectNothingPending();
  });

  it.each([
    ['a private topic on a public token', 'public', subscribe('/contract/positionAll')],
    ['a private topic with privateChannel false', 'private', subscribe('/contractAccount/wallet', { privateChannel: false })],
  ] as const)('refuses %s with 403', async (_title, kind, message) => {
    const client = await connected(await startSim(), kind);
    client.send(message);
    expect(await client.next()).toEqual({ id: 'sub-1', type: 'error', code: 403, data: 'login required' });
  });

  it('accepts privateChannel as the string "true" (docs-new examples)', async () => {
    const client = await connected(await startSim());
    client.send(subscribe('/contractMarket/tradeOrders', { privateChannel: 'true' }));
    expect(await client.next()).toEqual({ id: 'sub-1', type: 'ack' });
  });

  it.each([
    ['an unknown topic', subscribe('/futuresTrade/orders'), 404, 'topic /futuresTrade/orders is not found'],
    ['a missing topic', { id: 'sub-1', type: 'subscribe', response: true }, 406, 'topic required'],
    ['an unknown type', { id: 'sub-1', type: 'login' }, 415, 'command type invalid'],
  ])('answers %s with an error frame', async (_title, message, code, data) => {
    const client = await connected(await startSim());
    client.send(message);
    expect(await client.next()).toEqual({ id: 'sub-1', type: 'error', code, data });
  });

  it('answers a message that is not a JSON object with 415 under the connectId', async () => {
    const client = await connected(await startSim(), 'private', 'conn-9');
    client.send('not json');
    expect(await client.next()).toEqual({ id: 'conn-9', type: 'error', code: 415, data: 'command type invalid' });
  });
});

describe('pushes (docs/kucoin.md "The private WebSocket", example payloads)', () => {
  const mark = push({ topic: '/contract/instrument:XBTUSDTM', subject: 'mark.index.price', data: { markPrice: 90445.02 }, private: false });
  const position = push({ topic: '/contract/position:XBTUSDTM', subject: 'position.change', data: { symbol: 'XBTUSDTM', currentQty: 1 }, private: true });

  it('sends public pushes in KuCoin shape, only to subscribers', async () => {
    const sim = await startSim();
    const subscriber = await connected(sim, 'public', 'a');
    const bystander = await connected(sim, 'public', 'b');
    subscriber.send(subscribe('/contract/instrument:XBTUSDTM', { privateChannel: false }));
    await subscriber.next();
    sim.engine.emit('push', mark);
    const frame = await subscriber.next();
    expect(frame).toEqual({ topic: mark.topic, type: 'message', subject: 'mark.index.price', data: { markPrice: 90445.02 } });
    expect(Object.keys(frame)).toEqual(['topic', 'type', 'subject', 'data']);
    await bystander.expectNothingPending();
  });

  it('adds userId and channelType to private pushes, in the order of the examples', async () => {
    const sim = await startSim();
    const client = await connected(sim);
    client.send(subscribe('/contract/position:XBTUSDTM'));
    await client.next();
    sim.engine.emit('push', position);
    const frame = await client.next();
    expect(Object.keys(frame)).toEqual(['topic', 'type', 'subject', 'userId', 'channelType', 'data']);
    expect(frame).toMatchObject({ topic: position.topic, userId: SIM_USER_ID, channelType: 'private', data: position.data });
  });

  it('subscribes to each symbol of a comma-joined topic', async () => {
    const sim = await startSim();
    const client = await connected(sim, 'public');
    client.send(subscribe('/contract/instrument:XBTUSDTM,ETHUSDTM'));
    await client.next();
    sim.engine.emit('push', { ...mark, topic: '/contract/instrument:ETHUSDTM' });
    sim.engine.emit('push', mark);
    expect((await client.next()).topic).toBe('/contract/instrument:ETHUSDTM');
    expect((await client.next()).topic).toBe('/contract/instrument:XBTUSDTM');
  });

  it('routes a symbol-less announcement to the subscription naming data.symbol', async () => {
    const sim = await startSim();
    const client = await connected(sim, 'public');
    client.send(subscribe('/contract/announcement:XBTUSDTM'));
    await client.next();
    const announcement = (symbol: string) => push({ topic: '/contract/announcement', subject: 'funding.begin', data: { symbol, fundingRate: -0.002966 }, private: false });
    sim.engine.emit('push', announcement('ETHUSDTM'));
    sim.engine.emit('push', announcement('XBTUSDTM'));
    expect(await client.next()).toEqual({ topic: '/contract/announcement', type: 'message', subject: 'funding.begin', data: announcement('XBTUSDTM').data });
  });

  it('sends every position push to positionAll', async () => {
    const sim = await startSim();
    const client = await connected(sim);
    client.send(subscribe('/contract/positionAll'));
    await client.next();
    sim.engine.emit('push', { ...position, topic: '/contract/position:ETHUSDTM' });
    expect(await client.next()).toMatchObject({ topic: '/contract/position:ETHUSDTM', subject: 'position.change' });
  });

  it('sends orderChange on the all-orders topic and symbolOrderChange on the symbol topic', async () => {
    const sim = await startSim();
    const all = await connected(sim, 'private', 'all');
    const one = await connected(sim, 'private', 'one');
    all.send(subscribe('/contractMarket/tradeOrders'));
    one.send(subscribe('/contractMarket/tradeOrders:XBTUSDTM'));
    await Promise.all([all.next(), one.next()]);
    sim.engine.emit('push', { topic: '/contractMarket/tradeOrders:XBTUSDTM', subject: 'symbolOrderChange', data: { symbol: 'XBTUSDTM', type: 'open' }, private: true });
    expect(await all.next()).toMatchObject({ topic: '/contractMarket/tradeOrders', subject: 'orderChange' });
    expect(await one.next()).toMatchObject({ topic: '/contractMarket/tradeOrders:XBTUSDTM', subject: 'symbolOrderChange' });
  });

  it('stops pushing after unsubscribe', async () => {
    const sim = await startSim();
    const client = await connected(sim, 'public');
    client.send(subscribe('/contract/instrument:XBTUSDTM'));
    await client.next();
    client.send({ id: 'unsub-1', type: 'unsubscribe', topic: '/contract/instrument:XBTUSDTM', privateChannel: false, response: true });
    expect(await client.next()).toEqual({ id: 'unsub-1', type: 'ack' });
    sim.engine.emit('push', mark);
    await client.expectNothingPending();
  });
});

describe('limits (docs/kucoin.md "The private WebSocket")', () => {
  const symbols = (from: number, count: number) => Array.from({ length: count }, (_, i) => `S${from + i}USDTM`).join(',');

  it('refuses more than 100 topics in one subscribe with 509', async () => {
    const client = await connected(await startSim(), 'public');
    client.send(subscribe(`/contract/instrument:${symbols(0, 101)}`));
    expect(await client.next()).toEqual({ id: 'sub-1', type: 'error', code: 509, data: 'exceed max subscription count limitation of 100 per time' });
  });

  it('refuses more than 300 topics per session with 509', async () => {
    const client = await connected(await startSim(), 'public');
    for (let i = 0; i < 3; i += 1) {
      client.send(subscribe(`/contract/instrument:${symbols(i * 100, 100)}`));
      expect(await client.next()).toEqual({ id: 'sub-1', type: 'ack' });
    }
    client.send(subscribe('/contract/instrument:ONEMOREUSDTM'));
    expect(await client.next()).toEqual({ id: 'sub-1', type: 'error', code: 509, data: 'exceed max subscription count limitation of 300 per session' });
  });

  it('answers the 101st uplink message within 10 s with 509 and ends the session', async () => {
    const client = await connected(await startSim(), 'private', 'flood');
    for (let i = 0; i < 101; i += 1) client.send({ id: String(i), type: 'ping' });
    for (let i = 0; i < 100; i += 1) expect(await client.next()).toEqual({ id: String(i), type: 'pong' });
    expect(await client.next()).toEqual({ id: 'flood', type: 'error', code: 509, data: 'exceed max permits per second' });
    expect(await client.closed).toEqual({ code: 1000, reason: 'Bye' });
  });
});

describe('lifetime and faults (docs/kucoin.md "The private WebSocket"; docs/simulator.md "Control API")', () => {
  it('drops a client silent for longer than pingInterval + pingTimeout', async () => {
    const sim = await startSim({ pingIntervalMs: 150, pingTimeoutMs: 150 });
    const started = Date.now();
    const client = await connected(sim, 'private', 'idle');
    expect(await client.next()).toEqual({ id: 'idle', type: 'error', code: 400, data: 'ping timeout' });
    expect((await client.closed).code).toBe(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('keeps a client that pings', async () => {
    const sim = await startSim({ pingIntervalMs: 150, pingTimeoutMs: 150 });
    const client = await connected(sim);
    for (let i = 0; i < 12; i += 1) {
      client.send({ id: String(i), type: 'ping' });
      expect(await client.next()).toEqual({ id: String(i), type: 'pong' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes every session after sessionMs with a close frame', async () => {
    const sim = await startSim({ sessionMs: 200 });
    const client = await connected(sim);
    client.send({ id: 'keep', type: 'ping' });
    expect(await client.closed).toEqual({ code: 1000, reason: 'Bye' });
    await vi.waitFor(() => expect(sim.socket.connectionCount()).toBe(0));
  });

  it('dropAll cuts every connection without a close frame', async () => {
    const sim = await startSim();
    const clients = [await connected(sim, 'private', 'a'), await connected(sim, 'public', 'b')];
    expect(sim.socket.dropAll()).toBe(2);
    expect(sim.socket.connectionCount()).toBe(0);
    for (const client of clients) expect((await client.closed).code).toBe(1006);
  });

  it('close() closes every connection and stops routing upgrades', async () => {
    const sim = await startSim();
    const client = await connected(sim);
    await sim.socket.close();
    expect((await client.closed).code).toBe(1001);
    expect(sim.server.listenerCount('upgrade')).toBe(0);
  });
});
