/**
 * Property-based bad-input tests generated from openapi.yaml against real gateways: one with the
 * futures switch on (KuCoin credentials, KuCoin = msw with only the default server-time and
 * contract-list handlers, so any business call is recorded and fails the property) and one with it off.
 * Seeds are fixed: a failure prints its seed and path and replays the same way.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpResponse } from '../support/http-client.js';
import { matchOperation } from '../support/http-contract.js';
import { startGateway, TEST_ADMIN_KEY, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, mockKucoin, silenceUnhandledKucoinCalls } from '../support/kucoin-mock.js';
import { checkedRawRequest } from './raw-http.js';
import { mutatedRequestArb, operations, RAW_BAD_ESCAPES, validRequestArb, type GenRequest } from './openapi-arbitraries.js';

const kucoin = mockKucoin();
/** Takes the ad-hoc valid requests: their KuCoin calls fail (no business handlers) and trip its circuit breaker. */
let busy: RunningGateway;
/** Log lines of the per-operation gateways, for the secrets check. */
const retiredLogs: string[][] = [];
/** Takes only invalid requests, so its breaker stays closed and its answers do not depend on test order. */
let on: RunningGateway;
let off: RunningGateway;

const ENV = {
  FUTURES_BASE_URL: KUCOIN,
  UPSTREAM_TIMEOUT_MS: '300',
  // The properties send hundreds of requests from one client: the inbound limiter is not under test here.
  RATE_LIMIT_MAX: '0',
  LOG_LEVEL: 'warn',
  // Admin requests carry this key (see send), so the admin body is validated rather than refused 403.
  ADMIN_API_KEYS: TEST_ADMIN_KEY,
  ...TEST_CREDENTIALS,
  // A valid list read would start the KuCoin stream (READS_FROM_STREAM), whose token requests and
  // reconnects then land at any moment among the calls this suite says were never made.
  READS_FROM_STREAM: 'false',
};

beforeAll(async () => {
  silenceUnhandledKucoinCalls();
  kucoin.listen();
  busy = await startGateway({ ...ENV, FEATURE_FUTURES: 'true' });
  on = await startGateway({ ...ENV, FEATURE_FUTURES: 'true' });
  off = await startGateway({ ...ENV, FEATURE_FUTURES: 'false' });
});
afterAll(async () => {
  await busy?.stop();
  await on?.stop();
  await off?.stop();
  kucoin.close();
});

const SEED = 20261127;
const ops = operations();
const futuresOps = ops.filter((op) => op.pathTemplate.startsWith('/api/futures'));

async function send(gw: RunningGateway, req: GenRequest): Promise<HttpResponse> {
  try {
    const headers = req.path.startsWith('/api/admin/') ? { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...req.headers } : req.headers;
    return await checkedRawRequest(gw.baseUrl, req.method, req.path, headers, req.body);
  } catch (error) {
    throw new Error(`${req.note}: ${req.method} ${req.path.slice(0, 200)} -> ${(error as Error).message}`);
  }
}

/** msw records a call asynchronously (it reads the body first): let it land before looking. */
async function businessCallsOf(): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return kucoin.businessCalls().map((c) => `${c.method} ${c.path}`);
}

const describeReq = (req: GenRequest) => `${req.note} | ${req.method} ${req.path.slice(0, 160)} ${req.body !== undefined ? `body=${req.body.slice(0, 120)}` : ''}`;

describe('valid requests generated from the contract (switch on)', () => {
  // A fresh gateway per operation: every KuCoin call fails here (no business handlers), and after
  // five failures the gateway's circuit breaker answers 503 without trying. Fresh, the first
  // requests of each operation go the whole way (symbol lookup, mapping, signing, the failed call);
  // the later ones exercise the open breaker.
  for (const op of ops) {
    it(`${op.operationId}: answers a documented status, never 500`, async () => {
      const gw = await startGateway({ ...ENV, FEATURE_FUTURES: 'true' });
      try {
        await fc.assert(
          fc.asyncProperty(validRequestArb(op), async (req) => {
            const res = await send(gw, req);
            if (process.env.RELIABILITY_DEBUG) console.log(op.operationId, res.status, res.body?.code ?? '');
            expect(res.status, describeReq(req)).not.toBe(500);
            // Valid by the contract: the gateway may not refuse its parameters as invalid. (Bodies may
            // still break business rules the schema cannot say, e.g. a quote qty below one contract.)
            if (!op.body) expect(res.body?.code, `${describeReq(req)} -> ${res.text.slice(0, 300)}`).not.toBe('VALIDATION_FAILED');
            expect(res.headers.get('x-request-id')).toBeTruthy();
          }),
          { seed: SEED, numRuns: 25, endOnFailure: true },
        );
      } finally {
        retiredLogs.push(gw.logLines());
        await gw.stop();
      }
    });
  }
});

