import fc from 'fast-check';
import { HttpResponse, delay, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, expectSignedByKucoinRules, fixture, json, mockKucoin } from '../support/kucoin-mock.js';

const kucoin = mockKucoin();
let running: RunningGateway;

beforeAll(async () => {
  kucoin.listen();
  // The REST path's calls to KuCoin are what these tests check; reads served from the live feed
  // (which would open KuCoin's WebSocket here) are tested in test/account/account-view*.test.ts.
  running = await startGateway({ FEATURE_FUTURES: 'true', FUTURES_BASE_URL: KUCOIN, UPSTREAM_TIMEOUT_MS: '300', READS_FROM_STREAM: 'false', ...TEST_CREDENTIALS });
});
afterEach(() => kucoin.reset());
afterAll(async () => {
  await running.stop();
  kucoin.close();
});

const call = (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(running.baseUrl, method, path, init);
const fail = (code: string, msg: string, status = 200) => HttpResponse.json({ code, msg }, { status });
/** KuCoin accepting an order: it echoes the clientOid it was sent. */
const acceptOrder = (orderId = '234125150956625920') =>
  http.post(`${KUCOIN}/api/v1/orders`, async ({ request: req }) => json({ orderId, clientOid: ((await req.json()) as { clientOid: string }).clientOid }));
const marginMode = (mode: 'ISOLATED' | 'CROSS') => http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: mode }));
const contractsData = () => fixture('contracts-active').data as { symbol: string; maxLeverage: number }[];

