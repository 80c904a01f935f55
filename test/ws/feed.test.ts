/**
 * The live feed of /ws/futures: a real gateway on port 0, KuCoin's REST mocked with msw, and a
 * fake upstream supervisor (test/ws/fake-upstream.ts) standing in for KuCoin's WebSocket. Every
 * message is checked against asyncapi.yaml and the seq rule as it arrives (test/ws/ws-client.ts).
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { HttpResponse, delay, http } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';
import { FakeUpstream } from './fake-upstream.js';
import { connectFeedClient, type FeedClient } from './ws-client.js';

const kucoin = mockKucoin();
let running: RunningGateway | undefined;
let upstream: FakeUpstream;
const clients: FeedClient[] = [];

const POSITION = fixture('position').data;
const ORDERS = fixture('orders-active').data;
const [XBT_ORDER, ETH_ORDER] = ORDERS.items;
const FUNDING = fixture('funding-rate-current').data;
const PLACED_ORDER = { ...fixture('order').data, id: '900000000000000001', isActive: true, status: 'open', filledSize: 0, dealSize: 0, avgDealPrice: '0', type: 'limit', price: '60000' };

/** KuCoin as the feed reads it: one position, two open orders, a funding rate for any symbol. */
const accountHandlers = () => [
  http.get(`${KUCOIN}/api/v1/positions`, () => json([POSITION])),
  http.get(`${KUCOIN}/api/v1/orders`, () => json(ORDERS)),
  http.get(`${KUCOIN}/api/v1/funding-rate/:symbol/current`, ({ params }) => json({ ...FUNDING, symbol: `.${String(params.symbol)}FPI8H` })),
  http.get(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => (params.orderId === PLACED_ORDER.id ? json(PLACED_ORDER) : HttpResponse.json({ code: '100001', msg: 'order not exist' }, { status: 404 }))),
];

beforeAll(() => kucoin.listen());
beforeEach(() => {
  kucoin.server.use(...accountHandlers());
  upstream = new FakeUpstream();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await running?.stop();
  running = undefined;
  kucoin.reset();
});
afterAll(() => kucoin.close());

async function start(env: Record<string, string> = {}): Promise<RunningGateway> {
  running = await startGateway(
    // WS_MAX_CONNECTIONS_PER_CLIENT: every test client comes from 127.0.0.1, and some tests open 50.
    { FEATURE_FUTURES: 'true', FUTURES_BASE_URL: KUCOIN, UPSTREAM_TIMEOUT_MS: '500', WS_MAX_CONNECTIONS_PER_CLIENT: '100', ...TEST_CREDENTIALS, ...env },
    { upstream, feed: { retry: { initialMs: 50, maxMs: 200 } } },
  );
  return running;
}

async function connect(): Promise<FeedClient> {
  const client = await connectFeedClient(`${running!.wsUrl}/ws/futures`);
  clients.push(client);
  return client;
}

/** futures_connected and the snapshots that follow it for the default symbols. */
async function connectedWithSnapshots(): Promise<FeedClient> {
  const client = await connect();
  const messages = await client.take(5);
  expect(messages.map((m) => [m.type, m.snapshot])).toEqual([
    ['futures_connected', undefined],
    ['position_update', true],
    ['order_update', true],
    ['funding_tick', true],
    ['funding_tick', true],
  ]);
  return client;
}

const calls = (path: string) => kucoin.calls.filter((c) => c.path === path).length;
const positionPush = (data: Record<string, unknown>) => upstream.push(`/contract/position:${POSITION.symbol}`, 'position.change', data);
const orderPush = (data: Record<string, unknown>) => upstream.push('/contractMarket/tradeOrders', 'orderChange', data);
const ns = (ms: number) => `${ms}000000`;

