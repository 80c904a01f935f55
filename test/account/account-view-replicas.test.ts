/**
 * Read-your-writes across replicas: two gateways (A and B) on one real redis-server and one KuCoin
 * account (msw), each with its own stream (a fake upstream, so when B's stream shows A's write is up
 * to the test). A write answered by A must keep B's next list read off B's stale cache.
 */
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { FakeUpstream } from './fake-upstream.js';
import { Redis } from 'ioredis';

const kucoin = mockKucoin();
let redis: TestRedis;
let a: RunningGateway | undefined;
let b: RunningGateway | undefined;
let upstreamA: FakeUpstream;
let upstreamB: FakeUpstream;

const POSITION = fixture('position').data;
const ORDERS = fixture('orders-active').data;
const PLACED = { ...fixture('order').data, id: '900000000000000001', clientOid: 'ryw-1', isActive: true, status: 'open', filledSize: 0, dealSize: 0, avgDealPrice: '0', type: 'limit', price: '60000' };
// Long enough that "shown before the deadline" holds on a loaded 2-core CI machine (622 ms seen with 600).
const DEADLINE_MS = 1_500;

const accountHandlers = () => [
  http.get(`${KUCOIN}/api/v1/positions`, () => json([POSITION])),
  http.get(`${KUCOIN}/api/v1/orders`, () => json(ORDERS)),
  http.get(`${KUCOIN}/api/v1/funding-rate/:symbol/current`, ({ params }) => json({ ...fixture('funding-rate-current').data, symbol: `.${String(params.symbol)}FPI8H` })),
  http.get(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => (params.orderId === PLACED.id ? json(PLACED) : HttpResponse.json({ code: '100001', msg: 'order not exist' }, { status: 404 }))),
  http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: 'ISOLATED' })),
  http.post(`${KUCOIN}/api/v1/orders`, () => json({ orderId: PLACED.id, clientOid: PLACED.clientOid })),
  http.delete(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => json({ cancelledOrderIds: [String(params.orderId)] })),
];
/** KuCoin once A's order is placed. */
const withPlaced = () => http.get(`${KUCOIN}/api/v1/orders`, () => json({ ...ORDERS, totalNum: ORDERS.items.length + 1, items: [PLACED, ...ORDERS.items] }));

beforeAll(async () => {
  kucoin.listen();
  redis = await startRedis();
});
beforeEach(() => {
  kucoin.server.use(...accountHandlers());
  upstreamA = new FakeUpstream();
  upstreamB = new FakeUpstream();
});
afterEach(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  a = b = undefined;
  kucoin.reset();
  await redis.command('FLUSHALL');
});
afterAll(async () => {
  kucoin.close();
  await redis.stop();
});