describe('mutated requests (switch on): 4xx problem, never 500, nothing sent to KuCoin', () => {
  for (const op of ops) {
    const arb = mutatedRequestArb(op);
    if (!arb) continue;
    it(`${op.operationId}`, async () => {
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          kucoin.calls.length = 0;
          const res = await send(on, req);
          expect(res.status, describeReq(req)).toBeGreaterThanOrEqual(400);
          expect(res.status, describeReq(req)).toBeLessThan(500);
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(res.body).toMatchObject({ success: false, status: res.status });
          expect(await businessCallsOf(), describeReq(req)).toEqual([]);
        }),
        { seed: SEED, numRuns: 100, endOnFailure: true },
      );
    });
  }
});

describe('compressed and garbled bodies (switch on): 4xx problem, never 500, nothing sent to KuCoin', () => {
  // Found by an outside attacker test: a gzip/deflate/br body that did not decode was a 500.
  const compress: Record<string, (b: Uint8Array) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 512 });
  const payload = fc.oneof(
    bytes.map((b) => ({ how: 'random bytes', data: Buffer.from(b) })),
    fc.tuple(fc.constantFrom(...Object.keys(compress)), bytes).map(([c, b]) => ({ how: `${c} of random bytes`, data: compress[c]!(b) })),
    fc.tuple(fc.constantFrom(...Object.keys(compress)), bytes, fc.double({ min: 0, max: 0.99, noNaN: true })).map(([c, b, cut]) => {
      const whole = compress[c]!(b);
      return { how: `${c} cut at ${cut.toFixed(2)}`, data: whole.subarray(0, Math.max(1, Math.floor(whole.length * cut))) };
    }),
  );
  const coding = fc.constantFrom('gzip', 'deflate', 'br', 'GZIP', 'identity', 'x-gzip', 'compress', 'zstd', 'gzip, br', 'identity, gzip', '');
  const charset = fc.constantFrom('', '; charset=utf-8', '; charset=utf-16', '; charset=utf-7', '; charset=latin1');
  for (const op of ops.filter((o) => o.body)) {
    it(`${op.operationId}`, async () => {
      await fc.assert(
        fc.asyncProperty(payload, coding, charset, async (body, enc, cs) => {
          kucoin.calls.length = 0;
          const note = `${op.operationId} Content-Encoding ${JSON.stringify(enc)}${cs}, ${body.how} (${body.data.length} bytes)`;
          const headers: Record<string, string> = { 'content-type': `application/json${cs}`, 'content-encoding': enc };
          if (op.pathTemplate.startsWith('/api/admin/')) headers.authorization = `Bearer ${TEST_ADMIN_KEY}`;
          const path = op.pathTemplate.replace(/\{[^}]+\}/g, 'XBTUSDTM');
          const res = await checkedRawRequest(on.baseUrl, op.method, path, headers, body.data);
          expect(res.status, `${note} -> ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
          expect(res.status, `${note} -> ${res.text.slice(0, 200)}`).toBeLessThan(500);
          expect(res.body).toMatchObject({ success: false, status: res.status });
          expect(await businessCallsOf(), note).toEqual([]);
        }),
        { seed: SEED, numRuns: 60, endOnFailure: true },
      );
    });
  }
});

describe('malformed percent-escapes in path parameters', () => {
  const pathOps = futuresOps.filter((op) => op.params.some((p) => p.in === 'path'));
  // Found by this file: an undecodable path parameter (`%zz`, `%FF`, a lone surrogate, a truncated
  // escape) used to answer 500 INTERNAL_ERROR; it is bad input and answers 400.
  it('answer 400, not 500', async () => {
    for (const op of pathOps) {
      for (const raw of ['%zz', '%FF', '%ED%A0%80', '%E0%A4%A']) {
        const path = op.pathTemplate.replace(/\{[^}]+\}/, raw);
        const res = await send(on, { method: op.method, path, headers: {}, note: `raw escape on ${op.operationId}` });
        expect(res.status, `${op.method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${op.method} ${path} -> ${res.text}`).toBeLessThan(500);
      }
    }
  });
  it('the same paths with the switch off answer NOT_FOUND', async () => {
    for (const op of pathOps) {
      for (const raw of RAW_BAD_ESCAPES) {
        const res = await send(off, { method: op.method, path: op.pathTemplate.replace(/\{[^}]+\}/, raw), headers: {}, note: 'raw escape, switch off' });
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('NOT_FOUND');
      }
    }
  });
});

describe('numbers beyond double range and bodies on GET', () => {
  it('an order with a price literal beyond double range (1e309 parses to Infinity) is refused, nothing sent upstream', async () => {
    for (const price of ['1e309', '-1e309', '1e400']) {
      kucoin.calls.length = 0;
      const body = `{"symbol":"XBTUSDTM","side":"BUY","type":"LIMIT","qty":1,"price":${price}}`;
      const res = await send(on, { method: 'POST', path: '/api/futures/orders', headers: { 'content-type': 'application/json' }, body, note: 'infinite price' });
      expect(res.status, `${price} -> ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${price} -> ${res.text}`).toBeLessThan(500);
      expect(await businessCallsOf()).toEqual([]);
    }
  });
  it('a JSON body on a GET or DELETE that takes none is ignored: a documented answer, never 500', async () => {
    for (const [method, path] of [['GET', '/api/futures/positions'], ['GET', '/api/futures/contracts'], ['GET', '/api/health'], ['DELETE', '/api/futures/orders/123']] as const) {
      for (const [contentType, body] of [['application/json', '{"symbol":"XBTUSDTM"}'], ['application/json', '{"broken'], ['text/plain', 'x'.repeat(100_000)]] as const) {
        const res = await send(busy, { method, path, headers: { 'content-type': contentType }, body, note: 'body on GET' });
        expect(res.status, `${method} ${path} ${contentType}`).not.toBe(500);
      }
    }
  });
});

describe('chunked bodies and request ids', () => {
  it('chunked bodies (no Content-Length) get the same 4xx as sized ones, nothing sent upstream', async () => {
    const bodyOps = ops.filter((op) => op.body);
    const cases: [string, string, number][] = [
      ['{"symbol":', 'application/json', 400],
      ['{"unknownField":1}', 'application/json', 400],
      [`{"pad":"${'p'.repeat(20_000)}"}`, 'application/json', 413],
      ['{"symbol":"XBTUSDTM"}', 'text/plain', 415],
    ];
    for (const op of bodyOps) {
      for (const [body, contentType, status] of cases) {
        kucoin.calls.length = 0;
        const res = await send(on, { method: op.method, path: op.pathTemplate, headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' }, body, note: 'chunked' });
        expect(res.status, `${op.operationId} ${contentType} ${body.slice(0, 20)}`).toBe(status);
        expect(await businessCallsOf()).toEqual([]);
      }
    }
  });

  it('X-Request-Id: a sane one is echoed, anything else is replaced by a generated one', async () => {
    const sane = /^[A-Za-z0-9._:-]{1,128}$/;
    const headerValue = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,140}$/),
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 200 }),
      fc.constantFrom('x'.repeat(128), 'x'.repeat(129), '../etc', 'id with space', '"quoted"', '<b>'),
    ).filter((v) => v.trim() === v && v.length > 0);
    await fc.assert(
      fc.asyncProperty(headerValue, fc.constantFrom('/api/health', '/api/futures/positions/%20', '/api/futures/nope', '/api/futures/orders?page=0'), async (id, path) => {
        const res = await send(on, { method: 'GET', path, headers: { 'x-request-id': id }, note: `x-request-id ${JSON.stringify(id)}` });
        const echoed = res.headers.get('x-request-id');
        expect(echoed).toBeTruthy();
        if (sane.test(id)) expect(echoed).toBe(id);
        else expect(echoed).not.toBe(id);
        expect(echoed!).toMatch(sane);
        if (typeof res.body === 'object' && res.body?.requestId !== undefined) expect(res.body.requestId).toBe(echoed);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('an unknown query parameter', () => {
  // Found by this file: an unknown query parameter is answered 400 VALIDATION_FAILED on every
  // operation, and six operations that take no input did not document that 400; now they do.
  it('answers a documented 400 VALIDATION_FAILED naming it, on every GET operation', async () => {
    const gets = ops.filter((op) => op.method === 'GET');
    expect(gets.length).toBeGreaterThan(5);
    for (const op of gets) {
      const path = op.pathTemplate.replace(/\{[^}]+\}/g, (name) => (name === '{orderId}' ? '234125150956625920' : 'XBTUSDTM'));
      const res = await send(on, { method: 'GET', path: `${path}?x=1`, headers: {}, note: 'unknown query parameter' });
      expect(res.status, `${op.operationId}`).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toContainEqual(expect.objectContaining({ location: 'query', field: 'x' }));
    }
  });
});

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,12}$/),
  fc.constantFrom('positions', 'orders', 'leverage', 'funding', 'contracts', 'account', 'admin', 'XBTUSDTM', '..', '%2e%2e', '%00', '%FF'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).map(encodeURIComponent),
);
const unknownRoute = fc
  .record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), segments: fc.array(segment, { minLength: 0, maxLength: 4 }) })
  .map(({ method, segments }) => ({ method, path: ['/api/futures', ...segments].join('/') }))
  // Dot segments are resolved by the client before sending: judge the path as it is sent.
  .map(({ method, path }) => ({ method, path: new URL(path, 'http://x').pathname }))
  .filter(({ method, path }) => path.startsWith('/api/futures') && matchOperation(method, path) === undefined);

describe('unknown routes and methods under /api/futures', () => {
  it('switch on: 404 NOT_FOUND or 405 METHOD_NOT_ALLOWED with Allow, nothing sent to KuCoin', async () => {
    await fc.assert(
      fc.asyncProperty(unknownRoute, async ({ method, path }) => {
        kucoin.calls.length = 0;
        const res = await send(on, { method, path, headers: {}, note: 'unknown route' });
        expect([404, 405], `${method} ${path}`).toContain(res.status);
        expect(res.body.code).toBe(res.status === 404 ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED');
        if (res.status === 405) expect(res.headers.get('allow')).toBeTruthy();
        expect(await businessCallsOf()).toEqual([]);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('switch off: every request under /api/futures answers the NOT_FOUND problem', () => {
  const notFoundLike = async (req: GenRequest) => {
    kucoin.calls.length = 0;
    const res = await send(off, req);
    expect(res.status, describeReq(req)).toBe(404);
    expect(res.body, describeReq(req)).toMatchObject({ success: false, status: 404, code: 'NOT_FOUND', type: 'urn:futures-gateway:problem:not-found' });
    expect(await businessCallsOf()).toEqual([]);
  };
  for (const op of futuresOps) {
    const mutated = mutatedRequestArb(op, { rawEscapes: true });
    const arb = mutated ? fc.oneof(validRequestArb(op), mutated) : validRequestArb(op);
    it(`${op.operationId}: valid and mutated requests`, async () => {
      await fc.assert(fc.asyncProperty(arb, notFoundLike), { seed: SEED, numRuns: 40, endOnFailure: true });
    });
  }
  it('unknown routes and methods', async () => {
    await fc.assert(
      fc.asyncProperty(unknownRoute, ({ method, path }) => notFoundLike({ method, path, headers: {}, note: 'unknown route' })),
      { seed: SEED, numRuns: 40 },
    );
  });
});

afterAll(() => {
  // Nothing in this file may have made a gateway log a secret (docs/operations.md "Observability and security").
  const secrets = [...Object.values(TEST_CREDENTIALS), TEST_ADMIN_KEY];
  for (const line of [...[busy, on, off].flatMap((g) => g?.logLines() ?? []), ...retiredLogs.flat()]) {
    for (const secret of secrets) expect(line.includes(secret), line.slice(0, 300)).toBe(false);
  }
});
