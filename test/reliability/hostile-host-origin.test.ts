/**
 * A hostile web page against a trader's gateway: DNS rebinding (a foreign `Host`), cross-site
 * requests and WebSockets (a foreign `Origin`), and HEAD, which every GET route must answer
 * (RFC 9110 §9.3.2) instead of 405.
 */
import { connect } from 'node:net';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request } from '../support/http-client.js';
import { assertResponseMatchesContract } from '../support/http-contract.js';
import { assertServerMessage } from '../support/ws-contract.js';
import { startGateway, startGatewayWith, testConfig, TEST_API_KEY, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { fixture, json, KUCOIN, mockKucoin, silenceUnhandledKucoinCalls } from '../support/kucoin-mock.js';
import { checkedRawRequest } from './raw-http.js';

const kucoin = mockKucoin();
const APP_ORIGIN = 'https://app.example.com';
const ORDER = { symbol: 'BTCUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 };

/** Loopback, no API keys, futures on, KuCoin mocked: the trader's machine the attacker aims at. */
let trader: RunningGateway;
/** The same without KuCoin credentials, for the socket (its greeting then needs no KuCoin stream). */
let socketOnly: RunningGateway;
/** Futures off. */
let switchedOff: RunningGateway;

beforeAll(async () => {
  silenceUnhandledKucoinCalls();
  kucoin.listen();
  const common = { FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '0', ALLOWED_ORIGINS: APP_ORIGIN, READS_FROM_STREAM: 'false' };
  [trader, socketOnly, switchedOff] = await Promise.all([
    startGateway({ ...common, FUTURES_BASE_URL: KUCOIN, UPSTREAM_TIMEOUT_MS: '300', ...TEST_CREDENTIALS }),
    startGateway(common),
    startGateway({ ...common, FEATURE_FUTURES: 'false' }),
  ]);
});
afterEach(() => kucoin.reset());
afterAll(async () => {
  await Promise.all([trader, socketOnly, switchedOff].map((g) => g?.stop()));
  kucoin.close();
});

const port = (g: RunningGateway) => new URL(g.baseUrl).port;
/** KuCoin accepting an order (echoing its clientOid), on a cross-margin symbol. */
const acceptOrders = () =>
  kucoin.server.use(
    http.post(`${KUCOIN}/api/v1/orders`, async ({ request: req }) => json({ orderId: '234125150956625920', clientOid: ((await req.json()) as { clientOid: string }).clientOid })),
    http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: 'CROSS' })),
  );
const placeOrder = (g: RunningGateway, headers: Record<string, string>) =>
  checkedRawRequest(g.baseUrl, 'POST', '/api/futures/orders', { 'content-type': 'application/json', ...headers }, JSON.stringify(ORDER));
async function businessCalls(): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return kucoin.businessCalls().map((c) => `${c.method} ${c.path}`);
}