async function startBoth(env: Record<string, string> = {}): Promise<void> {
  const base = { FEATURE_FUTURES: 'true', FUTURES_BASE_URL: KUCOIN, UPSTREAM_TIMEOUT_MS: '500', RATE_LIMIT_MAX: '0', REDIS_URL: redis.url, ...TEST_CREDENTIALS, ...env };
  const options = (upstream: FakeUpstream) => ({ upstream, feed: { retry: { initialMs: 50, maxMs: 200 } }, accountView: { writeDeadlineMs: DEADLINE_MS } });
  [a, b] = await Promise.all([startGateway(base, options(upstreamA)), startGateway(base, options(upstreamB))]);
  await until(async () => {
    const up = await Promise.all([a!, b!].map(async (g) => (await g.gateway.metrics.redisUp.get()).values[0]?.value));
    return up.every((value) => value === 1);
  });
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const call = (gateway: () => RunningGateway | undefined) => (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(gateway()!.baseUrl, method, path, init);
const callA = call(() => a);
const callB = call(() => b);
const ids = (res: { body: any }): string[] => res.body.data.items.map((o: { orderId: string }) => o.orderId);

async function untilStream(on: typeof callA, path: string) {
  let res = await on('GET', path);
  await until(async () => {
    res = await on('GET', path);
    expect(res.status).toBe(200);
    return res.headers.get('x-served-from') === 'stream';
  });
  return res;
}

const orderChange = (order: typeof PLACED, type: string, status: string, at: number, filled = 0) => ({
  symbol: order.symbol,
  orderType: order.type,
  side: order.side,
  orderId: order.id,
  clientOid: order.clientOid,
  marginMode: 'ISOLATED',
  type,
  status,
  size: String(order.size),
  filledSize: String(filled),
  remainSize: String(order.size - filled),
  price: order.price,
  ts: `${at}000000`,
});

const fenceErrors = async (gateway: RunningGateway) => (await gateway.gateway.metrics.redisErrors.get()).values.find((v) => v.labels.use === 'fences')?.value ?? 0;

describe('read-your-writes across replicas', () => {
  it("an order placed through A is in B's next open-order list, before B's stream has shown it", async () => {
    await startBoth();
    await untilStream(callA, '/api/futures/orders');
    await untilStream(callB, '/api/futures/orders');

    const placed = await callA('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } });
    expect(placed.status).toBe(201);
    kucoin.server.use(withPlaced());
    // At once, through B: its stream has pushed nothing, so the list comes from KuCoin.
    const read = await callB('GET', '/api/futures/orders');
    expect(ids(read)).toContain(PLACED.id);
    expect(read.headers.get('x-served-from')).toBe('upstream');

    // Once B's stream shows the order, B serves from it again, before the deadline.
    const pushedAt = Date.now();
    upstreamB.push('/contractMarket/tradeOrders', 'orderChange', orderChange(PLACED, 'open', 'open', pushedAt));
    const shown = await untilStream(callB, '/api/futures/orders');
    expect(ids(shown)).toContain(PLACED.id);
    expect(Date.now() - pushedAt).toBeLessThan(DEADLINE_MS);

    // A cancel through A: B's list does not show the order as open any more.
    expect((await callA('DELETE', `/api/futures/orders/${PLACED.id}`)).status).toBe(200);
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders`, () => json(ORDERS)));
    const afterCancel = await callB('GET', '/api/futures/orders');
    expect(ids(afterCancel)).not.toContain(PLACED.id);
    expect(afterCancel.headers.get('x-served-from')).toBe('upstream');
    upstreamB.push('/contractMarket/tradeOrders', 'orderChange', orderChange(PLACED, 'canceled', 'done', Date.now()));
    expect(ids(await untilStream(callB, '/api/futures/orders'))).not.toContain(PLACED.id);
    expect(await fenceErrors(a!)).toBe(0);
    expect(await fenceErrors(b!)).toBe(0);
  });

  it("a MARKET order's position change through A is in B's next position list; B's cache path waits out the deadline", async () => {
    await startBoth();
    await untilStream(callB, '/api/futures/positions');
    const placed = await callA('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } });
    expect(placed.status).toBe(201);
    const moved = { ...POSITION, currentQty: POSITION.currentQty + 1 };
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => json([moved])));
    const answeredAt = Date.now();
    const read = await callB('GET', '/api/futures/positions');
    expect(read.headers.get('x-served-from')).toBe('upstream');
    expect(read.body.data[0].qty).toBe(POSITION.currentQty + 1);
    // B's stream shows the fill and the position.
    upstreamB.push('/contractMarket/tradeOrders', 'orderChange', { ...orderChange({ ...PLACED, type: 'market' }, 'filled', 'done', answeredAt, PLACED.size) });
    upstreamB.push(`/contract/position:${POSITION.symbol}`, 'position.change', { ...moved, changeReason: 'positionChange' });
    const shown = await untilStream(callB, '/api/futures/positions');
    expect(shown.body.data[0].qty).toBe(POSITION.currentQty + 1);
    // Not before A's write deadline: B cannot tell the fill's position push from another.
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
  });

  it('a leverage change through A (pushed on no topic) makes B re-snapshot, also when B reads only after the write deadline', async () => {
    await startBoth();
    await untilStream(callB, '/api/futures/positions');
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: 'CROSS' })),
      http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, () => json(true)),
      http.get(`${KUCOIN}/api/v1/positions`, () => json([{ ...POSITION, leverage: 7, realLeverage: 7 }])),
    );
    const changed = await callA('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 7, marginMode: 'cross' } });
    expect(changed.status).toBe(200);
    // The scenario, not a wait for a condition: B's first read comes after A's write deadline.
    await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS + 100));
    expect((await callB('GET', '/api/futures/positions')).body.data[0].leverage).toBe(7);
    expect((await untilStream(callB, '/api/futures/positions')).body.data[0].leverage).toBe(7);
  });

  it("serves B's lists from KuCoin while the fences cannot be read, and answers A's writes, without a 5xx", async () => {
    await startBoth();
    await untilStream(callB, '/api/futures/orders');
    await redis.kill();
    const placed = await callA('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } });
    expect(placed.status).toBe(201);
    kucoin.server.use(withPlaced());
    for (let i = 0; i < 5; i++) {
      const read = await callB('GET', '/api/futures/orders');
      expect(read.headers.get('x-served-from')).toBe('upstream');
      expect(ids(read)).toContain(PLACED.id);
    }
    expect(await fenceErrors(a!)).toBeGreaterThanOrEqual(1);
    expect(await fenceErrors(b!)).toBeGreaterThanOrEqual(5);
    // Back (empty): B's stream serves again.
    await redis.restart();
    upstreamB.push('/contractMarket/tradeOrders', 'orderChange', orderChange(PLACED, 'open', 'open', Date.now()));
    expect(ids(await untilStream(callB, '/api/futures/orders'))).toContain(PLACED.id);
  });

  it('with a Redis that stopped answering (connected, silent), waits out its command timeout once a second, not on every read or write', async () => {
    await startBoth();
    await untilStream(callB, '/api/futures/orders');
    process.kill(redis.pid!, 'SIGSTOP');
    try {
      const order = { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } };
      expect((await callA('POST', '/api/futures/orders', order)).status).toBe(201);
      // The first write's record waited out the 500 ms command timeout; the next one does not.
      let started = Date.now();
      expect((await callA('POST', '/api/futures/orders', order)).status).toBe(201);
      expect(Date.now() - started).toBeLessThan(450);
      kucoin.server.use(withPlaced());
      started = Date.now();
      for (let i = 0; i < 10; i++) {
        const read = await callB('GET', '/api/futures/orders');
        expect(read.headers.get('x-served-from')).toBe('upstream');
        expect(ids(read)).toContain(PLACED.id);
      }
      // One 500 ms command timeout, then KuCoin at once (10 timeouts would be 5 s).
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
  });

  it('asks Redis once per list read served from the cache, and not at all for a read that goes to KuCoin', async () => {
    await startBoth();
    await untilStream(callB, '/api/futures/orders');
    // MONITOR shows each command with its source: the fence read is a ZRANGEBYSCORE sent by the
    // replica; the shared budget's scripts (KuCoin calls) run theirs inside Lua, not counted here.
    const counter = new Redis(redis.url);
    const monitor = await counter.monitor();
    let fenceReads = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'zrangebyscore' && !source.includes('lua')) fenceReads++;
    });
    const settled = async () => {
      // A marker command: once MONITOR shows it, every command before it has been seen.
      const marker = `marker-${Math.random()}`;
      let seen = false;
      const onMarker = (_time: string, args: string[]) => {
        if (args[1] === marker) seen = true;
      };
      monitor.on('monitor', onMarker);
      const probe = new Redis(redis.url);
      await probe.echo(marker);
      probe.disconnect();
      for (let i = 0; i < 100 && !seen; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      monitor.off('monitor', onMarker);
      return fenceReads;
    };
    try {
      let before = await settled();
      for (let i = 0; i < 10; i++) expect((await callB('GET', '/api/futures/orders')).headers.get('x-served-from')).toBe('stream');
      expect((await settled()) - before).toBe(10);
      upstreamB.drop();
      before = await settled();
      for (let i = 0; i < 10; i++) expect((await callB('GET', '/api/futures/orders')).headers.get('x-served-from')).toBe('upstream');
      expect((await settled()) - before).toBe(0);
    } finally {
      monitor.disconnect();
      counter.disconnect();
    }
  });
});
