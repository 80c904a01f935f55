import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HttpResponse, delay, http } from 'msw';
import { setupServer } from 'msw/node';
import { pino } from 'pino';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorCatalogue } from '../../src/errors.js';
import { KucoinClient, type KucoinClientOptions } from '../../src/kucoin/client.js';
import { breakerGroups, UpstreamRefused } from '../../src/kucoin/upstream-policy.js';
import { endpoints } from '../../src/kucoin/endpoints.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { kucoinCodeTable } from '../../src/kucoin/error-map.js';
import { GATEWAY_CALLER, RateBudget, type Reservation, type UpstreamBudget } from '../../src/kucoin/rate-budget.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { openapiPath } from '../../src/paths.js';
import { allowLoopback } from '../support/http-client.js';

const BASE = 'https://kucoin.test';
const credentials = { key: 'kc-key-1', secret: 'kc-secret-1', passphrase: 'kc-pass-1' };
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: allowLoopback }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const ok = (data: unknown, init?: ResponseInit) => HttpResponse.json({ code: '200000', data }, init);
const fail = (code: string, msg: string, status = 200, headers: Record<string, string> = {}) => HttpResponse.json({ code, msg }, { status, headers });
const SERVER_TIME_AHEAD_MS = 60_000;
const timestampHandler = () => http.get(`${BASE}/api/v1/timestamp`, () => ok(Date.now() + SERVER_TIME_AHEAD_MS));

function makeClient(overrides: Partial<KucoinClientOptions> = {}) {
  const metrics = createMetrics();
  const client = new KucoinClient({
    baseUrl: BASE,
    credentials,
    keyVersion: '3',
    timeoutMs: 200,
    logger: pino({ level: 'silent' }),
    metrics,
    budget: new RateBudget({ limits: { futures: 2000, public: 2000 } }),
    retryDelayMs: { initial: 1, max: 5 },
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 100 },
    ...overrides,
  });
  return { client, metrics };
}

async function breakerGauge(metrics: Metrics, group: string): Promise<number | undefined> {
  return (await metrics.upstreamBreakerOpen.get()).values.find((v) => v.labels.group === group)?.value;
}

/** Checks KuCoin's signature rule with its own HMAC code, not the gateway's signer. */
function verifySignature(request: Request, body: string): void {
  const url = new URL(request.url);
  const ts = request.headers.get('KC-API-TIMESTAMP')!;
  const rawPathWithQuery = decodeURIComponent(url.pathname + url.search);
  const expected = createHmac('sha256', credentials.secret).update(`${ts}${request.method}${rawPathWithQuery}${body}`).digest('base64');
  expect(request.headers.get('KC-API-SIGN')).toBe(expected);
  expect(request.headers.get('KC-API-KEY')).toBe(credentials.key);
  expect(request.headers.get('KC-API-PASSPHRASE')).toBe(createHmac('sha256', credentials.secret).update(credentials.passphrase).digest('base64'));
  expect(request.headers.get('KC-API-KEY-VERSION')).toBe('3');
}