describe('connecting', () => {
  it('greets, then sends the position, order and funding snapshots in order', async () => {
    await start();
    const client = await connect();
    const [hello, positions, orders, xbt, eth] = await client.take(5);
    expect(hello).toMatchObject({ type: 'futures_connected', seq: 1, symbols: ['XBTUSDTM', 'ETHUSDTM'] });
    expect(positions).toMatchObject({ type: 'position_update', snapshot: true, seq: 2, data: [{ symbol: 'XBTUSDTM', side: 'LONG', qty: 1, markPrice: 68900.7 }] });
    expect(positions.reason).toBeUndefined();
    expect(orders).toMatchObject({ type: 'order_update', snapshot: true, seq: 3 });
    // Newest first, as the REST list (the snapshot is read through it).
    expect(orders.data.map((o: { orderId: string }) => o.orderId)).toEqual([ETH_ORDER.id, XBT_ORDER.id]);
    expect(orders.event).toBeUndefined();
    expect(xbt).toMatchObject({ type: 'funding_tick', snapshot: true, seq: 4, data: { symbol: 'XBTUSDTM', fundingRateSymbol: '.XBTUSDTMFPI8H', rate: FUNDING.value } });
    expect(eth).toMatchObject({ type: 'funding_tick', snapshot: true, seq: 5, data: { symbol: 'ETHUSDTM', baseAsset: 'ETH' } });
  });

  it('acquires the upstream once with the account topics and the watched instruments', async () => {
    await start();
    await connectedWithSnapshots();
    expect(upstream.acquires).toBe(1);
    // Announcements per symbol, as KuCoin's current spec subscribes them (`/contract/announcement:{symbol}`).
    expect(upstream.topics).toEqual(['/contract/positionAll', '/contractMarket/tradeOrders', '/contract/marginMode', '/contract/instrument:ETHUSDTM,XBTUSDTM', '/contract/announcement:ETHUSDTM,XBTUSDTM']);
  });

  it('waits for the upstream to come up before the snapshots, without an upstream_status for a normal start', async () => {
    upstream.autoUp = false;
    await start();
    const client = await connect();
    await client.take(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(client.pending()).toEqual([]);
    expect(calls('/api/v1/positions')).toBe(0);
    upstream.comeUp();
    expect((await client.take(4)).map((m) => m.type)).toEqual(['position_update', 'order_update', 'funding_tick', 'funding_tick']);
  });

  it('tells a client that connects while the upstream is reconnecting, then snapshots once it is back', async () => {
    await start();
    await connectedWithSnapshots();
    upstream.drop('pong_timeout');
    const late = await connect();
    const [hello, status] = await late.take(2);
    expect(hello.type).toBe('futures_connected');
    expect(status).toMatchObject({ type: 'upstream_status', status: 'reconnecting', reason: expect.stringContaining('pong timeout') });
    upstream.comeUp();
    expect((await late.take(5)).map((m) => [m.type, m.status ?? m.snapshot])).toEqual([
      ['upstream_status', 'up'],
      ['position_update', true],
      ['order_update', true],
      ['funding_tick', true],
      ['funding_tick', true],
    ]);
  });

  it('shares one acquire among 50 clients, and concurrent connects share the REST snapshot', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, async () => (await delay(300), json([POSITION]))));
    await start();
    const many = await Promise.all(Array.from({ length: 50 }, () => connect()));
    for (const client of many) expect((await client.take(5)).map((m) => m.type)).toEqual(['futures_connected', 'position_update', 'order_update', 'funding_tick', 'funding_tick']);
    expect(upstream.acquires).toBe(1);
    expect(calls('/api/v1/positions')).toBeLessThan(10);
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await new Promise((r) => setTimeout(r, 50));
    expect(upstream.releases).toBe(1);
  });

  it('snapshots a client arriving while others are live from the cache they share, with no KuCoin call, pushes included', async () => {
    await start();
    const first = await connectedWithSnapshots();
    positionPush({ ...POSITION, currentQty: 3, changeReason: 'positionChange' });
    expect((await first.take(1))[0]).toMatchObject({ type: 'position_update', data: [{ qty: 3 }] });
    const before = kucoin.calls.length;
    const later = await Promise.all(Array.from({ length: 20 }, () => connect()));
    for (const client of later) {
      const [, positions, , ...ticks] = await client.take(5);
      expect(positions).toMatchObject({ type: 'position_update', snapshot: true, data: [{ symbol: 'XBTUSDTM', qty: 3 }] });
      expect(ticks.map((t) => t.data.symbol)).toEqual(['XBTUSDTM', 'ETHUSDTM']);
    }
    expect(kucoin.calls.slice(before)).toEqual([]);
  });

  it('answers upstream_status down when the REST snapshot fails, and snapshots once KuCoin answers again', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => HttpResponse.json({ code: '500000', msg: 'internal' }, { status: 500 })));
    await start();
    const client = await connect();
    const [, status] = await client.take(2);
    expect(status).toMatchObject({ type: 'upstream_status', status: 'down', reason: expect.stringContaining('KuCoin REST') });
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => json([POSITION])));
    const recovered = await client.take(5, 12_000);
    expect(recovered.map((m) => [m.type, m.status ?? m.snapshot])).toEqual([
      ['upstream_status', 'up'],
      ['position_update', true],
      ['order_update', true],
      ['funding_tick', true],
      ['funding_tick', true],
    ]);
  });
});

