/**
 * Headers held by the response until its head is written (src/http/head-once.ts): every writer of
 * an answer, not only the gateway's own sendJson, must still send the headers set before it — the
 * security headers, X-Request-Id, the inbound limiter's RateLimit pair — and every reader must see
 * them as it would in node's own store.
 */
import { createServer, request as httpRequest, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { afterEach, describe, expect, it } from 'vitest';
import { request, type HttpResponse } from '../support/http-client.js';
import { startGateway, TEST_API_KEY, type RunningGateway } from '../support/gateway.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { addHeaders, headerPreset, keepHeadersUntilHead } from '../../src/http/head-once.js';
import { expressServerClasses } from '../../src/http/express-server.js';

let running: RunningGateway | undefined;
let redis: TestRedis | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await redis?.stop();
  redis = undefined;
});

/** What the gateway sends on plain HTTP (app.ts: helmet without upgrade-insecure-requests). */
const SECURITY = securityHeaders(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));

function expectGatewayHeaders(response: HttpResponse, { limited }: { limited: boolean }): void {
  expect(SECURITY.size).toBeGreaterThan(8);
  for (const [name, value] of SECURITY) expect(response.headers.get(name), name).toBe(value);
  expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  if (limited) {
    expect(response.headers.get('ratelimit')).toMatch(/^"default"; r=\d+; t=\d+$/);
    expect(response.headers.get('ratelimit-policy')).toMatch(/^"default"; q=\d+; w=\d+; pk=:[A-Za-z0-9+/=]+:$/);
  } else {
    expect(response.headers.get('ratelimit')).toBeNull();
  }
}

describe('every answer of the gateway carries the headers set before it was written', () => {
  it('sendJson answers, Express res.send answers (/metrics, docs pages, JSON documents), HEAD, 401, 404, 405 and 429', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY, RATE_LIMIT_MAX: '12' });
    const base = running.baseUrl;
    // Not limited (the limiter skips health and metrics).
    expectGatewayHeaders(await request(base, 'GET', '/api/health'), { limited: false });
    const metrics = await request(base, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expectGatewayHeaders(metrics, { limited: false });
    const head = await request(base, 'HEAD', '/api/health');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expectGatewayHeaders(head, { limited: false });
    // Limited: Express's res.send (docs page, openapi.json, a docs asset), sendJson's problems.
    const docs = await request(base, 'GET', '/api/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    expectGatewayHeaders(docs, { limited: true });
    const openapi = await request(base, 'GET', '/api/openapi.json');
    expect(openapi.status).toBe(200);
    expectGatewayHeaders(openapi, { limited: true });
    const unknown = await request(base, 'GET', '/api/no-such-route');
    expect(unknown.status).toBe(404);
    expectGatewayHeaders(unknown, { limited: true });
    const unauthorized = await request(base, 'GET', '/api/futures/positions');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer realm="futures-gateway"');
    expectGatewayHeaders(unauthorized, { limited: true });
    const notAllowed = await request(base, 'DELETE', '/api/docs');
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.get('allow')).toContain('GET');
    expectGatewayHeaders(notAllowed, { limited: true });
    let refused: HttpResponse | undefined;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const answer = await request(base, 'GET', '/api/no-such-route');
      if (answer.status === 429) refused = answer;
    }
    expect(refused?.status).toBe(429);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expectGatewayHeaders(refused!, { limited: true });
    // The id a caller sent is the one echoed.
    const echoed = await request(base, 'GET', '/api/health', { headers: { 'x-request-id': 'abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
  });

  it("with REDIS_URL: express-rate-limit's middleware and its 429 handler", async () => {
    redis = await startRedis();
    running = await startGateway({ FEATURE_FUTURES: 'true', REDIS_URL: redis.url, RATE_LIMIT_MAX: '3' });
    const passed = await request(running.baseUrl, 'GET', '/api/no-such-route');
    expect(passed.status).toBe(404);
    expectGatewayHeaders(passed, { limited: true });
    let refused: HttpResponse | undefined;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const answer = await request(running.baseUrl, 'GET', '/api/no-such-route');
      if (answer.status === 429) refused = answer;
    }
    expect(refused?.status).toBe(429);
    expectGatewayHeaders(refused!, { limited: true });
  });
});

