import { Parser } from '@asyncapi/parser';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { futuresOperationIds, sampleRequests } from '../support/samples.js';
import { startGateway, TEST_ADMIN_KEY, TEST_API_KEY, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';

let running: RunningGateway | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const send = (operationId: string, headers: Record<string, string> = {}) => {
  const sample = sampleRequests[operationId]!;
  return request(running!.baseUrl, sample.method, sample.path, { headers, ...(sample.json ? { json: sample.json } : {}) });
};

describe('gateway API keys', () => {
  it.each(futuresOperationIds)('%s needs a key when GATEWAY_API_KEYS is set', async (operationId) => {
    running = await startGateway({ FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY });
    const without = await send(operationId);
    expect(without.status).toBe(401);
    expect(without.body.code).toBe('UNAUTHORIZED');
    expect(without.headers.get('www-authenticate')).toBe('Bearer realm="futures-gateway"');
    const wrong = await send(operationId, { authorization: `Bearer ${TEST_API_KEY}x` });
    expect(wrong.body.code).toBe('UNAUTHORIZED');
    const right = await send(operationId, { authorization: `Bearer ${TEST_API_KEY}` });
    expect(right.body.code).not.toBe('UNAUTHORIZED');
  });

  it('leaves system routes open', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY });
    expect((await send('getHealth')).status).toBe(200);
    expect((await send('getMetrics')).status).toBe(200);
  });

  it('does not accept a gateway key for admin operations', async () => {
    running = await startGateway({ GATEWAY_API_KEYS: TEST_API_KEY, ADMIN_API_KEYS: TEST_ADMIN_KEY });
    expect((await send('setFuturesSwitch', { authorization: `Bearer ${TEST_API_KEY}` })).status).toBe(401);
  });
});