describe('positions', () => {
  it('sends a full position.change as position_update with its changeReason', async () => {
    await start();
    const client = await connectedWithSnapshots();
    positionPush({ ...POSITION, currentQty: 3, markPrice: 69000, changeReason: 'positionChange' });
    const update = await client.waitFor((m) => m.type === 'position_update');
    expect(update).toMatchObject({ snapshot: false, reason: 'positionChange', data: [{ symbol: 'XBTUSDTM', qty: 3, baseQty: 0.003, markPrice: 69000 }] });
  });

  it('merges a partial mark-price push into the position it holds (reason markPrice)', async () => {
    await start();
    const client = await connectedWithSnapshots();
    positionPush({ markPrice: 70000.5, markValue: 70.0005, unrealisedPnl: 2.5, unrealisedPnlPcnt: 0.03, currentTimestamp: 1764200000000, settleCurrency: 'USDT' });
    const update = await client.waitFor((m) => m.type === 'position_update');
    expect(update).toMatchObject({ snapshot: false, reason: 'markPrice', data: [{ symbol: 'XBTUSDTM', qty: 1, markPrice: 70000.5, unrealisedPnl: 2.5, entryPrice: POSITION.avgEntryPrice, updatedAt: 1764200000000 }] });
  });

  it('sends one push to every client as the same message, each with its own seq, timestamp and seq last', async () => {
    await start();
    const first = await connectedWithSnapshots();
    first.send({ type: 'ping', id: 'p' }); // puts the first client's seq ahead of the second's
    await first.waitFor((m) => m.type === 'pong');
    const second = await connectedWithSnapshots();
    const frames: string[] = [];
    second.ws.on('message', (data) => frames.push(String(data)));
    positionPush({ ...POSITION, currentQty: 4, markPrice: 68000, changeReason: 'positionChange' });
    const [a, b] = await Promise.all([first, second].map((c) => c.waitFor((m) => m.type === 'position_update')));
    expect([a.seq, b.seq]).toEqual([7, 6]);
    const { seq: _a, timestamp: _ta, ...restA } = a;
    const { seq: _b, timestamp: _tb, ...restB } = b;
    expect(restA).toEqual(restB);
    expect(restA).toMatchObject({ type: 'position_update', snapshot: false, reason: 'positionChange', data: [{ qty: 4, markPrice: 68000 }] });
    expect(Object.keys(JSON.parse(frames[0]!)).slice(-2)).toEqual(['timestamp', 'seq']);
    expect(frames[0]).toBe(JSON.stringify({ ...restB, timestamp: b.timestamp, seq: b.seq }));
  });

  it('sends a closed position once with qty 0, then drops it from snapshots and ignores its mark pushes', async () => {
    await start();
    const client = await connectedWithSnapshots();
    positionPush({ ...POSITION, currentQty: 0, isOpen: false, changeReason: 'positionChange' });
    expect(await client.waitFor((m) => m.type === 'position_update')).toMatchObject({ data: [{ side: 'FLAT', qty: 0, isOpen: false }] });
    positionPush({ markPrice: 1, currentTimestamp: 1 });
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.0002, granularity: 60000, timestamp: 1 });
    // The funding tick proves the mark push before it was handled and sent nothing.
    expect((await client.take(1))[0].type).toBe('funding_tick');
  });
});

