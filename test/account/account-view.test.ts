/**
 * The position and open-order lists served from the live feed (src/account/account-view.ts): a real
 * gateway, KuCoin's REST mocked with msw, and the fake upstream supervisor standing in for
 * KuCoin's WebSocket, so when a push arrives is up to the test. Every answer is checked against
 * openapi.yaml (X-Served-From included). Filters against KuCoin's own semantics are compared in
 * account-view-simulator.e2e.test.ts.
 */
import { HttpResponse, delay, http } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, TEST_ADMIN_KEY, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';
import { FakeUpstream } from './fake-upstream.js';

const kucoin = mockKucoin();
let running: RunningGateway | undefined;
let upstream: FakeUpstream;

const POSITION = fixture('position').data;
const ORDERS = fixture('orders-active').data;
const [XBT_ORDER, ETH_ORDER] = ORDERS.items;
const PLACED = { ...fixture('order').data, id: '900000000000000001', clientOid: 'ryw-1', isActive: true, status: 'open', filledSize: 0, dealSize: 0, avgDealPrice: '0', type: 'limit', price: '60000' };

/** KuCoin as the feed and the REST path read it: one position, two open orders. */
const accountHandlers = () => [
  http.get(`${KUCOIN}/api/v1/positions`, () => json([POSITION])),
  http.get(`${KUCOIN}/api/v1/orders`, () => json(ORDERS)),
  http.get(`${KUCOIN}/api/v1/funding-rate/:symbol/current`, ({ params }) => json({ ...fixture('funding-rate-current').data, symbol: `.${String(params.symbol)}FPI8H` })),
  http.get(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => (params.orderId === PLACED.id ? json(PLACED) : HttpResponse.json({ code: '100001', msg: 'order not exist' }, { status: 404 }))),
  http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: 'ISOLATED' })),
  http.post(`${KUCOIN}/api/v1/orders`, () => json({ orderId: PLACED.id, clientOid: PLACED.clientOid })),
  http.delete(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => json({ cancelledOrderIds: [String(params.orderId)] })),
];

beforeAll(() => kucoin.listen());
beforeEach(() => {
  kucoin.server.use(...accountHandlers());
  upstream = new FakeUpstream();
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  kucoin.reset();
});
afterAll(() => kucoin.close());

async function start(env: Record<string, string> = {}, writeDeadlineMs = 10_000): Promise<RunningGateway> {
  running = await startGateway(
    { FEATURE_FUTURES: 'true', FUTURES_BASE_URL: KUCOIN, UPSTREAM_TIMEOUT_MS: '500', ...TEST_CREDENTIALS, ...env },
    { upstream, feed: { retry: { initialMs: 50, maxMs: 200 } }, accountView: { writeDeadlineMs } },
  );
  return running;
}

