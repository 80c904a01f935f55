/**
 * The request scope (src/request-scope.ts) from the outside: every KuCoin call a futures request
 * makes is charged to that request's caller in the rate budget, and bounded by that request's
 * deadline (UPSTREAM_DEADLINE_MS from arrival), on a read, an order (placement and reconciliation)
 * and a leverage change. The scope is passed by hand from the handler to each call: a call site
 * that dropped it (or passed null) would charge the gateway's own share (GATEWAY_CALLER) and wait
 * out whole tries, retries and reconciliation rounds past the deadline; these tests would fail.
 *
 * Built like the gateway (createApp over openapi-backend, the futures services around one
 * KucoinClient, msw standing in for KuCoin), with a budget that records who each call is charged to.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { HttpResponse, http } from 'msw';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApiDocument } from '../../src/contract/documents.js';
import { KeyRing } from '../../src/edge/security.js';
import { createFuturesServices } from '../../src/futures/services.js';
import { createApp } from '../../src/http/app.js';
import type { HandlerDeps } from '../../src/http/handlers/context.js';
import { createOpenApiBackend } from '../../src/http/openapi-backend.js';
import { KucoinClient } from '../../src/kucoin/client.js';
import type { Pool } from '../../src/kucoin/endpoints.js';
import { GATEWAY_CALLER, RateBudget, type Claim, type UpstreamBudget } from '../../src/kucoin/rate-budget.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { FuturesSwitch } from '../../src/switch/futures-switch.js';
import { TEST_CREDENTIALS, testConfig } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';

const KEY_A = 'scope-key-a-0123456789abcdef';
const KEY_B = 'scope-key-b-0123456789abcdef';
/** One try may take 1 s; the request has 900 ms in all. Without the deadline each step would take its own full tries. */
const TIMEOUT_MS = 1_000;
const DEADLINE_MS = 900;
/** The answer by the deadline, with slack for a loaded machine: a correctness bound, not a speed target. */
const BOUND_MS = DEADLINE_MS + 350;

interface Charged {
  pool: Pool;
  context: string;
  caller: string;
}

const kucoin = mockKucoin();
const charged: Charged[] = [];
let server: Server;
let baseUrl: string;
let keys: KeyRing;

beforeAll(async () => {
  kucoin.listen();
  const config = testConfig({
    FEATURE_FUTURES: 'true',
    FUTURES_BASE_URL: KUCOIN,
    GATEWAY_API_KEYS: `${KEY_A},${KEY_B}`,
    RATE_LIMIT_MAX: '0',
    UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    UPSTREAM_DEADLINE_MS: String(DEADLINE_MS),
    ...TEST_CREDENTIALS,
  });
  const metrics = createMetrics();
  const logger = pino({ level: 'silent' });
  const own = new RateBudget({ limits: { futures: 2000, public: 2000 } });
  // The gateway's own budget, recording each claim it is asked for.
  const budget: UpstreamBudget = {
    reserve: (pool: Pool, weight: number, context: string, claim?: Claim) => {
      charged.push({ pool, context, caller: claim?.caller ?? GATEWAY_CALLER });
      return own.reserve(pool, weight, context, claim);
    },
    remaining: (pool: Pool) => own.remaining(pool),
  };
  const client = new KucoinClient({
    baseUrl: KUCOIN,
    credentials: config.kucoin.credentials,
    keyVersion: config.kucoin.keyVersion,
    timeoutMs: config.upstreamTimeoutMs,
    retryDelayMs: { initial: 10, max: 20 },
    logger,
    metrics,
    budget,
  });
  keys = new KeyRing(config.apiKeys, config.adminApiKeys);
  const openapi = loadOpenApiDocument();
  const deps: HandlerDeps = {
    config,
    logger,
    metrics,
    futuresSwitch: new FuturesSwitch(true),
    keys,
    version: 'test',
    startedAt: Date.now(),
    documents: { openapi, asyncapi: {}, docsHtml: '' },
    futures: { ...createFuturesServices(client, logger, config.stateDir), riskLimitPollMs: 100 },
    closedSockets: () => 0,
  };
  server = createServer(createApp(await createOpenApiBackend(openapi), deps));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterEach(() => {
  kucoin.reset();
  charged.length = 0;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  kucoin.close();
});

/** What the gateway calls a request with this key (src/http/rate-limit.ts callerKey). */
const callerOf = (key: string): string => `key:${keys.caller({ headers: { authorization: `Bearer ${key}` } } as IncomingMessage).fingerprint}`;

async function timed(key: string, method: string, path: string, body?: unknown) {
  const started = Date.now();
  const res = await request(baseUrl, method, path, { headers: { authorization: `Bearer ${key}` }, ...(body === undefined ? {} : { json: body }) });
  return { res, ms: Date.now() - started };
}

const hang = () => new Promise<never>(() => {});
const contexts = () => charged.map((c) => c.context);

/** Every KuCoin call of the request was charged to its caller, none to the gateway. */
function expectChargedTo(key: string): void {
  expect(charged.length).toBeGreaterThan(0);
  expect(charged.filter((c) => c.caller !== callerOf(key)), 'calls charged to another caller').toEqual([]);
}

describe('a read', () => {
  it("is charged to the caller's key, the shared contract list and clock sync it fills too, another key to its own", async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/position`, () => HttpResponse.json(fixture('position'))));
    // Cold: the first request fills the contract catalogue and syncs the clock, and pays for both.
    const first = await timed(KEY_A, 'GET', '/api/futures/positions/XBTUSDTM');
    expect(first.res.status).toBe(200);
    expect(contexts()).toEqual(expect.arrayContaining(['listing contracts', 'reading the server time', 'reading the XBTUSDTM position']));
    expectChargedTo(KEY_A);
    expect(callerOf(KEY_A)).not.toBe(callerOf(KEY_B));

    charged.length = 0;
    expect((await timed(KEY_B, 'GET', '/api/futures/positions/XBTUSDTM')).res.status).toBe(200);
    expect(contexts()).toEqual(['reading the XBTUSDTM position']);
    expectChargedTo(KEY_B);
  });

  it('answers 504 by its deadline when KuCoin hangs, with one try cut to the time left', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/account-overview`, hang));
    const { res, ms } = await timed(KEY_A, 'GET', '/api/futures/account');
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('UPSTREAM_TIMEOUT');
    expect(ms).toBeLessThan(BOUND_MS);
    expect(kucoin.calls.filter((c) => c.path === '/api/v1/account-overview')).toHaveLength(1);
    expectChargedTo(KEY_A);
  });
});