describe('inbound rate limit', () => {
  it('logs once that X-Forwarded-For arrived while TRUST_PROXY is off (every client would count as the proxy)', async () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.7' };
    const warnings = () => running!.logLines().filter((line) => line.includes('"inbound_limit_forwarded_for"'));
    running = await startGateway({ FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '100' });
    await send('listPositions');
    expect(warnings()).toHaveLength(0);
    await send('listPositions', forwarded);
    await send('listPositions', forwarded);
    expect(warnings()).toHaveLength(1);
    expect(JSON.parse(warnings()[0]!)).toMatchObject({ level: 'warn' });
    await running.stop();
    running = await startGateway({ FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '100', TRUST_PROXY: 'true' });
    await send('listPositions', forwarded);
    expect(warnings()).toHaveLength(0);
  });

  it('answers 429 RATE_LIMITED with Retry-After and RateLimit headers past the limit, per client', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await send('listPositions')).status);
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await send('listPositions');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', success: false });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.retryAfterSeconds).toBe(Number(limited.headers.get('retry-after')));
    expect(limited.headers.get('ratelimit-policy')).toMatch(/^"default"; q=3; w=60(; pk=:[A-Za-z0-9+/=]+:)?$/);
    expect(limited.headers.get('ratelimit')).toMatch(/^"default"; r=0; t=\d+$/);
    // a made-up token does not buy a fresh budget; health and metrics are never limited
    expect((await send('listPositions', { authorization: 'Bearer some-other-client-key-123' })).status).toBe(429);
    expect((await send('getHealth')).status).toBe(200);
    const metrics = await send('getMetrics');
    expect(metrics.text).toMatch(/^gateway_rate_limit_hits_total\{side="inbound"\} 2$/m);
  });

  it('writes the RateLimit headers exactly as express-rate-limit\'s own draft-8 headers read', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
    // The reference: express-rate-limit writing the headers itself, keyed as the gateway keys a
    // caller without a configured key (by IP).
    const reference = express();
    reference.use(rateLimit({ windowMs: 60_000, limit: 3, standardHeaders: 'draft-8', legacyHeaders: false, identifier: 'default', keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? '')}` }));
    reference.use((_req, res) => void res.status(204).end());
    const server = reference.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const referenceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (let i = 0; i < 4; i += 1) {
        const ours = await send('listPositions');
        const theirs = await fetch(`${referenceUrl}/`);
        expect(ours.headers.get('ratelimit-policy')).toBe(theirs.headers.get('ratelimit-policy'));
        // t (seconds to the reset) may straddle a second between the two windows' starts.
        const pattern = /^"default"; r=(\d+); t=(\d+)$/;
        const mine = pattern.exec(ours.headers.get('ratelimit') ?? '');
        const ref = pattern.exec(theirs.headers.get('ratelimit') ?? '');
        expect(mine).not.toBeNull();
        expect(ref).not.toBeNull();
        expect(mine![1]).toBe(ref![1]);
        expect(Math.abs(Number(mine![2]) - Number(ref![2]))).toBeLessThanOrEqual(1);
      }
    } finally {
      server.close();
    }
  });

  it('gives each configured key its own budget', async () => {
    const other = 'second-gateway-key-0123456789';
    running = await startGateway({ FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '2', GATEWAY_API_KEYS: `${TEST_API_KEY},${other}` });
    const statuses = async (key: string) => {
      const out: number[] = [];
      for (let i = 0; i < 3; i += 1) out.push((await send('listPositions', { authorization: `Bearer ${key}` })).status);
      return out;
    };
    expect(await statuses(TEST_API_KEY)).toEqual([401, 401, 429]);
    expect(await statuses(other)).toEqual([401, 401, 429]);
    // the address's own budget is untouched by the keyed calls: this one gets as far as the key check
    expect((await send('listPositions')).status).toBe(401);
    expect((await send('listPositions')).body.code).toBe('UNAUTHORIZED');
  });
});

describe('request ids, headers, logs and metrics', () => {
  it('honours a sane X-Request-Id and replaces an unsafe one', async () => {
    running = await startGateway();
    const given = await request(running.baseUrl, 'GET', '/api/nope', { headers: { 'x-request-id': 'client-req-42' } });
    expect(given.headers.get('x-request-id')).toBe('client-req-42');
    expect(given.body.requestId).toBe('client-req-42');
    const unsafe = await request(running.baseUrl, 'GET', '/api/health', { headers: { 'x-request-id': 'bad id\twith "stuff"' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends helmet security headers and no x-powered-by', async () => {
    running = await startGateway();
    const res = await send('getHealth');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('logs one JSON line per request with id, route, status and a level by status', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    await request(running.baseUrl, 'GET', '/api/health', { headers: { 'x-request-id': 'ok-1' } });
    await request(running.baseUrl, 'GET', '/api/futures/positions?currency=USDT', { headers: { 'x-request-id': 'warn-1' } });
    const lines = running.logLines().map((l) => JSON.parse(l));
    const ok = lines.find((l) => l.req?.id === 'ok-1');
    const warn = lines.find((l) => l.req?.id === 'warn-1');
    expect(ok).toMatchObject({ level: 'info', route: '/api/health', res: { statusCode: 200 } });
    expect(typeof ok.responseTime).toBe('number');
    expect(warn).toMatchObject({ level: 'warn', route: '/api/futures/positions', code: 'CREDENTIALS_MISSING', res: { statusCode: 401 } });
    // Exactly these request fields: no headers, no query string.
    expect(warn.req).toEqual({ id: 'warn-1', method: 'GET', path: '/api/futures/positions', remoteAddress: '127.0.0.1' });
    expect(warn.res).toEqual({ statusCode: 401 });
  });

  it('never writes a secret to the log, even when a caller echoes one', async () => {
    const env = { FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY, ADMIN_API_KEYS: TEST_ADMIN_KEY, LOG_LEVEL: 'trace', ...TEST_CREDENTIALS };
    running = await startGateway(env);
    const secrets = [TEST_API_KEY, TEST_ADMIN_KEY, ...Object.values(TEST_CREDENTIALS)];
    for (const secret of secrets) {
      await request(running.baseUrl, 'GET', `/api/futures/positions?currency=${encodeURIComponent(secret)}`, { headers: { authorization: `Bearer ${secret}` } });
      await request(running.baseUrl, 'GET', `/api/${secret}`, { headers: { 'x-request-id': secret.slice(0, 20) } });
    }
    await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, json: { enabled: false, reason: TEST_CREDENTIALS.KUCOIN_FUTURES_SECRET } });
    const log = running.logLines().join('\n');
    expect(log.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).toContain('[REDACTED]');
  });

  it('exports HTTP metrics by route template and status', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    await request(running.baseUrl, 'GET', '/api/futures/positions/BTCUSDTM');
    await request(running.baseUrl, 'GET', '/api/nope');
    const metrics = await send('getMetrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^gateway_http_requests_total\{method="GET",route="\/api\/futures\/positions\/\{symbol\}",status="401"\} 1$/m);
    expect(metrics.text).toMatch(/^gateway_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
    expect(metrics.text).toMatch(/^gateway_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/api\/health"\}|gateway_http_request_duration_seconds_count/m);
    expect(metrics.text).toMatch(/^gateway_futures_switch_enabled 1$/m);
    expect(metrics.text).toMatch(/^gateway_process_resident_memory_bytes /m);
  });
});

describe('the served contract', () => {
  it('serves openapi.json, a bundled asyncapi.json that parses on its own, and a docs page', async () => {
    running = await startGateway();
    const openapi = await send('getOpenApiDocument');
    expect(Object.keys(openapi.body.paths)).toContain('/api/futures/orders');
    const asyncapi = await send('getAsyncApiDocument');
    expect(asyncapi.text).not.toContain('openapi.yaml#');
    const { diagnostics } = await new Parser().parse(asyncapi.text);
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    const docs = await send('getDocs');
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    // The operations are rendered in the browser by Swagger UI from /api/openapi.json
    // (test/e2e/docs-page.browser.test.ts); the page itself carries the error catalogue.
    expect(docs.text).toContain('UPSTREAM_RATE_LIMITED');
    expect(docs.text).toContain('src="/api/docs/assets/swagger-ui-bundle.js"');
    expect(docs.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
  });

  it('reports health without secrets', async () => {
    running = await startGateway({ ...TEST_CREDENTIALS, KUCOIN_FUTURES_KEY_VERSION: '2', FUTURES_BASE_URL: 'https://api-futures.kucoin.com' });
    const health = await send('getHealth');
    expect(health.body.data).toMatchObject({
      status: 'ok',
      futures: { enabled: false, changedAt: null, changedBy: null },
      upstream: { provider: 'kucoin', enabled: true, baseUrl: 'https://api-futures.kucoin.com', credentialsConfigured: true, keyVersion: '2' },
    });
    for (const secret of Object.values(TEST_CREDENTIALS)) expect(health.text).not.toContain(secret);
  });

  it('answers 503 UPSTREAM_UNAVAILABLE for futures operations when the provider is disabled', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', EXCHANGE_KUCOIN: 'false', ...TEST_CREDENTIALS });
    const res = await send('listPositions');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('UPSTREAM_UNAVAILABLE');
  });
});