describe('Host: a foreign host gets 421 MISDIRECTED_REQUEST on every route (loopback default)', () => {
  it.each([
    ['GET', '/api/health'],
    ['GET', '/metrics'],
    ['GET', '/api/futures/positions'],
    ['GET', '/no/such/path'],
    ['PUT', '/api/admin/futures-switch'],
  ])('%s %s with Host attacker.example', async (method, path) => {
    const res = await checkedRawRequest(trader.baseUrl, method, path, { host: `attacker.example:${port(trader)}` });
    expect(res.status).toBe(421);
    expect(res.body).toMatchObject({ code: 'MISDIRECTED_REQUEST', status: 421, instance: path });
    expect(res.body.detail).toContain('attacker.example');
  });

  it('an order with Host attacker.example is refused and never reaches KuCoin', async () => {
    acceptOrders();
    const res = await placeOrder(trader, { host: 'attacker.example' });
    expect(res.status).toBe(421);
    expect(res.body.code).toBe('MISDIRECTED_REQUEST');
    expect(await businessCalls()).toEqual([]);
    // The same order naming a loopback host is placed: the refusal above is the Host's doing.
    const placed = await placeOrder(trader, { host: `localhost:${port(trader)}` });
    expect(placed.status).toBe(201);
    expect(await businessCalls()).toContain('POST /api/v1/orders');
  });

  it.each(['localhost', 'LOCALHOST:1', '127.0.0.1:3001', '[::1]', '[::1]:8080', 'localhost.:9'])('serves Host %s (a loopback name, any port)', async (host) => {
    const res = await checkedRawRequest(trader.baseUrl, 'GET', '/api/health', { host });
    expect(res.status).toBe(200);
  });

  it.each(['127.0.0.1.attacker.example', 'localhost.attacker.example', 'attacker.example@127.0.0.1', '[::2]', '127.0.0.1:3001:1'])(
    'refuses Host %j',
    async (host) => {
      const res = await checkedRawRequest(trader.baseUrl, 'GET', '/api/health', { host });
      expect(res.status).toBe(421);
      expect(res.body.code).toBe('MISDIRECTED_REQUEST');
    },
  );

  it.each([
    ['HTTP/1.0 without Host', 'GET /api/health HTTP/1.0\r\n\r\n'],
    ['an empty Host', 'GET /api/health HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n'],
    ['HTTP/1.1 without Host', 'GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ])('refuses a request naming no host at all (%s)', async (_label, text) => {
    const res = await rawExchange(trader, text);
    expect(res.status).toBe(421);
    assertResponseMatchesContract({ method: 'GET', path: '/api/health', status: res.status, headers: res.headers, body: res.body });
    expect(JSON.parse(res.body).code).toBe('MISDIRECTED_REQUEST');
  });

  it('refuses the socket upgrade with Host attacker.example (421 before anything else)', async () => {
    const refused = await upgrade(socketOnly, { host: 'attacker.example' });
    expect(refused).toMatchObject({ status: 421, code: 'MISDIRECTED_REQUEST' });
  });

  it('answers 421 before the kill switch: a switched-off gateway refuses the host too', async () => {
    const res = await checkedRawRequest(switchedOff.baseUrl, 'GET', '/api/futures/positions', { host: 'attacker.example' });
    expect(res.status).toBe(421);
  });
});

describe('Host beyond loopback (HOST=0.0.0.0 with API keys)', () => {
  let open: RunningGateway;
  let listed: RunningGateway;
  beforeAll(async () => {
    const env = { HOST: '0.0.0.0', GATEWAY_API_KEYS: TEST_API_KEY, FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '0' };
    // Built for 0.0.0.0, listening on 127.0.0.1 like every test gateway.
    [open, listed] = await Promise.all([startGatewayWith(testConfig(env)), startGatewayWith(testConfig({ ...env, ALLOWED_HOSTS: 'gateway.example.com' }))]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), listed?.stop()]);
  });

  it('accepts any Host while ALLOWED_HOSTS is unset (futures are guarded by API keys there)', async () => {
    for (const host of ['attacker.example', 'gateway.example.com:443', '10.0.0.5']) {
      expect((await checkedRawRequest(open.baseUrl, 'GET', '/api/health', { host })).status, host).toBe(200);
    }
    // Still guarded: the key, not the host, keeps the attacker out.
    expect((await checkedRawRequest(open.baseUrl, 'GET', '/api/futures/positions', { host: 'attacker.example' })).status).toBe(401);
  });

  it('with ALLOWED_HOSTS set, serves only those names', async () => {
    expect((await checkedRawRequest(listed.baseUrl, 'GET', '/api/health', { host: 'Gateway.Example.com:443' })).status).toBe(200);
    for (const host of ['attacker.example', '127.0.0.1', 'localhost']) {
      const res = await checkedRawRequest(listed.baseUrl, 'GET', '/api/health', { host });
      expect(res.status, host).toBe(421);
    }
  });
});