describe('signed requests', () => {
  it('signs the unencoded query in the order sent, with a timestamp on KuCoin time', async () => {
    let seen: Request | undefined;
    server.use(
      timestampHandler(),
      http.get(`${BASE}/api/v1/orders`, ({ request }) => {
        seen = request.clone();
        return ok({ items: [] });
      }),
    );
    const { client } = makeClient();
    await client.call('listOrders', { query: { status: 'active', symbol: 'XBTUSDTM', note: 'a b!@#' }, scope: null, context: 'listing orders' });
    expect(seen).toBeDefined();
    const url = new URL(seen!.url);
    expect(url.search).toBe('?status=active&symbol=XBTUSDTM&note=a%20b!%40%23');
    verifySignature(seen!, '');
    const ts = Number(seen!.headers.get('KC-API-TIMESTAMP'));
    expect(Math.abs(ts - (Date.now() + SERVER_TIME_AHEAD_MS))).toBeLessThan(2_000);
  });

  it('signs a path parameter as it reads before URL-encoding, and sends it encoded', async () => {
    let seen: Request | undefined;
    server.use(
      timestampHandler(),
      http.get(`${BASE}/api/v1/orders/:orderId`, ({ request }) => {
        seen = request.clone();
        return ok(null);
      }),
    );
    const { client } = makeClient();
    await client.call('getOrder', { params: { orderId: 'a b!' }, scope: null, context: 'reading an order' });
    expect(new URL(seen!.url).pathname).toBe('/api/v1/orders/a%20b!');
    verifySignature(seen!, '');
  });

  it('signs and sends the same compact JSON body with a JSON content type', async () => {
    let body = '';
    let seen: Request | undefined;
    server.use(
      timestampHandler(),
      http.post(`${BASE}/api/v1/orders`, async ({ request }) => {
        seen = request.clone();
        body = await request.text();
        return ok({ orderId: '1', clientOid: 'c1' });
      }),
    );
    const { client } = makeClient();
    const data = await client.call('placeOrder', { body: { clientOid: 'c1', side: 'buy', symbol: 'XBTUSDTM', size: 1 }, scope: null, context: 'placing an order' });
    expect(data).toEqual({ orderId: '1', clientOid: 'c1' });
    expect(body).toBe('{"clientOid":"c1","side":"buy","symbol":"XBTUSDTM","size":1}');
    expect(seen!.headers.get('content-type')).toBe('application/json');
    verifySignature(seen!, body);
  });

  it('resyncs the clock and retries once on 400002', async () => {
    let orderCalls = 0;
    let timeCalls = 0;
    server.use(
      http.get(`${BASE}/api/v1/timestamp`, () => {
        timeCalls += 1;
        return ok(Date.now());
      }),
      http.post(`${BASE}/api/v1/orders`, () => {
        orderCalls += 1;
        return orderCalls === 1 ? fail('400002', 'Invalid KC-API-TIMESTAMP', 400) : ok({ orderId: '9', clientOid: 'c9' });
      }),
    );
    const { client } = makeClient();
    await expect(client.call('placeOrder', { body: {}, scope: null, context: 'placing an order' })).resolves.toEqual({ orderId: '9', clientOid: 'c9' });
    expect(orderCalls).toBe(2);
    expect(timeCalls).toBe(2);
  });

  it('refuses a signed call without credentials, before sending anything', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/positions`, () => ((calls += 1), ok([]))));
    const { client } = makeClient({ credentials: null });
    await expect(client.call('positions', { scope: null, context: 'listing positions' })).rejects.toMatchObject({ code: 'CREDENTIALS_MISSING', status: 401 });
    expect(calls).toBe(0);
  });

  it('sends public calls unsigned', async () => {
    let seen: Request | undefined;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, ({ request }) => ((seen = request), ok([]))));
    const { client } = makeClient({ credentials: null });
    await client.call('contractsActive', { scope: null, context: 'listing contracts' });
    expect(seen!.headers.get('KC-API-SIGN')).toBeNull();
  });
});

describe('the KuCoin code table', () => {
  it('is the one in the contract (x-error-catalogue kucoin lists)', () => {
    const spec = parse(readFileSync(openapiPath, 'utf8'));
    const fromSpec: Record<string, string> = {};
    for (const row of spec.components.schemas.ErrorCode['x-error-catalogue'] as { code: string; kucoin: string[] }[]) {
      for (const kucoin of row.kucoin) fromSpec[kucoin] = row.code;
    }
    expect(kucoinCodeTable).toEqual(fromSpec);
  });

  // Every row, sent the way KuCoin sends business errors: HTTP 200 with a non-200000 code.
  it.each(Object.entries(kucoinCodeTable).filter(([code]) => code !== '400002'))('KuCoin %s → %s', async (kucoinCode, ourCode) => {
    server.use(timestampHandler(), http.get(`${BASE}/api/v1/position`, () => fail(kucoinCode, `message for ${kucoinCode}`)));
    const { client } = makeClient();
    const error = await client.call('position', { query: { symbol: 'XBTUSDTM' }, scope: null, context: 'reading a position' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ourCode, status: errorCatalogue[ourCode].status });
    expect((error as { options: { upstream: unknown } }).options.upstream).toEqual({ code: kucoinCode, message: `message for ${kucoinCode}` });
  });

  it('a second 400002 after the resync becomes 502 UPSTREAM_ERROR', async () => {
    server.use(timestampHandler(), http.get(`${BASE}/api/v1/position`, () => fail('400002', 'Invalid KC-API-TIMESTAMP', 400)));
    const { client } = makeClient({ readAttempts: 1 });
    await expect(client.call('position', { query: { symbol: 'XBTUSDTM' }, scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', status: 502 });
  });

  it('an unknown business code is a 422 UPSTREAM_REJECTED carrying KuCoin’s code', async () => {
    server.use(timestampHandler(), http.get(`${BASE}/api/v1/position`, () => fail('999999', 'something new')));
    const { client } = makeClient();
    await expect(client.call('position', { query: { symbol: 'XBTUSDTM' }, scope: null, context: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM_REJECTED',
      status: 422,
      options: { upstream: { code: '999999', message: 'something new' } },
    });
  });
});

describe('transport faults', () => {
  it.each([
    ['HTML 502 page', () => new HttpResponse('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }), 'UPSTREAM_ERROR', 502],
    ['500000 in an HTTP 500', () => fail('500000', 'Internal Server Error', 500), 'UPSTREAM_ERROR', 502],
    ['503 maintenance', () => new HttpResponse('maintenance', { status: 503 }), 'UPSTREAM_UNAVAILABLE', 503],
    ['unparseable 200', () => new HttpResponse('{"code":"2000', { status: 200, headers: { 'content-type': 'application/json' } }), 'UPSTREAM_BAD_RESPONSE', 502],
    ['network error', () => HttpResponse.error(), 'UPSTREAM_UNAVAILABLE', 503],
  ] as [string, () => Response, string, number][])('%s → %s', async (_name, respond, code, status) => {
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => respond() as HttpResponse<never>));
    const { client } = makeClient({ readAttempts: 1 });
    await expect(client.call('contractsActive', { scope: null, context: 'listing contracts' })).rejects.toMatchObject({ code, status });
  });

  it('counts an HTTP 5xx as an http_error call even when its body carries a KuCoin code (not a business refusal)', async () => {
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => fail('500000', 'Internal Server Error', 503)));
    const { client, metrics } = makeClient({ readAttempts: 1 });
    await expect(client.call('contractsActive', { scope: null, context: 'listing contracts' })).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', status: 502 });
    const calls = await metrics.registry.getSingleMetricAsString('gateway_upstream_calls_total');
    expect(calls).toContain('outcome="http_error"} 1');
    expect(calls).not.toContain('outcome="business"');
    expect(await metrics.registry.getSingleMetricAsString('gateway_provider_errors_total')).toContain('code="500000"} 1');
  });

  it('still counts a KuCoin refusal in an HTTP 200 as business', async () => {
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => fail('100001', 'bad param')));
    const { client, metrics } = makeClient({ readAttempts: 1 });
    await expect(client.call('contractsActive', { scope: null, context: 'listing contracts' })).rejects.toMatchObject({ status: 400 });
    expect(await metrics.registry.getSingleMetricAsString('gateway_upstream_calls_total')).toContain('outcome="business"} 1');
  });

  it('times out a slow answer with 504 UPSTREAM_TIMEOUT', async () => {
    server.use(http.get(`${BASE}/api/v1/contracts/active`, async () => (await delay(1_000), ok([]))));
    const { client, metrics } = makeClient({ readAttempts: 1, timeoutMs: 100 });
    await expect(client.call('contractsActive', { scope: null, context: 'listing contracts' })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504 });
    expect(await metrics.registry.getSingleMetricAsString('gateway_upstream_calls_total')).toContain('outcome="timeout"} 1');
  });

  it('retries a read through transient failures, with the same outcome as one good answer', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), calls < 3 ? new HttpResponse('oops', { status: 500 }) : ok(['c']))));
    const { client } = makeClient({ readAttempts: 3 });
    await expect(client.call('contractsActive', { scope: null, context: 'listing contracts' })).resolves.toEqual(['c']);
    expect(calls).toBe(3);
  });

  it('never retries a write', async () => {
    let calls = 0;
    server.use(timestampHandler(), http.post(`${BASE}/api/v1/orders`, () => ((calls += 1), new HttpResponse('oops', { status: 500 }))));
    const { client } = makeClient({ readAttempts: 3 });
    await expect(client.call('placeOrder', { body: { clientOid: 'x' }, scope: null, context: 'placing an order' })).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(calls).toBe(1);
  });

  it('does not retry business rejections', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), fail('100003', 'Contract parameter invalid'))));
    const { client } = makeClient({ readAttempts: 3 });
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    expect(calls).toBe(1);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, answers 503 without calling KuCoin, and closes after a good probe', async () => {
    let calls = 0;
    let healthy = false;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), healthy ? ok([]) : new HttpResponse('down', { status: 502 }))));
    const { client, metrics } = makeClient({ readAttempts: 1, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 150 } });
    for (let i = 0; i < 3; i += 1) await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(calls).toBe(3);
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503, options: { retryAfterSeconds: 1 } });
    expect(calls).toBe(3);
    expect(await breakerGauge(metrics, 'market')).toBe(1);
    expect(await breakerGauge(metrics, 'order-writes')).toBe(0);

    healthy = true;
    await new Promise((r) => setTimeout(r, 200));
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).resolves.toEqual([]);
    expect(await breakerGauge(metrics, 'market')).toBe(0);
  });

  it('is one per endpoint group: failing position reads do not block cancels, orders or market data', async () => {
    let positionCalls = 0;
    server.use(
      timestampHandler(),
      http.get(`${BASE}/api/v1/positions`, () => ((positionCalls += 1), new HttpResponse('down', { status: 502 }))),
      http.delete(`${BASE}/api/v1/orders/o1`, () => ok({ cancelledOrderIds: ['o1'] })),
      http.post(`${BASE}/api/v1/orders`, () => ok({ orderId: 'o2', clientOid: 'c2' })),
      http.get(`${BASE}/api/v1/contracts/active`, () => ok([])),
    );
    const { client, metrics } = makeClient({ readAttempts: 1, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 10_000 } });
    for (let i = 0; i < 2; i += 1) await expect(client.call('positions', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    await expect(client.call('positions', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', options: { notSent: true } });
    expect(positionCalls).toBe(2);
    expect(await breakerGauge(metrics, 'account')).toBe(1);

    await expect(client.call('cancelOrder', { params: { orderId: 'o1' }, scope: null, context: 'x' })).resolves.toEqual({ cancelledOrderIds: ['o1'] });
    await expect(client.call('placeOrder', { body: { clientOid: 'c2' }, scope: null, context: 'x' })).resolves.toEqual({ orderId: 'o2', clientOid: 'c2' });
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).resolves.toEqual([]);
    for (const group of ['order-reads', 'order-writes', 'margin', 'market', 'stream']) expect(await breakerGauge(metrics, group)).toBe(0);
  });

  it("answers a read whose own tries opened the breaker with KuCoin's failure, not the breaker's", async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), new HttpResponse('<html>oops</html>', { status: 200 }))));
    const { client } = makeClient({ readAttempts: 3, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 10_000 } });
    // Tries 1 and 2 get the bad body and open the breaker; try 3 is refused by it, unsent.
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    expect(calls).toBe(2);
    // A later read that sends nothing is told about the breaker.
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', options: { notSent: true } });
  });

  it('every endpoint belongs to a group', () => {
    expect(Object.keys(breakerGroups).sort()).toEqual(Object.keys(endpoints).sort());
  });

  it('is not tripped by business rejections', async () => {
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => fail('100003', 'Contract parameter invalid')));
    const { client } = makeClient({ readAttempts: 1, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 10_000 } });
    for (let i = 0; i < 4; i += 1) await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
  });
});

describe('rate budget', () => {
  it('maps 429000 to 429 with Retry-After from gw-ratelimit-reset and stops sending until the reset', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v1/contracts/active`, () => {
        calls += 1;
        return fail('429000', 'Too Many Requests', 429, { 'gw-ratelimit-limit': '2000', 'gw-ratelimit-remaining': '0', 'gw-ratelimit-reset': '2500' });
      }),
    );
    const { client, metrics } = makeClient({ readAttempts: 1 });
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', status: 429, options: { retryAfterSeconds: 3 } });
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
    expect(calls).toBe(1);
    expect(await metrics.registry.getSingleMetricAsString('gateway_rate_limit_hits_total')).toContain('side="upstream"} 2');
  });

  it('follows gw-ratelimit-remaining and refuses before the pool runs dry (5 % headroom)', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v1/contracts/active`, () => {
        calls += 1;
        return ok([], { headers: { 'gw-ratelimit-limit': '100', 'gw-ratelimit-remaining': '7', 'gw-ratelimit-reset': '20000' } });
      }),
    );
    const { client } = makeClient({ readAttempts: 1 });
    await client.call('contractsActive', { scope: null, context: 'x' });
    // KuCoin says 7 left of 100: a weight-3 call would leave 4, under the floor of 5.
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', status: 429, options: { retryAfterSeconds: 20 } });
    expect(calls).toBe(1);
  });

  it('counts weights locally when KuCoin sends no headers', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), ok([]))));
    const { client } = makeClient({ readAttempts: 1, budget: new RateBudget({ limits: { futures: 100, public: 10 }, headroom: 0, writeReserve: 0 }) });
    for (let i = 0; i < 3; i += 1) await client.call('contractsActive', { scope: null, context: 'x' }); // 10 → 7 → 4 → 1
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
    expect(calls).toBe(3);
  });
});

describe('coalescing', () => {
  it('shares one upstream call among identical concurrent reads', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, async () => ((calls += 1), await delay(50), ok(['x']))));
    const { client } = makeClient();
    const results = await Promise.all(Array.from({ length: 10 }, () => client.call('contractsActive', { scope: null, context: 'x' })));
    expect(results).toEqual(Array.from({ length: 10 }, () => ['x']));
    expect(calls).toBe(1);
    await client.call('contractsActive', { scope: null, context: 'x' });
    expect(calls).toBe(2);
  });
});

describe('the request scope (src/request-scope.ts)', () => {
  /** A budget recording the caller of every claim. */
  function recordingBudget() {
    const callers: string[] = [];
    const own = new RateBudget({ limits: { futures: 2000, public: 2000 } });
    const budget: UpstreamBudget = {
      reserve: (pool, weight, context, claim) => (callers.push(claim?.caller ?? 'no claim'), own.reserve(pool, weight, context, claim)),
      remaining: (pool) => own.remaining(pool),
    };
    return { budget, callers };
  }

  it("charges a call to its scope's caller, and a call with no scope to the gateway", async () => {
    server.use(timestampHandler(), http.get(`${BASE}/api/v1/positions`, () => ok([])));
    const { budget, callers } = recordingBudget();
    const { client } = makeClient({ budget });
    await client.call('positions', { scope: { caller: 'key:abc', deadline: Date.now() + 5_000 }, context: 'x' });
    // The clock sync the call needed first is charged to it as well.
    expect(callers).toEqual(['key:abc', 'key:abc']);
    await client.call('positions', { scope: null, context: 'x' });
    expect(callers).toEqual(['key:abc', 'key:abc', GATEWAY_CALLER]);
  });

  it("does not join a read of the gateway's own (no deadline) to a request's: the request's gives up at its deadline", async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, async () => ((calls += 1), await delay(400), ok(['x']))));
    const { client } = makeClient({ timeoutMs: 1_000 });
    const feeds = client.call('contractsActive', { scope: null, context: 'x' });
    const started = Date.now();
    const error = await client.call('contractsActive', { scope: { caller: 'ip:test', deadline: started + 150 }, context: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(350);
    expect(calls).toBe(2);
    await expect(feeds).resolves.toEqual(['x']);
  });
});

describe('the gate (admits)', () => {
  it('refuses every call while closed, before anything is sent, and does not count it as an outage', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v1/timestamp`, () => ((calls += 1), ok(Date.now()))),
      http.post(`${BASE}/api/v1/orders`, () => ((calls += 1), ok({ orderId: '1', clientOid: 'c1' }))),
      http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), ok([]))),
    );
    let open = false;
    const { client, metrics } = makeClient({ admits: () => open, breaker: { consecutiveFailures: 1, halfOpenAfterMs: 10_000 } });
    for (const name of ['placeOrder', 'contractsActive', 'bulletPrivate'] as const) {
      const error = await client.call(name, { body: {}, scope: null, context: 'x' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamRefused);
      expect(error).toMatchObject({ options: { notSent: true } });
    }
    expect(calls).toBe(0);
    expect(await breakerGauge(metrics, 'order-writes')).toBe(0);
    open = true;
    await expect(client.call('placeOrder', { body: {}, scope: null, context: 'x' })).resolves.toEqual({ orderId: '1', clientOid: 'c1' });
  });
});