describe('positions', () => {
  it('lists positions: GET /api/v1/positions, signed, mapped with canonical symbols and base assets', async () => {
    const ethusdm = { ...contractsData().find((c) => c.symbol === 'XBTUSDM')!, symbol: 'ETHUSDM', baseCurrency: 'ETH', rootSymbol: 'ETH', settleCurrency: 'ETH' };
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v1/positions`, () => HttpResponse.json(fixture('positions'))),
      http.get(`${KUCOIN}/api/v1/contracts/ETHUSDM`, () => json(ethusdm)),
    );
    const res = await call('GET', '/api/futures/positions?currency=usdt');
    expect(res.status).toBe(200);
    const [list] = kucoin.businessCalls();
    expect(list).toMatchObject({ method: 'GET', path: '/api/v1/positions', query: [['currency', 'USDT']], body: '' });
    expectSignedByKucoinRules(list!);
    expect(res.body.data.map((p: { symbol: string; baseAsset: string; marginMode: string }) => [p.symbol, p.baseAsset, p.marginMode])).toEqual([
      ['ETHUSDM', 'ETH', 'cross'],
      ['XBTUSDTM', 'BTC', 'isolated'],
    ]);
  });

  it('answers 502 UPSTREAM_BAD_RESPONSE, not an empty list, when KuCoin sends positions that are not a list', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => json({ unexpected: true })));
    const res = await call('GET', '/api/futures/positions');
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('UPSTREAM_BAD_RESPONSE');
  });

  it('reads one position for BTCUSDTM from KuCoin as XBTUSDTM', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/position`, () => HttpResponse.json(fixture('position'))));
    const res = await call('GET', '/api/futures/positions/BTCUSDTM');
    expect(res.status).toBe(200);
    const [read] = kucoin.businessCalls();
    expect(read).toMatchObject({ method: 'GET', path: '/api/v1/position', query: [['symbol', 'XBTUSDTM']] });
    expectSignedByKucoinRules(read!);
    expect(res.body.data).toMatchObject({ symbol: 'XBTUSDTM', baseAsset: 'BTC', side: 'LONG', qty: 1, baseQty: 0.001 });
  });

  it('answers 404 POSITION_NOT_FOUND when KuCoin has no position object', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/position`, () => json(null)));
    const res = await call('GET', '/api/futures/positions/XBTUSDTM');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('POSITION_NOT_FOUND');
  });

  it('answers 404 UNKNOWN_SYMBOL for a symbol KuCoin does not list, without asking for it', async () => {
    const res = await call('GET', '/api/futures/positions/FOOUSDTM');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('UNKNOWN_SYMBOL');
    expect(kucoin.businessCalls()).toEqual([]);
  });

  it('closes a position with a market closeOrder carrying the Idempotency-Key as clientOid', async () => {
    kucoin.server.use(marginMode('CROSS'), acceptOrder('9001'));
    const res = await call('DELETE', '/api/futures/positions/BTC-USDT', { headers: { 'idempotency-key': 'close-btc-1' } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ symbol: 'XBTUSDTM', baseAsset: 'BTC', orderId: '9001', clientOid: 'close-btc-1', replayed: false });
    const post = kucoin.businessCalls().find((c) => c.method === 'POST');
    expect(post).toMatchObject({ path: '/api/v1/orders', body: '{"clientOid":"close-btc-1","symbol":"XBTUSDTM","closeOrder":true,"type":"market","marginMode":"CROSS"}' });
    expect(post!.headers.get('content-type')).toBe('application/json');
    expectSignedByKucoinRules(post!);
  });

  it('maps 300009 on close to 404 POSITION_NOT_FOUND', async () => {
    kucoin.server.use(marginMode('ISOLATED'), http.post(`${KUCOIN}/api/v1/orders`, () => HttpResponse.json(fixture('error-300009'))));
    const res = await call('DELETE', '/api/futures/positions/XBTUSDTM');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'POSITION_NOT_FOUND', upstream: { code: '300009' } });
  });
});

describe('leverage', () => {
  it('cross: switches the margin mode, then sets cross leverage as a string, for BTCUSDTM as XBTUSDTM', async () => {
    kucoin.server.use(
      marginMode('ISOLATED'),
      http.post(`${KUCOIN}/api/v2/position/changeMarginMode`, () => json({ symbol: 'XBTUSDTM', marginMode: 'CROSS' })),
      http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, () => json(true)),
    );
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'BTCUSDTM', leverage: 5, marginMode: 'CROSS' } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ symbol: 'XBTUSDTM', baseAsset: 'BTC', marginMode: 'cross', leverage: 5, riskLimitLevel: null, riskLimitLevelChanged: false, riskLimitStatus: null });
    const calls = kucoin.businessCalls();
    expect(calls.map((c) => `${c.method} ${c.path} ${c.body}`)).toEqual([
      'GET /api/v2/position/getMarginMode ',
      'POST /api/v2/position/changeMarginMode {"symbol":"XBTUSDTM","marginMode":"CROSS"}',
      'POST /api/v2/changeCrossUserLeverage {"symbol":"XBTUSDTM","leverage":"5"}',
    ]);
    expect(calls[0]!.query).toEqual([['symbol', 'XBTUSDTM']]);
    calls.forEach(expectSignedByKucoinRules);
  });

  it('isolated: stays at the current risk-limit level when it allows the leverage (no change call), and later orders default to it', async () => {
    kucoin.server.use(
      marginMode('ISOLATED'),
      http.get(`${KUCOIN}/api/v1/contracts/risk-limit/XBTUSDTM`, () => HttpResponse.json(fixture('risk-limit-xbtusdtm'))),
      http.get(`${KUCOIN}/api/v1/position`, () => HttpResponse.json(fixture('position-flat'))),
      acceptOrder(),
    );
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 20, marginMode: 'isolated' } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ symbol: 'XBTUSDTM', baseAsset: 'BTC', marginMode: 'isolated', leverage: 20, riskLimitLevel: 1, riskLimitLevelChanged: false, riskLimitStatus: 'unchanged' });
    expect(kucoin.businessCalls().filter((c) => c.method !== 'GET')).toEqual([]);

    kucoin.calls.length = 0;
    await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } });
    const order = kucoin.businessCalls().find((c) => c.path === '/api/v1/orders');
    expect(JSON.parse(order!.body)).toMatchObject({ leverage: 20, marginMode: 'ISOLATED' });
  });

  it('isolated: a risk-limit change KuCoin answers with data:false is 422 UPSTREAM_REJECTED, not 200', async () => {
    const position = fixture('position-flat') as { data: Record<string, unknown> };
    kucoin.server.use(
      marginMode('ISOLATED'),
      http.get(`${KUCOIN}/api/v1/contracts/risk-limit/XBTUSDTM`, () => HttpResponse.json(fixture('risk-limit-xbtusdtm'))),
      http.get(`${KUCOIN}/api/v1/position`, () => json({ ...position.data, riskLimitLevel: 5 })),
      http.post(`${KUCOIN}/api/v1/position/risk-limit-level/change`, () => json(false)),
    );
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 100, marginMode: 'isolated', cancelOpenOrders: true } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UPSTREAM_REJECTED');
  });

  it('cross: KuCoin answering data:false to the cross-leverage change is 422 UPSTREAM_REJECTED, not 200', async () => {
    kucoin.server.use(marginMode('CROSS'), http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, () => json(false)));
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 10, marginMode: 'cross' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UPSTREAM_REJECTED');
  });

  it('cross: a lost answer to the cross-leverage change is read back before answering', async () => {
    kucoin.server.use(
      marginMode('CROSS'),
      http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, () => fail('500000', 'internal', 500)),
      http.get(`${KUCOIN}/api/v2/getCrossUserLeverage`, () => json({ symbol: 'XBTUSDTM', leverage: '10' })),
    );
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 10, marginMode: 'cross' } });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ symbol: 'XBTUSDTM', marginMode: 'cross', leverage: 10 });
    expect(kucoin.businessCalls().map((c) => `${c.method} ${c.path}`)).toContain('GET /api/v2/getCrossUserLeverage');
  });

  it('a lost answer to the margin-mode switch is read back: the switch happened, the request goes on', async () => {
    let mode: 'ISOLATED' | 'CROSS' = 'ISOLATED';
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v2/position/getMarginMode`, () => json({ symbol: 'XBTUSDTM', marginMode: mode })),
      http.post(`${KUCOIN}/api/v2/position/changeMarginMode`, () => {
        mode = 'CROSS';
        return fail('500000', 'internal', 500);
      }),
      http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, () => json(true)),
    );
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 10, marginMode: 'cross' } });
    expect(res.status).toBe(200);
  });

  it('refuses leverage above the symbol maximum with 400 LEVERAGE_TOO_HIGH before any change', async () => {
    const sol = contractsData().find((c) => c.symbol === 'SOLUSDTM')!;
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'SOLUSDTM', leverage: sol.maxLeverage + 1, marginMode: 'cross' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('LEVERAGE_TOO_HIGH');
    expect(kucoin.businessCalls()).toEqual([]);
  });

  it('maps a blocked margin-mode switch (50002) to 409', async () => {
    kucoin.server.use(marginMode('ISOLATED'), http.post(`${KUCOIN}/api/v2/position/changeMarginMode`, () => fail('50002', 'exist.order.or.position')));
    const res = await call('PUT', '/api/futures/leverage', { json: { symbol: 'XBTUSDTM', leverage: 3, marginMode: 'cross' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('MARGIN_MODE_CHANGE_BLOCKED');
  });
});

describe('funding, account, contracts', () => {
  it('reads the funding rate of BTCUSDTM from /api/v1/funding-rate/XBTUSDTM/current', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/funding-rate/XBTUSDTM/current`, () => HttpResponse.json(fixture('funding-rate-current'))));
    const res = await call('GET', '/api/futures/funding/BTCUSDTM');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ symbol: 'XBTUSDTM', baseAsset: 'BTC', fundingRateSymbol: '.XBTUSDTMFPI8H', rate: 6.41e-4, intervalMs: 28800000, nextFundingTime: 1731470400000 });
    expect(kucoin.businessCalls().map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/v1/funding-rate/XBTUSDTM/current']);
  });

  it('reads the USDT account overview by default', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/account-overview`, () => HttpResponse.json(fixture('account-overview'))));
    const res = await call('GET', '/api/futures/account');
    expect(res.status).toBe(200);
    expect(res.body.data.currency).toBe('USDT');
    const [read] = kucoin.businessCalls();
    expect(read!.query).toEqual([['currency', 'USDT']]);
    expectSignedByKucoinRules(read!);
  });

  it('lists contracts from the cached list and reads one fresh', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/contracts/XBTUSDTM`, () => HttpResponse.json(fixture('contract-xbtusdtm'))));
    const list = await call('GET', '/api/futures/contracts');
    expect(list.body.data.map((c: { symbol: string; baseAsset: string }) => `${c.symbol}:${c.baseAsset}`)).toEqual(
      contractsData().map((c) => `${c.symbol}:${(c as unknown as { baseCurrency: string }).baseCurrency === 'XBT' ? 'BTC' : (c as unknown as { baseCurrency: string }).baseCurrency}`),
    );
    const one = await call('GET', '/api/futures/contracts/BTC%2FUSDT%3AUSDT');
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({ symbol: 'XBTUSDTM', multiplier: 0.001, lotSize: 1, tickSize: 0.1 });
  });
});

describe('orders', () => {
  const limit = { symbol: 'BTCUSDTM', side: 'BUY', type: 'LIMIT', qty: 2, price: 60000.5 };
  /** `limit` as KuCoin holds it: only the same order may answer for it. */
  const sameAsLimit = { symbol: 'XBTUSDTM', side: 'buy', type: 'limit', price: '60000.5', size: 2, reduceOnly: false, closeOrder: false, status: 'open', isActive: true, dealSize: 0, filledSize: 0 };
  /** The done-order search of a reconciliation (GET /api/v1/orders?status=done): nothing there. */
  const noDoneOrders = () => http.get(`${KUCOIN}/api/v1/orders`, () => json({ currentPage: 1, pageSize: 1000, totalNum: 0, totalPage: 0, items: [] }));

  it('places a limit order: exact KuCoin body, the symbol margin mode, 201 with the KuCoin order id', async () => {
    kucoin.server.use(marginMode('CROSS'), acceptOrder('777'));
    const res = await call('POST', '/api/futures/orders', { json: { ...limit, clientOid: 'my-order-1' } });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({ orderId: '777', clientOid: 'my-order-1', symbol: 'XBTUSDTM', baseAsset: 'BTC', side: 'BUY', type: 'LIMIT', qty: 2, price: 60000.5, replayed: false });
    const post = kucoin.businessCalls().find((c) => c.method === 'POST')!;
    expect(post.body).toBe('{"clientOid":"my-order-1","side":"buy","symbol":"XBTUSDTM","type":"limit","price":"60000.5","size":2,"leverage":1,"marginMode":"CROSS"}');
    expectSignedByKucoinRules(post);
  });

  it('converts a base-asset quantity to contracts with the multiplier', async () => {
    kucoin.server.use(marginMode('ISOLATED'), acceptOrder());
    const res = await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'SELL', type: 'MARKET', qty: 0.005, qtyUnit: 'base', marginMode: 'isolated' } });
    expect(res.status).toBe(201);
    expect(res.body.data.qty).toBe(5);
    const post = kucoin.businessCalls().find((c) => c.method === 'POST')!;
    expect(JSON.parse(post.body)).toMatchObject({ size: 5, side: 'sell', type: 'market', marginMode: 'ISOLATED' });
    expect(JSON.parse(post.body)).not.toHaveProperty('price');
  });

  it.each([
    ['a price off the tick grid', { ...limit, price: 60000.55 }, 'price'],
    ['an unknown symbol', { ...limit, symbol: 'FOOUSDTM' }, 'symbol'],
    ['a base quantity that is not a whole number of lots', { ...limit, qty: 0.0015, qtyUnit: 'base' }, 'qty'],
  ])('rejects %s with 400 naming the field, without placing anything', async (_name, body, field) => {
    const res = await call('POST', '/api/futures/orders', { json: body });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(kucoin.businessCalls().filter((c) => c.method === 'POST')).toEqual([]);
  });

  it('replays a repeated Idempotency-Key without a second upstream order, and refuses the key for another body', async () => {
    kucoin.server.use(marginMode('CROSS'), acceptOrder('555'));
    const headers = { 'idempotency-key': 'idem-key-1' };
    const first = await call('POST', '/api/futures/orders', { json: limit, headers });
    const second = await call('POST', '/api/futures/orders', { json: limit, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.data).toMatchObject({ orderId: '555', clientOid: 'idem-key-1', replayed: true });
    expect(kucoin.businessCalls().filter((c) => c.method === 'POST')).toHaveLength(1);
    const other = await call('POST', '/api/futures/orders', { json: { ...limit, qty: 3 }, headers });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', clientOid: 'idem-key-1' });
  });

  it('after a timeout, finds the order by clientOid and answers success without a second POST', async () => {
    let posts = 0;
    kucoin.server.use(
      marginMode('CROSS'),
      http.post(`${KUCOIN}/api/v1/orders`, async () => ((posts += 1), await delay(1_000), json({ orderId: 'late', clientOid: 'x' }))),
      http.get(`${KUCOIN}/api/v1/orders/byClientOid`, ({ request: req }) =>
        json({ ...fixture('order').data, ...sameAsLimit, id: 'found-1', clientOid: new URL(req.url).searchParams.get('clientOid') }),
      ),
      noDoneOrders(),
    );
    const res = await call('POST', '/api/futures/orders', { json: limit, headers: { 'idempotency-key': 'timeout-found' } });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ orderId: 'found-1', clientOid: 'timeout-found' });
    expect(posts).toBe(1);
    const lookup = kucoin.businessCalls().find((c) => c.path === '/api/v1/orders/byClientOid')!;
    expect(lookup.query).toEqual([['clientOid', 'timeout-found']]);
  });

  it('after a timeout, answers 502 ORDER_UNCONFIRMED when neither lookup finds the order; a retry with the key is reconciled first, nothing sent', async () => {
    let posts = 0;
    kucoin.server.use(
      marginMode('CROSS'),
      http.post(`${KUCOIN}/api/v1/orders`, async () => ((posts += 1), await delay(1_000), json({ orderId: 'late', clientOid: 'x' }))),
      http.get(`${KUCOIN}/api/v1/orders/byClientOid`, () => json(null)),
      noDoneOrders(),
    );
    const res = await call('POST', '/api/futures/orders', { json: limit, headers: { 'idempotency-key': 'timeout-lost' } });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'ORDER_UNCONFIRMED', clientOid: 'timeout-lost' });
    expect(res.body.detail).not.toMatch(/retry with it/i);
    expect(posts).toBe(1);
    const done = kucoin.businessCalls().find((c) => c.path === '/api/v1/orders' && c.method === 'GET')!;
    expect(done.query).toEqual(expect.arrayContaining([['status', 'done'], ['symbol', 'XBTUSDTM']]));

    // Inside the first request's deadline nothing found is not conclusive: the retry sends nothing.
    kucoin.server.use(acceptOrder('retried-1'));
    const retry = await call('POST', '/api/futures/orders', { json: limit, headers: { 'idempotency-key': 'timeout-lost' } });
    expect(retry.status).toBe(502);
    expect(retry.body).toMatchObject({ code: 'ORDER_UNCONFIRMED', clientOid: 'timeout-lost' });
    expect(kucoin.businessCalls().filter((c) => c.method === 'POST')).toHaveLength(1);
    expect(posts).toBe(1);
  });

  it('after a 5xx, answers 502 ORDER_UNCONFIRMED with the clientOid when the lookup finds nothing', async () => {
    let posts = 0;
    kucoin.server.use(
      marginMode('CROSS'),
      http.post(`${KUCOIN}/api/v1/orders`, () => ((posts += 1), new HttpResponse('upstream exploded', { status: 502 }))),
      http.get(`${KUCOIN}/api/v1/orders/byClientOid`, () => json(null)),
      noDoneOrders(),
    );
    const res = await call('POST', '/api/futures/orders', { json: { ...limit, clientOid: 'lost-1' } });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'ORDER_UNCONFIRMED', clientOid: 'lost-1' });
    expect(posts).toBe(1);
  });

  it.each([
    ['error-300003', 422, 'INSUFFICIENT_BALANCE'],
    ['error-330005', 409, 'MARGIN_MODE_MISMATCH'],
    ['error-429000', 429, 'UPSTREAM_RATE_LIMITED'],
  ])('maps KuCoin %s on an order to %i %s', async (name, status, code) => {
    const envelope = fixture(name);
    // KuCoin's 429000 comes with its pool headers; a short reset keeps the pool closed only briefly here.
    const limited = { status: 429, headers: { 'gw-ratelimit-limit': '2000', 'gw-ratelimit-remaining': '0', 'gw-ratelimit-reset': '50' } };
    kucoin.server.use(marginMode('CROSS'), http.post(`${KUCOIN}/api/v1/orders`, () => HttpResponse.json(envelope, name === 'error-429000' ? limited : {})));
    const res = await call('POST', '/api/futures/orders', { json: limit });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code, upstream: { code: envelope.code } });
    if (status === 429) {
      expect(res.headers.get('retry-after')).toBe('1');
      await new Promise((r) => setTimeout(r, 80));
    }
  });

  it('lists open orders with status=active and the canonical symbol', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders`, () => HttpResponse.json(fixture('orders-active'))));
    const res = await call('GET', '/api/futures/orders?symbol=BTC-USDT&page=1&pageSize=20');
    expect(res.status).toBe(200);
    const [list] = kucoin.businessCalls();
    expect(list!.query).toEqual([
      ['status', 'active'],
      ['symbol', 'XBTUSDTM'],
      ['currentPage', '1'],
      ['pageSize', '20'],
    ]);
    expectSignedByKucoinRules(list!);
    expect(res.body.data.items.length).toBe(fixture('orders-active').data.items.length);
  });

  it('reads and cancels one order', async () => {
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v1/orders/:id`, () => HttpResponse.json(fixture('order'))),
      http.delete(`${KUCOIN}/api/v1/orders/:id`, () => HttpResponse.json(fixture('order-cancel'))),
    );
    const read = await call('GET', '/api/futures/orders/234125150956625920');
    expect(read.status).toBe(200);
    const cancel = await call('DELETE', '/api/futures/orders/234125150956625920');
    expect(cancel.status).toBe(200);
    expect(cancel.body.data.cancelledOrderIds).toEqual(fixture('order-cancel').data.cancelledOrderIds);
    expect(kucoin.businessCalls().map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/v1/orders/234125150956625920', 'DELETE /api/v1/orders/234125150956625920']);
    kucoin.businessCalls().forEach(expectSignedByKucoinRules);
    expect(read.body.data).toMatchObject({ orderId: fixture('order').data.id, symbol: fixture('order').data.symbol });
  });

  it('maps 100004 on cancel to 409 ORDER_NOT_CANCELABLE', async () => {
    kucoin.server.use(http.delete(`${KUCOIN}/api/v1/orders/:id`, () => HttpResponse.json(fixture('error-100004'))));
    const res = await call('DELETE', '/api/futures/orders/1');
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ORDER_NOT_CANCELABLE');
  });

  it('property: random invalid order bodies always get 400 and never reach KuCoin', async () => {
    const invalid = fc.oneof(
      fc.record({ symbol: fc.constant('XBTUSDTM'), side: fc.constant('BUY'), type: fc.constant('MARKET'), qty: fc.oneof(fc.constant(0), fc.integer({ max: -1 }), fc.string()) }),
      fc.record({ symbol: fc.constant('XBTUSDTM'), side: fc.string().filter((s) => s !== 'BUY' && s !== 'SELL'), type: fc.constant('MARKET'), qty: fc.constant(1) }),
      fc.record({ symbol: fc.constant('XBTUSDTM'), side: fc.constant('SELL'), type: fc.constant('LIMIT'), qty: fc.integer({ min: 1, max: 10 }) }),
      fc.record({ symbol: fc.constant('XBTUSDTM'), side: fc.constant('SELL'), type: fc.constant('MARKET'), qty: fc.constant(1), price: fc.double({ min: 1, max: 1e6, noNaN: true }) }),
      fc.dictionary(fc.string({ minLength: 1 }), fc.jsonValue()).filter((o) => !('symbol' in o && 'side' in o && 'type' in o && 'qty' in o)),
      fc.record({ symbol: fc.string({ maxLength: 2 }), side: fc.constant('BUY'), type: fc.constant('MARKET'), qty: fc.constant(1) }),
    );
    await fc.assert(
      fc.asyncProperty(invalid, async (body) => {
        const res = await call('POST', '/api/futures/orders', { json: body });
        expect(res.status).toBe(400);
        expect(kucoin.businessCalls()).toEqual([]);
      }),
      { numRuns: 60, seed: 20261127 },
    );
  });
});
