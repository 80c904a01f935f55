/**
 * Request fields KuCoin does not take, and answers that misreported, against an msw KuCoin:
 * whole-number leverage, limit-only fields refused on MARKET orders, BTC as XBT in currency
 * filters, plain-decimal prices; unknown order ids, every documented order type, and a cancel
 * whose answer is lost read back before answering.
 */
import { HttpResponse, delay, http } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';

const kucoin = mockKucoin();
let running: RunningGateway;

type RawContract = Record<string, unknown> & { symbol: string };
/** A contract priced below 1e-6, as meme coins are: its tick is 1e-9. */
const tinyContract = (): RawContract => ({
  ...(fixture('contracts-active').data as RawContract[]).find((c) => c.symbol === 'XBTUSDTM')!,
  symbol: 'PEPEUSDTM',
  rootSymbol: 'PEPE',
  baseCurrency: 'PEPE',
  tickSize: 1e-9,
  multiplier: 1000,
  maxLeverage: 50,
  markPrice: 0.0000009,
  indexPrice: 0.0000009,
});
const contractList = () => http.get(`${KUCOIN}/api/v1/contracts/active`, () => json([...(fixture('contracts-active').data as RawContract[]), tinyContract()]));

beforeAll(async () => {
  kucoin.listen();
  kucoin.server.use(contractList());
  // A breaker opened by the lost answers below would turn later cases into 503s.
  running = await startGateway({
    FEATURE_FUTURES: 'true',
    FUTURES_BASE_URL: KUCOIN,
    UPSTREAM_TIMEOUT_MS: '300',
    UPSTREAM_BREAKER_FAILURES: '1000',
    READS_FROM_STREAM: 'false',
    ...TEST_CREDENTIALS,
  });
});
beforeEach(() => kucoin.server.use(contractList()));
afterEach(() => kucoin.reset());
afterAll(async () => {
  await running.stop();
  kucoin.close();
});

const call = (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(running.baseUrl, method, path, init);
const fail = (code: string, msg: string, status = 200) => HttpResponse.json({ code, msg }, { status });
const marginMode = (mode: 'ISOLATED' | 'CROSS') => http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: mode }));
const acceptOrder = () => http.post(`${KUCOIN}/api/v1/orders`, async ({ request: req }) => json({ orderId: '1001', clientOid: ((await req.json()) as { clientOid: string }).clientOid }));
const sentOrder = (): Record<string, unknown> => JSON.parse(kucoin.businessCalls().find((c) => c.method === 'POST' && c.path === '/api/v1/orders')!.body);
const fieldsNamed = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

const market = { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1, marginMode: 'isolated' };
const limit = { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000, marginMode: 'isolated' };