describe('an order', () => {
  const ORDER = { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } as const;

  it("is placed and charged to the caller's key: the margin-mode read and the POST", async () => {
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v2/position/getMarginMode`, () => json({ symbol: 'XBTUSDTM', marginMode: 'ISOLATED' })),
      http.post(`${KUCOIN}/api/v1/orders`, async ({ request: req }) => json({ orderId: 'o-scope-1', clientOid: ((await req.json()) as { clientOid: string }).clientOid })),
    );
    const { res } = await timed(KEY_B, 'POST', '/api/futures/orders', ORDER);
    expect(res.status).toBe(201);
    expect(contexts()).toEqual(expect.arrayContaining(['reading the XBTUSDTM margin mode', expect.stringMatching(/^placing order /)]));
    expectChargedTo(KEY_B);
  });

  it('whose POST and lookups hang answers 502 ORDER_UNCONFIRMED by its deadline, the reconciliation charged to the caller too', async () => {
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v2/position/getMarginMode`, () => json({ symbol: 'XBTUSDTM', marginMode: 'ISOLATED' })),
      http.post(`${KUCOIN}/api/v1/orders`, hang),
      http.get(`${KUCOIN}/api/v1/orders/byClientOid`, hang),
      http.get(`${KUCOIN}/api/v1/orders`, hang),
    );
    const { res, ms } = await timed(KEY_A, 'POST', '/api/futures/orders', { ...ORDER, clientOid: 'scope-hang-1' });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('ORDER_UNCONFIRMED');
    expect(ms).toBeLessThan(BOUND_MS);
    expect(kucoin.calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/orders')).toHaveLength(1);
    // The POST left room for the lookup by clientOid and the done orders, made inside the deadline.
    expect(contexts()).toEqual(expect.arrayContaining(['placing order scope-hang-1', 'looking up order scope-hang-1', 'searching the done orders for scope-hang-1']));
    expectChargedTo(KEY_A);
  });
});

describe('a leverage change', () => {
  it("is charged to the caller's key and answers by its deadline when KuCoin's answer to the change is lost", async () => {
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v2/position/getMarginMode`, () => json({ symbol: 'XBTUSDTM', marginMode: 'CROSS' })),
      http.post(`${KUCOIN}/api/v2/changeCrossUserLeverage`, hang),
      http.get(`${KUCOIN}/api/v2/getCrossUserLeverage`, hang),
    );
    const { res, ms } = await timed(KEY_B, 'PUT', '/api/futures/leverage', { symbol: 'XBTUSDTM', leverage: 5, marginMode: 'cross' });
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('UPSTREAM_TIMEOUT');
    expect(ms).toBeLessThan(BOUND_MS);
    expect(contexts()).toEqual(expect.arrayContaining(['setting XBTUSDTM cross leverage to 5x', 'reading back XBTUSDTM cross leverage']));
    expectChargedTo(KEY_B);
  });

  it('waits for a risk-limit level change no longer than its deadline: 202 pending', async () => {
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v2/position/getMarginMode`, () => json({ symbol: 'XBTUSDTM', marginMode: 'ISOLATED' })),
      http.get(`${KUCOIN}/api/v1/contracts/risk-limit/XBTUSDTM`, () => HttpResponse.json(fixture('risk-limit-xbtusdtm'))),
      // At level 2 (100x at most) and staying there: KuCoin takes the change and never reports it done.
      http.get(`${KUCOIN}/api/v1/position`, () => HttpResponse.json(fixture('position'))),
      http.get(`${KUCOIN}/api/v1/orders`, () => json({ currentPage: 1, pageSize: 100, totalNum: 0, totalPage: 0, items: [] })),
      http.post(`${KUCOIN}/api/v1/position/risk-limit-level/change`, () => json(true)),
    );
    const { res, ms } = await timed(KEY_A, 'PUT', '/api/futures/leverage', { symbol: 'XBTUSDTM', leverage: 110, marginMode: 'isolated' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.data).toMatchObject({ riskLimitLevel: 1, riskLimitStatus: 'pending' });
    expect(ms).toBeLessThan(BOUND_MS);
    expect(contexts()).toEqual(expect.arrayContaining(['moving XBTUSDTM to risk-limit level 1', 'reading the XBTUSDTM risk-limit level']));
    expectChargedTo(KEY_A);
  });
});