describe('a budget that answers later (the shared one, in Redis)', () => {
  /** A budget whose reservations the test answers, recording how each one ended. */
  function laterBudget() {
    const ended: string[] = [];
    let answer: (() => void) | undefined;
    const budget: UpstreamBudget = {
      reserve: () =>
        new Promise<Reservation>((resolve) => {
          answer = () => resolve({ settle: () => void ended.push('settle'), exhaust: () => void ended.push('exhaust'), release: () => void ended.push('release') });
        }),
      remaining: () => 100,
    };
    return { budget, ended, pending: () => answer !== undefined, answer: () => answer!() };
  }

  it('asks the gate again after the reserve: a flip while the budget answered sends nothing and gives the weight back', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), ok([]))));
    const later = laterBudget();
    let open = true;
    const { client } = makeClient({ admits: () => open, budget: later.budget, readAttempts: 1 });
    const reading = client.call('contractsActive', { scope: null, context: 'x' }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(later.pending()).toBe(true));
    // The kill switch flips while the shared budget is answering.
    open = false;
    later.answer();
    expect(await reading).toBeInstanceOf(UpstreamRefused);
    expect(calls).toBe(0);
    expect(later.ended).toEqual(['release']);
  });

  it('settles with the headers once KuCoin answered', async () => {
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ok([], { headers: { 'gw-ratelimit-remaining': '7' } })));
    const later = laterBudget();
    const { client } = makeClient({ budget: later.budget });
    const reading = client.call('contractsActive', { scope: null, context: 'x' });
    await vi.waitFor(() => expect(later.pending()).toBe(true));
    later.answer();
    await expect(reading).resolves.toEqual([]);
    expect(later.ended).toEqual(['settle']);
  });
});