describe('orders', () => {
  it('applies an orderChange to a known order: status, fills and time from the push', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const at = 1764200000123;
    orderPush({ ...orderChange(ETH_ORDER, 'match', 'open'), filledSize: '6', remainSize: '4', matchPrice: '2456.5', matchSize: '2', ts: ns(at) });
    const match = await client.waitFor((m) => m.type === 'order_update');
    expect(match).toMatchObject({ snapshot: false, event: 'match', data: [{ orderId: ETH_ORDER.id, status: 'open', qty: 10, filledQty: 6, remainingQty: 4, updatedAt: at, timeInForce: 'GTC', postOnly: true }] });
    // Size-weighted: 4 at 2455.5 before, 2 at 2456.5 now.
    expect(match.data[0].avgFillPrice).toBeCloseTo((4 * 2455.5 + 2 * 2456.5) / 6, 9);
    orderPush({ ...orderChange(ETH_ORDER, 'canceled', 'done'), filledSize: '6', remainSize: '0', canceledSize: '4', ts: ns(at + 1) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ event: 'canceled', data: [{ status: 'canceled', filledQty: 6, remainingQty: 0 }] });
    expect(calls(`/api/v1/orders/${ETH_ORDER.id}`)).toBe(0);
  });

  it('reads an order it has not seen once, then applies its later pushes without another read', async () => {
    await start();
    const client = await connectedWithSnapshots();
    orderPush({ ...orderChange(PLACED_ORDER, 'open', 'open'), filledSize: '0', remainSize: '1', ts: ns(1764200000000) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({
      event: 'open',
      data: [{ orderId: PLACED_ORDER.id, status: 'open', type: 'LIMIT', price: 60000, qty: 1, filledQty: 0, remainingQty: 1, leverage: 3, updatedAt: 1764200000000 }],
    });
    orderPush({ ...orderChange(PLACED_ORDER, 'match', 'done'), filledSize: '1', remainSize: '0', matchPrice: '60000', matchSize: '1', ts: ns(1764200000500) });
    orderPush({ ...orderChange(PLACED_ORDER, 'filled', 'done'), filledSize: '1', remainSize: '0', ts: ns(1764200000500) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ event: 'match', data: [{ status: 'filled', filledQty: 1, avgFillPrice: 60000 }] });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ event: 'filled', data: [{ status: 'filled', remainingQty: 0 }] });
    expect(calls(`/api/v1/orders/${PLACED_ORDER.id}`)).toBe(1);
    // The filled order is no longer open: a fresh client's snapshot leaves it out.
    const fresh = await connectedWithSnapshots();
    expect(fresh.messages[2].data.map((o: { orderId: string }) => o.orderId)).not.toContain(PLACED_ORDER.id);
  });

  // KuCoin's spec allows either subject on the all-orders subscription and shows the push on the
  // per-symbol topic (openapi-futures-private.json, "All Order change pushes"); the older docs show
  // orderChange on the bare topic. Every combination is applied.
  const forms: [string, string, string][] = [
    ['orderChange on the bare topic (older docs)', '/contractMarket/tradeOrders', 'orderChange'],
    ['symbolOrderChange on the symbol topic (the spec\'s example)', `/contractMarket/tradeOrders:${ETH_ORDER.symbol}`, 'symbolOrderChange'],
    ['orderChange on the symbol topic', `/contractMarket/tradeOrders:${ETH_ORDER.symbol}`, 'orderChange'],
    ['symbolOrderChange on the bare topic', '/contractMarket/tradeOrders', 'symbolOrderChange'],
  ];
  it.each(forms)('applies %s', async (_name, topic, subject) => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.push(topic, subject, { ...orderChange(ETH_ORDER, 'canceled', 'done'), ts: ns(1764200000000) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ snapshot: false, event: 'canceled', data: [{ orderId: ETH_ORDER.id, status: 'canceled' }] });
    // Applied to the list served from the stream: a fresh client's snapshot no longer has it.
    const fresh = await connectedWithSnapshots();
    expect(fresh.messages[2].data.map((o: { orderId: string }) => o.orderId)).not.toContain(ETH_ORDER.id);
  });
});