describe('request fields KuCoin does not take are refused before anything is sent', () => {
  it.each([
    ['an order with leverage 2.5', 'POST', '/api/futures/orders', { ...limit, leverage: 2.5 }],
    ['an order with leverage 1.0001', 'POST', '/api/futures/orders', { ...market, leverage: 1.0001 }],
    ['a cross leverage change to 2.5', 'PUT', '/api/futures/leverage', { symbol: 'XBTUSDTM', leverage: 2.5, marginMode: 'cross' }],
    ['an isolated leverage change to 7.5', 'PUT', '/api/futures/leverage', { symbol: 'XBTUSDTM', leverage: 7.5, marginMode: 'isolated' }],
  ])('%s: 400 VALIDATION_FAILED naming leverage', async (_name, method, path, body) => {
    kucoin.server.use(marginMode('CROSS'), acceptOrder(), http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, () => json(true)));
    const res = await call(method, path, { json: body });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(fieldsNamed(res.body)).toContain('leverage');
    expect(kucoin.businessCalls()).toEqual([]);
  });

  it.each([
    ['timeInForce GTC', { timeInForce: 'GTC' }, 'timeInForce'],
    ['timeInForce IOC', { timeInForce: 'IOC' }, 'timeInForce'],
    ['postOnly true', { postOnly: true }, 'postOnly'],
    ['postOnly false', { postOnly: false }, 'postOnly'],
  ])('a MARKET order with %s: 400 naming %s, nothing sent', async (_name, extra, field) => {
    kucoin.server.use(marginMode('ISOLATED'), acceptOrder());
    const res = await call('POST', '/api/futures/orders', { json: { ...market, ...extra } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(fieldsNamed(res.body)).toEqual([field]);
    expect(kucoin.businessCalls()).toEqual([]);
  });

  it.each([
    ['a MARKET order without them sends neither', market, {}, ['timeInForce', 'postOnly']],
    ['a LIMIT order sends both', { ...limit, timeInForce: 'IOC', postOnly: true }, { timeInForce: 'IOC', postOnly: true }, []],
    ['a LIMIT order without them sends neither (KuCoin defaults GTC)', limit, {}, ['timeInForce', 'postOnly']],
  ])('%s', async (_name, body, sent, absent) => {
    kucoin.server.use(marginMode('ISOLATED'), acceptOrder());
    const res = await call('POST', '/api/futures/orders', { json: body });
    expect(res.status).toBe(201);
    const upstream = sentOrder();
    expect(upstream).toMatchObject(sent);
    for (const key of absent) expect(upstream).not.toHaveProperty(key);
  });

  it.each([
    [0.0000008, '0.0000008'],
    [0.00000081, '0.00000081'],
    [0.000000123, '0.000000123'],
    [0.0000015, '0.0000015'],
  ])('a LIMIT price of %d is sent as the plain decimal %s, never in exponent form', async (price, text) => {
    kucoin.server.use(marginMode('ISOLATED'), acceptOrder());
    const res = await call('POST', '/api/futures/orders', { json: { ...limit, symbol: 'PEPEUSDTM', price } });
    expect(res.status).toBe(201);
    expect(sentOrder().price).toBe(text);
    expect(res.body.data.price).toBe(price);
  });

  it.each([
    ['positions, BTC', '/api/futures/positions?currency=BTC', '/api/v1/positions', 'XBT'],
    ['positions, btc', '/api/futures/positions?currency=btc', '/api/v1/positions', 'XBT'],
    ['positions, usdt', '/api/futures/positions?currency=usdt', '/api/v1/positions', 'USDT'],
    ['account, BTC', '/api/futures/account?currency=BTC', '/api/v1/account-overview', 'XBT'],
    ['account, XBT', '/api/futures/account?currency=XBT', '/api/v1/account-overview', 'XBT'],
  ])('the currency filter (%s) goes to KuCoin as its root symbol %s', async (_name, path, upstreamPath, currency) => {
    const ethusdm = { ...(fixture('contracts-active').data as RawContract[]).find((c) => c.symbol === 'XBTUSDM')!, symbol: 'ETHUSDM', baseCurrency: 'ETH', rootSymbol: 'ETH', settleCurrency: 'ETH' };
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v1/positions`, () => HttpResponse.json(fixture('positions'))),
      http.get(`${KUCOIN}/api/v1/contracts/ETHUSDM`, () => json(ethusdm)),
      http.get(`${KUCOIN}/api/v1/account-overview`, ({ request: req }) => json({ ...fixture('account-overview').data, currency: new URL(req.url).searchParams.get('currency') })),
    );
    const res = await call('GET', path);
    expect(res.status).toBe(200);
    const read = kucoin.businessCalls().find((c) => c.path === upstreamPath)!;
    expect(read.query).toEqual([['currency', currency]]);
    // Shown as users know it on the way out.
    if (upstreamPath === '/api/v1/account-overview') expect(res.body.data.currency).toBe(currency === 'XBT' ? 'BTC' : currency);
  });
});

describe('answers that misreported', () => {
  const unknown = () => fail('100001', 'error.getOrder.orderNotExist');

  it.each([
    ['GET', () => http.get(`${KUCOIN}/api/v1/orders/:id`, unknown)],
    ['DELETE', () => http.delete(`${KUCOIN}/api/v1/orders/:id`, unknown)],
  ])('%s of an order id KuCoin does not know (100001 error.getOrder.orderNotExist) is 404 ORDER_NOT_FOUND', async (method, handler) => {
    kucoin.server.use(handler());
    const res = await call(method, '/api/futures/orders/999999999999999999');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'ORDER_NOT_FOUND', upstream: { code: '100001', message: 'error.getOrder.orderNotExist' } });
  });

  it('another 100001 on an order read stays 400 UPSTREAM_INVALID_REQUEST', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders/:id`, () => fail('100001', 'Parameter orderId is invalid')));
    const res = await call('GET', '/api/futures/orders/abc');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('UPSTREAM_INVALID_REQUEST');
  });

  it.each([
    ['oco_stop', 'OCO_STOP'],
    ['oco_limit', 'OCO_LIMIT'],
    ['limit_stop', 'LIMIT_STOP'],
    ['market_stop', 'MARKET_STOP'],
    ['trailing_stop', 'TRAILING_STOP'],
  ])('an open order of type %s is listed as %s, and the rest of the list with it', async (kucoinType, ours) => {
    const page = fixture('orders-active');
    const [first] = page.data.items as Record<string, unknown>[];
    const odd = { ...first, id: 'odd-1', type: kucoinType, price: kucoinType.startsWith('market') ? '0' : first!.price };
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/orders`, () => HttpResponse.json({ ...page, data: { ...page.data, items: [...page.data.items, odd], totalNum: page.data.items.length + 1 } })));
    const res = await call('GET', '/api/futures/orders');
    expect(res.status).toBe(200);
    expect(res.body.data.items).toHaveLength(page.data.items.length + 1);
    const item = res.body.data.items.find((o: { orderId: string }) => o.orderId === 'odd-1');
    expect(item.type).toBe(ours);
    if (ours === 'MARKET_STOP') expect(item.price).toBeNull();
  });

  const order = (status: 'open' | 'canceled' | 'filled') => ({
    ...fixture('order').data,
    id: '4242',
    type: 'limit',
    price: '60000',
    size: 2,
    isActive: status === 'open',
    status: status === 'open' ? 'open' : 'done',
    filledSize: status === 'filled' ? 2 : status === 'canceled' ? 1 : 0,
    cancelExist: status === 'canceled',
  });
  const lostAnswers = {
    timeout: () => http.delete(`${KUCOIN}/api/v1/orders/:id`, async () => (await delay(1_000), json({ cancelledOrderIds: ['4242'] }))),
    '5xx': () => http.delete(`${KUCOIN}/api/v1/orders/:id`, () => fail('500000', 'Internal Server Error', 500)),
  };

  it.each([
    ['timeout', 'canceled', 200, undefined],
    ['5xx', 'canceled', 200, undefined],
    ['timeout', 'filled', 409, 'ORDER_NOT_CANCELABLE'],
    ['timeout', 'open', 502, 'CANCEL_UNCONFIRMED'],
    ['5xx', 'open', 502, 'CANCEL_UNCONFIRMED'],
  ] as const)('a cancel whose answer is lost (%s) is read back: %s → %i %s', async (lost, status, httpStatus, code) => {
    kucoin.server.use(lostAnswers[lost](), http.get(`${KUCOIN}/api/v1/orders/:id`, () => json(order(status))));
    const res = await call('DELETE', '/api/futures/orders/4242');
    expect(res.status).toBe(httpStatus);
    if (httpStatus === 200) expect(res.body.data).toEqual({ cancelledOrderIds: ['4242'], reconciled: true });
    else expect(res.body.code).toBe(code);
    if (code === 'CANCEL_UNCONFIRMED') expect(res.body.detail).toMatch(/still open/);
    // One DELETE, never repeated, then the read-back.
    expect(kucoin.businessCalls().map((c) => `${c.method} ${c.path}`)).toEqual(['DELETE /api/v1/orders/4242', 'GET /api/v1/orders/4242']);
  });

  it('a cancel whose answer is lost and whose order cannot be read back is 502 CANCEL_UNCONFIRMED saying it may have been applied', async () => {
    kucoin.server.use(lostAnswers['5xx'](), http.get(`${KUCOIN}/api/v1/orders/:id`, () => fail('500000', 'Internal Server Error', 500)));
    const res = await call('DELETE', '/api/futures/orders/4242');
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('CANCEL_UNCONFIRMED');
    expect(res.body.detail).toMatch(/may have been applied/);
  });

  it('the funding rate, a public call (KuCoin api-3470265), is never signed though credentials exist', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/funding-rate/:symbol/current`, () => HttpResponse.json(fixture('funding-rate-current'))));
    const res = await call('GET', '/api/futures/funding/BTCUSDTM');
    expect(res.status).toBe(200);
    const [read] = kucoin.businessCalls();
    expect(read!.path).toBe('/api/v1/funding-rate/XBTUSDTM/current');
    for (const header of ['kc-api-key', 'kc-api-sign', 'kc-api-passphrase', 'kc-api-timestamp']) expect(read!.headers.get(header)).toBeNull();
  });
});