describe('the request deadline', () => {
  const hang = () => new Promise<never>(() => {});

  it('cuts every try to the time left and stops retrying when another try cannot fit', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, async () => ((calls += 1), await hang())));
    const { client } = makeClient({ timeoutMs: 300, readAttempts: 3, retryDelayMs: { initial: 10, max: 20 } });
    const started = Date.now();
    const error = await client.call('contractsActive', { scope: { caller: 'ip:test', deadline: started + 500 }, context: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504 });
    // A 300 ms try, then only ~200 ms left: no second full try fits, so no retry.
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(500 + 300);
  });

  it('fails at once, marked not sent, when no time is left', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, () => ((calls += 1), ok([]))));
    const { client } = makeClient();
    const error = await client.call('contractsActive', { scope: { caller: 'ip:test', deadline: Date.now() - 1 }, context: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504, options: { notSent: true } });
    expect(calls).toBe(0);
  });

  it('leaves the time a caller asks for (an order POST keeps room for its lookup)', async () => {
    server.use(timestampHandler(), http.post(`${BASE}/api/v1/orders`, async () => await hang()));
    const { client } = makeClient({ timeoutMs: 1_000 });
    const started = Date.now();
    const error = await client.call('placeOrder', { body: {}, scope: { caller: 'ip:test', deadline: started + 800 }, context: 'x', leaveMs: 500 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    // Cut at ~300 ms (800 - 500), not at the 800 ms deadline or the 1 s timeout.
    expect(Date.now() - started).toBeLessThan(650);
  });

  it('outside any request, keeps the per-try timeout and its retries', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/api/v1/contracts/active`, async () => ((calls += 1), await hang())));
    const { client } = makeClient({ timeoutMs: 100, readAttempts: 3 });
    await expect(client.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(calls).toBe(3);
  });
});