const call = (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(running!.baseUrl, method, path, init);
const listCalls = () => kucoin.calls.filter((c) => c.method === 'GET' && (c.path === '/api/v1/positions' || c.path === '/api/v1/orders')).length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `path` until it is served from the stream (bounded). */
async function untilStream(path: string): Promise<Awaited<ReturnType<typeof call>>> {
  for (let i = 0; i < 200; i++) {
    const res = await call('GET', path);
    expect(res.status).toBe(200);
    if (res.headers.get('x-served-from') === 'stream') return res;
    await sleep(10);
  }
  throw new Error(`${path} never came from the stream`);
}

async function metric(name: string, labels: string): Promise<number> {
  const text = (await call('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

const orderChange = (order: typeof PLACED, type: string, status: string, at: number) => ({
  symbol: order.symbol,
  orderType: order.type,
  side: order.side,
  orderId: order.id,
  clientOid: order.clientOid,
  marginMode: 'ISOLATED',
  type,
  status,
  size: String(order.size),
  filledSize: '0',
  remainSize: type === 'canceled' ? '0' : String(order.size),
  price: order.price,
  ts: `${at}000000`,
});

describe('an idle gateway', () => {
  it('opens no upstream connection until a list is read', async () => {
    await start();
    await call('GET', '/api/health');
    await call('GET', '/api/futures/contracts');
    expect(upstream.acquires).toBe(0);
  });
});

describe('reads served from the stream', () => {
  it('starts the stream on the first read (answered by KuCoin), then answers both lists without calling KuCoin', async () => {
    await start();
    const first = await call('GET', '/api/futures/positions');
    expect(first.headers.get('x-served-from')).toBe('upstream');
    expect(upstream.acquires).toBe(1);
    expect(upstream.topics).toEqual(['/contract/positionAll', '/contractMarket/tradeOrders', '/contract/marginMode']);

    const positions = await untilStream('/api/futures/positions');
    expect(positions.body.data).toEqual(first.body.data);
    const before = listCalls();
    for (let i = 0; i < 20; i++) {
      expect((await call('GET', '/api/futures/positions')).headers.get('x-served-from')).toBe('stream');
      const orders = await call('GET', '/api/futures/orders');
      expect(orders.headers.get('x-served-from')).toBe('stream');
      expect(orders.body.data.items.map((o: { orderId: string }) => o.orderId)).toEqual([ETH_ORDER.id, XBT_ORDER.id]);
    }
    expect(listCalls()).toBe(before);
    expect(await metric('gateway_rest_reads_total', 'operation="listPositions",source="stream"')).toBeGreaterThanOrEqual(21);
    expect(await metric('gateway_rest_reads_total', 'operation="listOrders",source="stream"')).toBe(20);
    expect(await metric('gateway_rest_reads_total', 'operation="listPositions",source="upstream"')).toBeGreaterThanOrEqual(1);
  });

  it('answers like the REST path: same mapping, filters, paging and order', async () => {
    await start();
    const queries = [
      '/api/futures/orders',
      '/api/futures/orders?symbol=ETHUSDTM',
      '/api/futures/orders?symbol=BTC-USDT',
      '/api/futures/orders?pageSize=1',
      '/api/futures/orders?page=2&pageSize=1',
      '/api/futures/positions?currency=usdt',
      '/api/futures/positions?currency=XBT',
    ];
    await untilStream('/api/futures/orders');
    const fromStream = [];
    for (const path of queries) {
      const res = await call('GET', path);
      expect(res.headers.get('x-served-from'), path).toBe('stream');
      fromStream.push(res.body.data);
    }
    // KuCoin's answers for the same queries, as KuCoin would filter them (the mock serves all).
    const byQuery = (url: URL) => {
      const symbol = url.searchParams.get('symbol');
      const items = ORDERS.items.filter((o: { symbol: string }) => symbol === null || o.symbol === symbol).reverse();
      const page = Number(url.searchParams.get('currentPage'));
      const size = Number(url.searchParams.get('pageSize'));
      return { currentPage: page, pageSize: size, totalNum: items.length, totalPage: Math.ceil(items.length / size), items: items.slice((page - 1) * size, page * size) };
    };
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v1/orders`, ({ request: req }) => json(byQuery(new URL(req.url)))),
      http.get(`${KUCOIN}/api/v1/positions`, ({ request: req }) => json(new URL(req.url).searchParams.get('currency') === 'XBT' ? [] : [POSITION])),
    );
    upstream.drop();
    for (const [i, path] of queries.entries()) {
      const res = await call('GET', path);
      expect(res.headers.get('x-served-from'), path).toBe('upstream');
      expect(fromStream[i], path).toEqual(res.body.data);
    }
  });

  it('falls back to KuCoin while the stream is down, and serves from it again once it is back', async () => {
    await start();
    await untilStream('/api/futures/positions');
    upstream.drop();
    const before = listCalls();
    const down = await call('GET', '/api/futures/positions');
    expect(down.headers.get('x-served-from')).toBe('upstream');
    expect(listCalls()).toBe(before + 1);
    upstream.comeUp();
    await untilStream('/api/futures/positions');
  });

  it('falls back while a fresh snapshot is being read after a reconnect', async () => {
    await start();
    await untilStream('/api/futures/orders');
    upstream.drop();
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders`, async () => (await delay(300), json(ORDERS))));
    upstream.comeUp();
    const during = await call('GET', '/api/futures/positions');
    expect(during.headers.get('x-served-from')).toBe('upstream');
    await untilStream('/api/futures/positions');
  });

  it('always asks KuCoin, and opens no stream, with READS_FROM_STREAM=false', async () => {
    await start({ READS_FROM_STREAM: 'false' });
    for (let i = 0; i < 5; i++) {
      expect((await call('GET', '/api/futures/positions')).headers.get('x-served-from')).toBe('upstream');
      expect((await call('GET', '/api/futures/orders')).headers.get('x-served-from')).toBe('upstream');
      await sleep(20);
    }
    expect(upstream.acquires).toBe(0);
    expect(listCalls()).toBe(10);
    expect(await metric('gateway_rest_reads_total', 'operation="listOrders",source="upstream"')).toBe(5);
  });

  it('leaves the stream READS_FROM_STREAM_LINGER_MS after the last list read', async () => {
    await start({ READS_FROM_STREAM_LINGER_MS: '1000' });
    await untilStream('/api/futures/positions');
    await sleep(600);
    await call('GET', '/api/futures/orders');
    await sleep(600);
    expect(upstream.releases).toBe(0);
    for (let i = 0; i < 40 && upstream.releases === 0; i++) await sleep(50);
    expect(upstream.releases).toBe(1);
  });
});

describe('the kill switch', () => {
  it('switched off, leaves the stream at once and has the upstream close without lingering', async () => {
    await start({ ADMIN_API_KEYS: TEST_ADMIN_KEY });
    await untilStream('/api/futures/positions');
    expect(upstream.acquires).toBe(1);
    expect(upstream.releases).toBe(0);
    const flip = await call('PUT', '/api/admin/futures-switch', { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, json: { enabled: false, reason: 'kill switch test' } });
    expect(flip.status).toBe(200);
    // Not READS_FROM_STREAM_LINGER_MS (60 s) later: now.
    expect(upstream.releases).toBe(1);
    expect(upstream.lingerCalls).toEqual([false]);
    // Back on: lingering as usual, and a read brings the stream up again.
    const on = await call('PUT', '/api/admin/futures-switch', { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, json: { enabled: true, reason: 'kill switch test' } });
    expect(on.status).toBe(200);
    expect(upstream.lingerCalls).toEqual([false, true]);
    await untilStream('/api/futures/positions');
    expect(upstream.acquires).toBe(2);
  });
});

describe('read-your-writes', () => {
  it('bypasses the stream after an order is placed until the stream has shown it', async () => {
    await start();
    await untilStream('/api/futures/orders');
    const placed = await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } });
    expect(placed.status).toBe(201);
    // KuCoin has it, the stream has not pushed it yet: the read asks KuCoin.
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders`, () => json({ ...ORDERS, totalNum: 3, items: [PLACED, ...ORDERS.items] })));
    const after = await call('GET', '/api/futures/orders');
    expect(after.headers.get('x-served-from')).toBe('upstream');
    expect(after.body.data.items.map((o: { orderId: string }) => o.orderId)).toContain(PLACED.id);

    upstream.push('/contractMarket/tradeOrders', 'orderChange', orderChange(PLACED, 'open', 'open', Date.now()));
    const shown = await untilStream('/api/futures/orders');
    expect(shown.body.data.items.map((o: { orderId: string }) => o.orderId)).toContain(PLACED.id);

    const cancelled = await call('DELETE', `/api/futures/orders/${PLACED.id}`);
    expect(cancelled.status).toBe(200);
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders`, () => json(ORDERS)));
    const afterCancel = await call('GET', '/api/futures/orders');
    expect(afterCancel.headers.get('x-served-from')).toBe('upstream');
    expect(afterCancel.body.data.items.map((o: { orderId: string }) => o.orderId)).not.toContain(PLACED.id);
    upstream.push('/contractMarket/tradeOrders', 'orderChange', orderChange(PLACED, 'canceled', 'done', Date.now()));
    const gone = await untilStream('/api/futures/orders');
    expect(gone.body.data.items.map((o: { orderId: string }) => o.orderId)).not.toContain(PLACED.id);
  });

  it('waits for a MARKET order to be done, and for its position push, before serving from the stream', async () => {
    await start();
    await untilStream('/api/futures/positions');
    const placed = await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } });
    expect(placed.status).toBe(201);
    const at = Date.now();
    // KuCoin may push `open` before the fill: the order is known, the fill not yet.
    upstream.push('/contractMarket/tradeOrders', 'orderChange', orderChange(PLACED, 'open', 'open', at));
    await sleep(50);
    expect((await call('GET', '/api/futures/positions')).headers.get('x-served-from')).toBe('upstream');
    upstream.push('/contractMarket/tradeOrders', 'orderChange', { ...orderChange(PLACED, 'filled', 'done', at + 1), filledSize: String(PLACED.size), remainSize: '0' });
    // A mark-price refresh of the position is not the fill's position change.
    upstream.push(`/contract/position:${POSITION.symbol}`, 'position.change', { symbol: POSITION.symbol, markPrice: 69000, currentTimestamp: at + 2 });
    await sleep(50);
    expect((await call('GET', '/api/futures/positions')).headers.get('x-served-from')).toBe('upstream');
    upstream.push(`/contract/position:${POSITION.symbol}`, 'position.change', { ...POSITION, currentQty: POSITION.currentQty + 1, changeReason: 'positionChange' });
    const shown = await untilStream('/api/futures/positions');
    expect(shown.body.data[0].qty).toBe(POSITION.currentQty + 1);
  });

  describe('overlapping writes', () => {
    const SECOND = { ...PLACED, id: '900000000000000002', clientOid: 'ryw-2' };
    /** Both orders in flight at once: KuCoin answers each after a short wait, in order of arrival. */
    const placeTwo = async (symbols: [string, string]) => {
      let next = 0;
      kucoin.server.use(
        http.post(`${KUCOIN}/api/v1/orders`, async () => {
          const order = [PLACED, SECOND][next++]!;
          await delay(50);
          return json({ orderId: order.id, clientOid: order.clientOid });
        }),
        http.get(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => {
          const order = [PLACED, SECOND].find((o) => o.id === params.orderId);
          return order ? json(order) : HttpResponse.json({ code: '100001', msg: 'order not exist' }, { status: 404 });
        }),
      );
      const [a, b] = await Promise.all(symbols.map((symbol) => call('POST', '/api/futures/orders', { json: { symbol, side: 'BUY', type: 'MARKET', qty: 1 } })));
      expect([a!.status, b!.status]).toEqual([201, 201]);
    };
    const filled = (order: typeof PLACED, symbol: string, at: number) => ({ ...orderChange({ ...order, symbol }, 'filled', 'done', at), filledSize: String(order.size), remainSize: '0' });

    it('on one symbol: the first order\'s position push does not count as the second\'s; the deadline re-snapshots', async () => {
      await start({}, 300);
      await untilStream('/api/futures/positions');
      await placeTwo(['XBTUSDTM', 'XBTUSDTM']);
      const at = Date.now();
      upstream.push('/contractMarket/tradeOrders', 'orderChange', filled(PLACED, POSITION.symbol, at));
      upstream.push(`/contract/position:${POSITION.symbol}`, 'position.change', { ...POSITION, currentQty: POSITION.currentQty + 1, changeReason: 'positionChange' });
      upstream.push('/contractMarket/tradeOrders', 'orderChange', filled(SECOND, POSITION.symbol, at + 1));
      await sleep(50);
      // Both fills are known and a position change came, but it may be either order's: KuCoin is asked.
      kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => json([{ ...POSITION, currentQty: POSITION.currentQty + 2 }])));
      const meanwhile = await call('GET', '/api/futures/positions');
      expect(meanwhile.headers.get('x-served-from')).toBe('upstream');
      expect(meanwhile.body.data[0].qty).toBe(POSITION.currentQty + 2);
      // Past the deadline, the feed reads the account again and serves that.
      await sleep(300);
      const fresh = await untilStream('/api/futures/positions');
      expect(fresh.body.data[0].qty).toBe(POSITION.currentQty + 2);
    });

    it('on different symbols: each order\'s own position push shows it', async () => {
      await start();
      await untilStream('/api/futures/positions');
      await placeTwo(['XBTUSDTM', 'ETHUSDTM']);
      const at = Date.now();
      upstream.push('/contractMarket/tradeOrders', 'orderChange', filled(PLACED, 'XBTUSDTM', at));
      upstream.push('/contractMarket/tradeOrders', 'orderChange', filled(SECOND, 'ETHUSDTM', at + 1));
      upstream.push(`/contract/position:${POSITION.symbol}`, 'position.change', { ...POSITION, currentQty: POSITION.currentQty + 1, changeReason: 'positionChange' });
      await sleep(50);
      expect((await call('GET', '/api/futures/positions')).headers.get('x-served-from')).toBe('upstream');
      upstream.push('/contract/position:ETHUSDTM', 'position.change', { ...POSITION, symbol: 'ETHUSDTM', currentQty: 1, changeReason: 'positionChange' });
      const shown = await untilStream('/api/futures/positions');
      expect(shown.body.data.map((p: { symbol: string; qty: number }) => [p.symbol, p.qty])).toEqual([
        ['ETHUSDTM', 1],
        ['XBTUSDTM', POSITION.currentQty + 1],
      ]);
    });
  });

  it('bypasses the stream while a write is in flight', async () => {
    await start();
    await untilStream('/api/futures/orders');
    kucoin.server.use(http.post(`${KUCOIN}/api/v1/orders`, async () => (await delay(200), json({ orderId: PLACED.id, clientOid: PLACED.clientOid }))));
    const placing = call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } });
    // Until the POST is at KuCoin (not a fixed sleep: on a busy machine the handler's earlier
    // reads can take longer than one), whose answer takes 200 ms more.
    for (let i = 0; i < 200 && !kucoin.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/orders'); i++) await sleep(5);
    expect((await call('GET', '/api/futures/orders')).headers.get('x-served-from')).toBe('upstream');
    expect((await placing).status).toBe(201);
  });

  it('keeps serving from the stream after a write KuCoin refused (4xx: nothing changed)', async () => {
    await start();
    await untilStream('/api/futures/orders');
    kucoin.server.use(http.post(`${KUCOIN}/api/v1/orders`, () => HttpResponse.json(fixture('error-300009'))));
    const refused = await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect((await call('GET', '/api/futures/orders')).headers.get('x-served-from')).toBe('stream');
  });

  it('re-snapshots when the stream has not shown a write by the deadline, and serves that snapshot', async () => {
    await start({}, 100);
    await untilStream('/api/futures/orders');
    await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } });
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders`, () => json({ ...ORDERS, totalNum: 3, items: [PLACED, ...ORDERS.items] })));
    expect((await call('GET', '/api/futures/orders')).headers.get('x-served-from')).toBe('upstream');
    await sleep(150);
    // Past the deadline, no push: this read makes the feed read the account again.
    expect((await call('GET', '/api/futures/orders')).headers.get('x-served-from')).toBe('upstream');
    const fresh = await untilStream('/api/futures/orders');
    expect(fresh.body.data.items.map((o: { orderId: string }) => o.orderId)).toContain(PLACED.id);
  });

  it('re-snapshots after a leverage change, which KuCoin pushes on no topic the feed holds', async () => {
    await start();
    await untilStream('/api/futures/positions');
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: 'CROSS' })),
      http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, () => json(true)),
    );
    // KuCoin has the new leverage as soon as it answers the change.
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => json([{ ...POSITION, leverage: 7, realLeverage: 7 }])));
    const before = listCalls();
    const changed = await call('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 7, marginMode: 'cross' } });
    expect(changed.status).toBe(200);
    // Whichever source answers, it is not older than the change.
    expect((await call('GET', '/api/futures/positions')).body.data[0].leverage).toBe(7);
    const fresh = await untilStream('/api/futures/positions');
    expect(fresh.body.data[0].leverage).toBe(7);
    // The feed read the account (positions and orders) again after the change.
    expect(listCalls()).toBeGreaterThanOrEqual(before + 2);
  });
});