describe('Origin: a foreign web page gets 403 ORIGIN_NOT_ALLOWED on futures routes and the socket', () => {
  it('an order from Origin https://evil.example is refused and nothing is sent to KuCoin', async () => {
    acceptOrders();
    const res = await placeOrder(trader, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED', status: 403 });
    expect(await businessCalls()).toEqual([]);
  });

  it.each(['null', 'http://localhost:1', 'https://app.example.com.evil.example', 'http://app.example.com', 'not a url'])('refuses Origin %j', async (origin) => {
    const res = await checkedRawRequest(trader.baseUrl, 'GET', '/api/futures/account', { origin });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(await businessCalls()).toEqual([]);
  });

  it('places orders without Origin, from an origin in ALLOWED_ORIGINS and from the gateway\'s own origin', async () => {
    const own = `http://127.0.0.1:${port(trader)}`;
    for (const origin of [undefined, APP_ORIGIN, 'https://APP.example.com:443', own]) {
      acceptOrders();
      const res = await placeOrder(trader, origin === undefined ? {} : { origin });
      expect(res.status, String(origin)).toBe(201);
      expect(await businessCalls()).toContain('POST /api/v1/orders');
      kucoin.reset();
    }
  });

  it('the own origin must match scheme and port too', async () => {
    for (const origin of [`https://127.0.0.1:${port(trader)}`, `http://127.0.0.1:${Number(port(trader)) + 1}`, `http://localhost:${port(trader)}`]) {
      const res = await checkedRawRequest(trader.baseUrl, 'GET', '/api/futures/account', { origin });
      expect(res.status, origin).toBe(403);
    }
  });

  it('leaves routes outside futures alone (the reference page and health)', async () => {
    const res = await checkedRawRequest(trader.baseUrl, 'GET', '/api/health', { origin: 'https://evil.example' });
    expect(res.status).toBe(200);
  });

  it('switch off: a futures path with a foreign Origin still answers exactly like an unknown route (404)', async () => {
    for (const method of ['GET', 'POST']) {
      const futures = await checkedRawRequest(switchedOff.baseUrl, method, '/api/futures/orders', { origin: 'https://evil.example' });
      const unknown = await checkedRawRequest(switchedOff.baseUrl, method, '/api/no-such-thing', { origin: 'https://evil.example' });
      expect(futures.status).toBe(404);
      expect(futures.body.code).toBe('NOT_FOUND');
      expect(strip(futures)).toEqual(strip(unknown));
    }
  });

  it('refuses the socket from Origin https://evil.example with 403, before any message is sent', async () => {
    const refused = await upgrade(socketOnly, { origin: 'https://evil.example' });
    expect(refused).toMatchObject({ status: 403, code: 'ORIGIN_NOT_ALLOWED', messages: 0 });
  });

  it('switch off: the socket with a foreign Origin answers 404 like any unknown path', async () => {
    const refused = await upgrade(switchedOff, { origin: 'https://evil.example' });
    expect(refused).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it.each([
    ['no Origin', {}],
    ['an Origin in ALLOWED_ORIGINS', { origin: APP_ORIGIN }],
    ['the gateway\'s own origin', { origin: 'own' }],
  ])('opens the socket with %s and greets it', async (_label, headers: { origin?: string }) => {
    const origin = headers.origin === 'own' ? `http://127.0.0.1:${port(socketOnly)}` : headers.origin;
    const ws = new WebSocket(`${socketOnly.wsUrl}/ws/futures`, origin === undefined ? {} : { origin });
    try {
      const first = await new Promise<any>((resolve, reject) => {
        ws.once('message', (data) => resolve(JSON.parse(String(data))));
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      });
      assertServerMessage(first);
      expect(first.type).toBe('futures_connected');
    } finally {
      ws.terminate();
    }
  });
});

describe('HEAD: answered as the GET, without the body', () => {
  it('HEAD /api/health: 200, the GET\'s Content-Type, a Content-Length, no body', async () => {
    const head = await checkedRawRequest(trader.baseUrl, 'HEAD', '/api/health');
    const get = await request(trader.baseUrl, 'GET', '/api/health');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect(head.headers.get('x-request-id')).toBeTruthy();
  });

  it.each(['/api/docs', '/metrics', '/api/asyncapi.json'])('HEAD %s: 200, the GET\'s Content-Type, no body', async (path) => {
    const head = await checkedRawRequest(trader.baseUrl, 'HEAD', path);
    const get = await request(trader.baseUrl, 'GET', path);
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
  });

  it('HEAD /api/openapi.json carries the GET\'s exact Content-Length', async () => {
    const head = await checkedRawRequest(trader.baseUrl, 'HEAD', '/api/openapi.json');
    const get = await request(trader.baseUrl, 'GET', '/api/openapi.json');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.text)));
  });

  it('HEAD on a futures GET route reads KuCoin like the GET, and answers its status without the body', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/account-overview`, () => HttpResponse.json(fixture('account-overview'))));
    const head = await checkedRawRequest(trader.baseUrl, 'HEAD', '/api/futures/account');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await businessCalls()).toEqual(['GET /api/v1/account-overview']);
  });

  it('HEAD on a futures GET route is guarded like the GET (401 with WWW-Authenticate)', async () => {
    const keyed = await startGateway({ FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY, RATE_LIMIT_MAX: '0' });
    try {
      const res = await checkedRawRequest(keyed.baseUrl, 'HEAD', '/api/futures/positions');
      expect(res.status).toBe(401);
      expect(res.text).toBe('');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="futures-gateway"');
    } finally {
      await keyed.stop();
    }
  });

  it('HEAD on a path without GET: 405 with Allow; on an unknown path: 404', async () => {
    const put = await checkedRawRequest(trader.baseUrl, 'HEAD', '/api/futures/leverage');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('PUT');
    expect(put.text).toBe('');
    const unknown = await checkedRawRequest(trader.baseUrl, 'HEAD', '/api/nope');
    expect(unknown.status).toBe(404);
  });

  it('switch off: HEAD on a futures path answers exactly like HEAD on an unknown path', async () => {
    const futures = await checkedRawRequest(switchedOff.baseUrl, 'HEAD', '/api/futures/positions');
    const unknown = await checkedRawRequest(switchedOff.baseUrl, 'HEAD', '/api/futures-nope');
    expect(futures.status).toBe(404);
    expect(futures.text).toBe('');
    expect(strip(futures)).toEqual(strip(unknown));
  });
});

/** Status, headers and body with what differs per request or path taken out. */
function strip(res: { status: number; headers: Headers; body: unknown }) {
  const headers = Object.fromEntries([...res.headers].filter(([name]) => !['x-request-id', 'date', 'content-length', 'ratelimit', 'ratelimit-policy'].includes(name)));
  const body = typeof res.body === 'object' && res.body !== null ? { ...res.body, requestId: undefined, timestamp: undefined, instance: undefined, detail: undefined } : res.body;
  return { status: res.status, headers, body };
}

/** The upgrade's HTTP refusal, checked against the contract, and how many messages arrived. */
function upgrade(g: RunningGateway, options: { host?: string; origin?: string }): Promise<{ status: number; code: string; messages: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${g.wsUrl}/ws/futures`, { ...(options.origin ? { origin: options.origin } : {}), ...(options.host ? { headers: { host: options.host } } : {}) });
    let messages = 0;
    ws.on('message', () => (messages += 1));
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade was accepted'));
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        try {
          const status = res.statusCode ?? 0;
          assertResponseMatchesContract({ method: 'GET', path: '/ws/futures', status, headers: res.headers as Record<string, string>, body });
          resolve({ status, code: JSON.parse(body).code, messages });
        } catch (error) {
          reject(error);
        }
        ws.terminate();
      });
    });
    ws.on('error', () => undefined);
  });
}

/** One request written as given on a fresh connection, for what node's client always adds (Host). */
function rawExchange(g: RunningGateway, text: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port(g)), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.write(text);
  });
}