describe('funding', () => {
  it('updates the predicted rate for a 1-minute funding.rate and the rate for an 8-hour one', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.00031, granularity: 60000, timestamp: 1764200000000 });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({ snapshot: false, event: 'rate', data: { symbol: 'XBTUSDTM', rate: FUNDING.value, predictedRate: 0.00031 } });
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.0004, granularity: 28800000, timestamp: 1764200000000 });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({ event: 'rate', data: { rate: 0.0004, predictedRate: 0.00031 } });
  });

  it('sends funding.begin and funding.end as events begin and end, moving the cycle on at the end', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const fundingTime = FUNDING.fundingTime as number;
    upstream.push('/contract/announcement', 'funding.begin', { symbol: 'ETHUSDTM', fundingTime, fundingRate: 0.0005, timestamp: fundingTime });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({ event: 'begin', data: { symbol: 'ETHUSDTM', rate: 0.0005, nextFundingTime: fundingTime } });
    upstream.push('/contract/announcement', 'funding.end', { symbol: 'ETHUSDTM', fundingTime, fundingRate: 0.0005, timestamp: fundingTime });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({
      event: 'end',
      data: { symbol: 'ETHUSDTM', previousFundingTime: fundingTime, nextFundingTime: fundingTime + FUNDING.granularity },
    });
  });

  it('sends a position.settlement as a settlement tick and a position_update', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.push('/contract/position:XBTUSDTM', 'position.settlement', {
      fundingTime: 1764201600000,
      qty: 1,
      markPrice: 69100,
      fundingRate: 0.0003,
      fundingFee: 0.0207,
      ts: ns(1764201600005),
      settleCurrency: 'USDT',
    });
    const [tick, position] = await client.take(2);
    expect(tick).toMatchObject({ type: 'funding_tick', snapshot: false, event: 'settlement', data: { symbol: 'XBTUSDTM', rate: 0.0003, previousFundingTime: 1764201600000 } });
    expect(position).toMatchObject({ type: 'position_update', snapshot: false, reason: 'settlement', data: [{ symbol: 'XBTUSDTM', markPrice: 69100, updatedAt: 1764201600005 }] });
  });

  it('sends ticks only to clients watching the symbol', async () => {
    await start();
    const watching = await connectedWithSnapshots();
    const other = await connectedWithSnapshots();
    other.send({ type: 'unsubscribe', symbols: ['ETHUSDTM'] });
    await other.waitFor((m) => m.type === 'subscriptions');
    upstream.push('/contract/announcement', 'funding.begin', { symbol: 'ETHUSDTM', fundingTime: 1, fundingRate: 0.0005, timestamp: 1 });
    upstream.push('/contract/announcement', 'funding.begin', { symbol: 'SOLUSDTM', fundingTime: 1, fundingRate: 0.0005, timestamp: 1 });
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.0002, granularity: 60000, timestamp: 1 });
    expect((await watching.take(2)).map((m) => m.data.symbol)).toEqual(['ETHUSDTM', 'XBTUSDTM']);
    expect((await other.take(1)).map((m) => m.data.symbol)).toEqual(['XBTUSDTM']);
  });
});

