import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue, problemType } from '../../src/errors.js';
import { openapiPath } from '../../src/paths.js';
import { request } from '../support/http-client.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';

let running: RunningGateway;
beforeAll(async () => {
  running = await startGateway({ FEATURE_FUTURES: 'true', BODY_LIMIT_BYTES: '1024' });
});
afterAll(() => running.stop());

describe('the error catalogue', () => {
  it('is the one in openapi.yaml (x-error-catalogue), code for code, status for status', () => {
    const spec = parse(readFileSync(openapiPath, 'utf8'));
    const fromSpec = spec.components.schemas.ErrorCode['x-error-catalogue'] as { code: string; status: number; title: string }[];
    const fromCode = Object.entries(errorCatalogue).map(([code, { status, title }]) => ({ code, status, title }));
    expect(fromCode).toEqual(fromSpec.map(({ code, status, title }) => ({ code, status, title })));
    expect(spec.components.schemas.ErrorCode.enum).toEqual(Object.keys(errorCatalogue));
  });

  it.each([
    ['NOT_FOUND', 'urn:futures-gateway:problem:not-found'],
    ['UPSTREAM_RATE_LIMITED', 'urn:futures-gateway:problem:upstream-rate-limited'],
  ] as const)('%s has the problem type %s', (code, type) => {
    expect(problemType(code)).toBe(type);
  });
});

describe('typed answers at the HTTP edge', () => {
  const order = { symbol: 'BTCUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 };
  const cases: [string, () => Promise<{ status: number; body: any; headers: Headers }>, number, string][] = [
    ['unknown route', () => request(running.baseUrl, 'GET', '/api/nothing-here'), 404, 'NOT_FOUND'],
    ['wrong method on a known path', () => request(running.baseUrl, 'DELETE', '/api/health'), 405, 'METHOD_NOT_ALLOWED'],
    ['invalid body', () => request(running.baseUrl, 'POST', '/api/futures/orders', { json: { ...order, side: 'LONG' } }), 400, 'VALIDATION_FAILED'],
    ['unknown field', () => request(running.baseUrl, 'POST', '/api/futures/orders', { json: { ...order, colour: 'red' } }), 400, 'VALIDATION_FAILED'],
    ['invalid query', () => request(running.baseUrl, 'GET', '/api/futures/orders?pageSize=0'), 400, 'VALIDATION_FAILED'],
    ['invalid path parameter', () => request(running.baseUrl, 'GET', '/api/futures/positions/BTC$USDT'), 400, 'VALIDATION_FAILED'],
    ['missing body', () => request(running.baseUrl, 'POST', '/api/futures/orders'), 400, 'VALIDATION_FAILED'],
    [
      'malformed JSON',
      () => request(running.baseUrl, 'POST', '/api/futures/orders', { body: '{"symbol":', headers: { 'content-type': 'application/json' } }),
      400,
      'MALFORMED_JSON',
    ],
    [
      'wrong content type',
      () => request(running.baseUrl, 'POST', '/api/futures/orders', { body: 'symbol=XBTUSDTM', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'oversized body',
      () => request(running.baseUrl, 'POST', '/api/futures/orders', { json: { ...order, clientOid: 'x'.repeat(4096) } }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
  ];

  it.each(cases)('%s → %i %s', async (_name, send, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ success: false, status, code, type: problemType(code as never) });
    expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
  });

  it('405 lists the allowed methods', async () => {
    const res = await request(running.baseUrl, 'PATCH', '/api/futures/orders');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
  });

  it('names every bad field of an order', async () => {
    const res = await request(running.baseUrl, 'POST', '/api/futures/orders', {
      json: { symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty: -1, price: 5, extra: true },
    });
    expect(res.status).toBe(400);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['extra', 'price', 'qty']);
  });

  it('requires a price on LIMIT orders', async () => {
    const res = await request(running.baseUrl, 'POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'SELL', type: 'LIMIT', qty: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ location: 'body', field: 'price', message: 'is required' }]);
  });

  it('accepts marginMode in either case', async () => {
    for (const marginMode of ['cross', 'CROSS', 'isolated', 'ISOLATED']) {
      const res = await request(running.baseUrl, 'PUT', '/api/futures/leverage', { json: { symbol: 'BTCUSDTM', leverage: 3, marginMode } });
      expect(res.status).toBe(401); // past validation, stopped by the missing credentials
    }
  });
});