/** A bare Express app on the gateway's response class with the headers held, to try writers the gateway does not use. */
async function heldApp(setup: (app: express.Express) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  keepHeadersUntilHead(app.response);
  const preset = headerPreset([
    ['X-Frame-Options', 'SAMEORIGIN'],
    ['X-Content-Type-Options', 'nosniff'],
  ]);
  app.use((_req, res, next) => {
    addHeaders(res, preset);
    res.setHeader('X-Request-Id', 'r-1');
    next();
  });
  setup(app);
  const server = createServer(expressServerClasses(app), app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Raw GET: the status, the headers as received (names and repeats) and the body. */
function get(url: string, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; raw: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: res.rawHeaders, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('keepHeadersUntilHead: node header semantics on a held response', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('Express res.send / res.json / res.end / writeHead(obj) / finalhandler 404 all send the held headers', async () => {
    const app = await heldApp((a) => {
      a.get('/send', (_req, res) => void res.status(201).type('text/plain').send('hi'));
      a.get('/json', (_req, res) => void res.json({ ok: true }));
      a.get('/end', (_req, res) => {
        res.statusCode = 202;
        res.end();
      });
      a.get('/write-head', (_req, res) => void res.writeHead(203, 'Fine', { 'Content-Type': 'text/plain', 'x-frame-options': 'DENY' }).end('x'));
      a.get('/write', (_req, res) => {
        res.write('a');
        res.end('b');
      });
    });
    close = app.close;
    for (const path of ['/send', '/json', '/end', '/write-head', '/write', '/nothing-here']) {
      const answer = await get(`${app.url}${path}`);
      expect(answer.headers['x-request-id'], path).toBe('r-1');
      expect(answer.headers['x-content-type-options'], path).toBe('nosniff');
      // Each header once on the wire.
      expect(answer.raw.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'x-content-type-options'), path).toHaveLength(1);
    }
    const statuses = await Promise.all(['/send', '/end', '/write-head', '/nothing-here'].map(async (p) => (await get(`${app.url}${p}`)).status));
    expect(statuses).toEqual([201, 202, 203, 404]);
    // writeHead's own headers replace those held (any case), keeping one of each.
    const replaced = await get(`${app.url}/write-head`);
    expect(replaced.headers['x-frame-options']).toBe('DENY');
    expect(replaced.raw.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'x-frame-options')).toHaveLength(1);
    expect((await get(`${app.url}/send`)).body).toBe('hi');
    expect((await get(`${app.url}/write`)).body).toBe('ab');
    const head = await get(`${app.url}/json`, 'HEAD');
    expect(head.body).toBe('');
    expect(head.headers['x-request-id']).toBe('r-1');
    expect(head.headers['content-type']).toMatch(/^application\/json/);
  });

  it('readers see held headers; set replaces, append lists, remove drops; checks and errors are node own', async () => {
    const seen: Record<string, unknown> = {};
    const app = await heldApp((a) => {
      a.get('/', (_req, res) => {
        seen.get = res.getHeader('x-request-id');
        seen.getUpper = res.getHeader('X-CONTENT-TYPE-OPTIONS');
        seen.has = res.hasHeader('X-Frame-Options');
        seen.hasMissing = res.hasHeader('x-nope');
        res.setHeader('x-request-id', 'r-2');
        res.appendHeader('Set-Cookie', 'a=1');
        res.appendHeader('set-cookie', ['b=2']);
        res.removeHeader('x-frame-options');
        seen.names = res.getHeaderNames();
        seen.raw = (res as unknown as { getRawHeaderNames(): string[] }).getRawHeaderNames();
        seen.headers = { ...res.getHeaders() };
        seen.badName = catchCode(() => res.setHeader('bad name', 'x'));
        seen.badValue = catchCode(() => res.setHeader('x-ok', 'a\nb'));
        // Past these methods, into node's own store: still sent.
        ServerResponse.prototype.setHeader.call(res, 'X-Direct', 'yes');
        res.status(200).send('ok');
        seen.after = res.getHeader('x-request-id');
        seen.setAfter = catchCode(() => res.setHeader('x-late', '1'));
        seen.removeAfter = catchCode(() => res.removeHeader('x-request-id'));
      });
    });
    close = app.close;
    const answer = await get(`${app.url}/`);
    expect(seen).toEqual({
      get: 'r-1',
      getUpper: 'nosniff',
      has: true,
      hasMissing: false,
      names: ['x-content-type-options', 'x-request-id', 'set-cookie'],
      // As node: a set replaces the name as written too.
      raw: ['X-Content-Type-Options', 'x-request-id', 'Set-Cookie'],
      headers: { 'x-content-type-options': 'nosniff', 'x-request-id': 'r-2', 'set-cookie': ['a=1', 'b=2'] },
      badName: 'ERR_INVALID_HTTP_TOKEN',
      badValue: 'ERR_INVALID_CHAR',
      after: 'r-2',
      setAfter: 'ERR_HTTP_HEADERS_SENT',
      removeAfter: 'ERR_HTTP_HEADERS_SENT',
    });
    expect(answer.headers['x-request-id']).toBe('r-2');
    expect(answer.headers['x-frame-options']).toBeUndefined();
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(answer.headers['x-direct']).toBe('yes');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body).toBe('ok');
  });

  it('removing Content-Length or Date is honoured as node honours it', async () => {
    const app = await heldApp((a) => {
      a.get('/', (_req, res) => {
        res.setHeader('Content-Length', '2');
        res.removeHeader('content-length');
        res.removeHeader('Date');
        res.end('ok');
      });
    });
    close = app.close;
    const answer = await get(`${app.url}/`);
    expect(answer.headers.date).toBeUndefined();
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.body).toBe('ok');
  });

  it('a header node refuses in writeHead is not kept: a second answer can still be written', async () => {
    const app = await heldApp((a) => {
      a.get('/', (_req, res) => {
        const code = catchCode(() => res.writeHead(200, { 'X-Bad': 'a\rb' }));
        res.status(500).json({ code });
      });
    });
    close = app.close;
    const answer = await get(`${app.url}/`);
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({ code: 'ERR_INVALID_CHAR' });
    expect(answer.headers['x-bad']).toBeUndefined();
    expect(answer.headers['x-request-id']).toBe('r-1');
  });
});

function catchCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}