describe('subscriptions', () => {
  it('sends a funding snapshot for each added symbol and resubscribes the instruments', async () => {
    await start();
    const client = await connectedWithSnapshots();
    client.send({ type: 'subscribe', symbols: ['SOL-USDT', 'BTCUSDTM'], id: 's-1' });
    const [subscriptions, tick] = await client.take(2);
    expect(subscriptions).toMatchObject({ type: 'subscriptions', symbols: ['ETHUSDTM', 'SOLUSDTM', 'XBTUSDTM'], requestId: 's-1' });
    expect(tick).toMatchObject({ type: 'funding_tick', snapshot: true, data: { symbol: 'SOLUSDTM', baseAsset: 'SOL' } });
    expect(upstream.topics).toContain('/contract/instrument:ETHUSDTM,SOLUSDTM,XBTUSDTM');
    expect(upstream.topics).toContain('/contract/announcement:ETHUSDTM,SOLUSDTM,XBTUSDTM');
    client.send({ type: 'unsubscribe', symbols: ['ETHUSDTM', 'SOLUSDTM'] });
    expect((await client.take(1))[0].symbols).toEqual(['XBTUSDTM']);
    expect(upstream.topics).toContain('/contract/instrument:XBTUSDTM');
    expect(upstream.topics).toContain('/contract/announcement:XBTUSDTM');
    expect(upstream.topics).not.toContain('/contract/announcement');
  });

  it('tells every client which upstream topics KuCoin refused, and a new client before its snapshots', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const refusal = { topic: '/contract/announcement:XBTUSDTM', code: 404, message: 'topic /contract/announcement:XBTUSDTM is not found' };
    upstream.refuse([refusal]);
    expect((await client.take(1))[0]).toMatchObject({
      type: 'upstream_status',
      status: 'up',
      refusedTopics: [{ topic: '/contract/announcement:XBTUSDTM', reason: '404: topic /contract/announcement:XBTUSDTM is not found' }],
    });
    const late = await connect();
    expect((await late.take(6)).map((m) => [m.type, m.refusedTopics?.[0]?.topic])).toEqual([
      ['futures_connected', undefined],
      ['upstream_status', '/contract/announcement:XBTUSDTM'],
      ['position_update', undefined],
      ['order_update', undefined],
      ['funding_tick', undefined],
      ['funding_tick', undefined],
    ]);
    upstream.refuse([]);
    expect((await client.take(1))[0]).toMatchObject({ type: 'upstream_status', status: 'up', refusedTopics: [] });
  });

  it('refuses a symbol that is not in the contract list, changing nothing', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const topics = upstream.topicSets.length;
    client.send({ type: 'subscribe', symbols: ['FOOUSDTM'], id: 's-2' });
    expect((await client.take(1))[0]).toMatchObject({ type: 'error', code: 'UNKNOWN_SYMBOL', requestId: 's-2' });
    expect(upstream.topicSets.length).toBe(topics);
    client.send({ type: 'ping', id: 'p' });
    expect((await client.take(1))[0]).toMatchObject({ type: 'pong', requestId: 'p' });
  });
});

describe('the upstream going down and coming back', () => {
  it('tells every client down then reconnecting, then up with fresh snapshots, and live updates flow again', async () => {
    await start();
    const a = await connectedWithSnapshots();
    const b = await connectedWithSnapshots();
    const before = calls('/api/v1/positions');
    upstream.drop('dropped');
    for (const client of [a, b]) {
      expect(await client.take(2)).toMatchObject([
        { type: 'upstream_status', status: 'down', reason: expect.stringContaining('dropped') },
        { type: 'upstream_status', status: 'reconnecting' },
      ]);
    }
    // Pushes while the upstream is not live are not sent to anyone.
    positionPush({ ...POSITION, currentQty: 2, changeReason: 'positionChange' });
    upstream.setState('connecting');
    upstream.setState('reconnecting', 'connect_failed');
    for (const client of [a, b]) expect((await client.take(1))[0]).toMatchObject({ type: 'upstream_status', status: 'reconnecting', reason: expect.stringContaining('connect failed') });
    upstream.comeUp();
    for (const client of [a, b]) {
      expect((await client.take(5)).map((m) => [m.type, m.status ?? m.snapshot])).toEqual([
        ['upstream_status', 'up'],
        ['position_update', true],
        ['order_update', true],
        ['funding_tick', true],
        ['funding_tick', true],
      ]);
    }
    expect(calls('/api/v1/positions')).toBe(before + 1);
    positionPush({ ...POSITION, currentQty: 5, changeReason: 'positionChange' });
    for (const client of [a, b]) expect((await client.take(1))[0]).toMatchObject({ type: 'position_update', snapshot: false, data: [{ qty: 5 }] });
  });

  it('re-snapshots nobody after a planned rotation that never left up', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.emit('resubscribed');
    client.send({ type: 'ping', id: 'after' });
    expect((await client.take(1))[0]).toMatchObject({ type: 'pong', requestId: 'after' });
  });

  it('tells clients down when the upstream closes', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.setState('closed', 'closed');
    expect((await client.take(1))[0]).toMatchObject({ type: 'upstream_status', status: 'down' });
  });
});

describe('metrics', () => {
  it('counts messages sent by type', async () => {
    await start();
    await connectedWithSnapshots();
    const text = await running!.gateway.metrics.registry.metrics();
    expect(text).toMatch(/^gateway_ws_messages_sent_total\{type="funding_tick"\} 2$/m);
    expect(text).toMatch(/^gateway_ws_messages_sent_total\{type="position_update"\} 1$/m);
    expect(text).toMatch(/^gateway_ws_dropped_slow_clients_total 0$/m);
  });

  it('times each broadcast by message type', async () => {
    await start();
    const first = await connectedWithSnapshots();
    await connectedWithSnapshots();
    const before = await running!.gateway.metrics.wsBroadcastSeconds.get();
    expect(before.values.find((v) => v.metricName === 'gateway_ws_broadcast_seconds_count' && v.labels.type === 'position_update')).toBeUndefined();
    positionPush({ ...POSITION, currentQty: 2, changeReason: 'positionChange' });
    await first.waitFor((m) => m.type === 'position_update');
    const after = await running!.gateway.metrics.wsBroadcastSeconds.get();
    const of = (name: string) => after.values.find((v) => v.metricName === name && v.labels.type === 'position_update')?.value;
    // One broadcast, to both clients.
    expect(of('gateway_ws_broadcast_seconds_count')).toBe(1);
    expect(of('gateway_ws_broadcast_seconds_sum')).toBeGreaterThan(0);
  });

  it('cuts a slow consumer with 4408, counts it, and drops its socket at once', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', FUTURES_BASE_URL: KUCOIN, ...TEST_CREDENTIALS }, { upstream, ws: { maxBufferedBytes: 64 * 1024 } });
    const metrics = running.gateway.metrics;
    const count = async (metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}) =>
      (await metric.get()).values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? 0;
    // A client that never reads. A raw socket, because msw wraps the sockets of http-based clients
    // (the ws client too), and pausing the wrapper does not stop the reads underneath.
    const socket = connectRaw(new URL(running.wsUrl).port);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('data', (chunk) => (String(chunk).startsWith('HTTP/1.1 101') ? resolve() : reject(new Error(String(chunk)))));
        socket.once('error', reject);
      });
      socket.pause();
      while ((await count(metrics.wsMessagesSent, { type: 'funding_tick' })) < 2) await new Promise((r) => setTimeout(r, 10));
      // Loopback buffers hold tens of MB here: push until they are full and the gateway gives up.
      for (let batch = 0; batch < 400 && (await count(metrics.wsDroppedSlowClients)) === 0; batch += 1) {
        for (let i = 0; i < 1_000; i += 1) positionPush({ ...POSITION, currentQty: i + 1, changeReason: 'positionChange' });
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(await count(metrics.wsDroppedSlowClients)).toBe(1);
      expect(await count(metrics.wsClosed, { code: '4408' })).toBe(1);
      // Its socket, and the megabyte queued on it, are let go now: not after ws's 30 s wait for a
      // close handshake the client will never read. The client is still connected and paused.
      for (let i = 0; i < 100 && (await count(metrics.wsClients)) > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
      expect(await count(metrics.wsClients)).toBe(0);
      expect(socket.destroyed).toBe(false);
    } finally {
      socket.destroy();
    }
  }, 60_000);
});

/** A WebSocket upgrade on a plain TCP socket, answered but never read further. */
function connectRaw(port: string): Socket {
  const socket = netConnect(Number(port), '127.0.0.1');
  socket.write(
    ['GET /ws/futures HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
  );
  return socket;
}

/** The orderChange fields KuCoin pushes for `order` (docs/kucoin.md "The private WebSocket"), sizes as strings. */
function orderChange(order: { id: string; symbol: string; side: string; type: string; size: number; price: string; clientOid: string; marginMode?: string }, type: string, status: string) {
  return {
    symbol: order.symbol,
    orderType: order.type,
    side: order.side,
    orderId: order.id,
    clientOid: order.clientOid,
    marginMode: order.marginMode ?? 'ISOLATED',
    type,
    status,
    size: String(order.size),
    filledSize: '0',
    remainSize: String(order.size),
    canceledSize: '0',
    price: order.price,
    orderTime: ns(1729236185885),
    ts: ns(1729236185886),
  };
}
