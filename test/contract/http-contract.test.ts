import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { allowLoopback, checkedRequest, requestUnchecked } from '../support/http-client.js';
import { createContract, type ObservedResponse } from '../support/http-contract.js';

const spec = parse(readFileSync(new URL('../support/fixtures/mini-openapi.yaml', import.meta.url), 'utf8'));
const exercised: string[] = [];
const contract = createContract(spec, { onExercised: (id) => exercised.push(id) });

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'req-1' };
const PROBLEM_HEADERS = { 'content-type': 'application/problem+json' };
const order = { orderId: 'o-1', side: 'BUY', price: 100.5, createdAt: 1700000000000 };
const problem = (status: number) => ({ type: 'about:blank', title: 'Error', status, success: false, code: 'E' });

function response(
  method: string,
  path: string,
  status: number,
  headers: Record<string, string>,
  body?: unknown,
): ObservedResponse {
  return { method, path, status, headers, body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body) };
}

describe('assertResponse accepts', () => {
  it.each<[string, ObservedResponse]>([
    ['a documented status, body and required header', response('GET', '/api/orders', 200, JSON_HEADERS, { success: true, data: [order] })],
    ['header names in any case', response('GET', '/api/orders', 200, { 'Content-Type': 'application/json', 'X-REQUEST-ID': 'r' }, { success: true, data: [] })],
    ['a request path with a query string', response('GET', '/api/orders?symbol=XBTUSDTM', 200, JSON_HEADERS, { success: true, data: [] })],
    ['a status covered by a 4XX range', response('POST', '/api/orders', 409, PROBLEM_HEADERS, problem(409))],
    ['a status covered by default', response('GET', '/api/orders', 503, PROBLEM_HEADERS, problem(503))],
    ['an empty body where no content is documented', response('DELETE', '/api/orders/o-1', 204, {}, '')],
    ['a recursive schema', response('GET', '/api/tree', 200, JSON_HEADERS, { name: 'a', children: [{ name: 'b', children: [] }] })],
    ['text for a text/plain response, with parameters', response('GET', '/metrics', 200, { 'content-type': 'text/plain; version=0.0.4' }, 'up 1\n')],
    ['an already-parsed body', { method: 'GET', path: '/api/orders/o-1', status: 200, headers: JSON_HEADERS, body: order }],
    ['an unknown path answered as NotFound', response('GET', '/api/nope', 404, PROBLEM_HEADERS, problem(404))],
    ['a known path with another method answered as MethodNotAllowed', response('PUT', '/api/orders', 405, { ...PROBLEM_HEADERS, allow: 'GET, POST' }, problem(405))],
    ['any other status on an unknown route, as a Problem', response('GET', '/api/nope', 401, PROBLEM_HEADERS, problem(401))],
    ['HEAD answered as the GET operation, without a body', response('HEAD', '/api/orders/o-1', 200, { ...JSON_HEADERS, 'content-length': '80' }, '')],
    ['HEAD answered with one of the GET operation\'s other statuses', response('HEAD', '/api/orders', 503, PROBLEM_HEADERS, '')],
    ['HEAD on an unknown path answered as NotFound, without a body', response('HEAD', '/api/nope', 404, PROBLEM_HEADERS, '')],
    ['a Host refused (421) on an unknown path, as a Problem', response('GET', '/api/nope', 421, PROBLEM_HEADERS, problem(421))],
  ])('%s', (_title, given) => {
    expect(() => contract.assertResponse(given)).not.toThrow();
  });
});

describe('assertResponse rejects', () => {
  it.each<[string, ObservedResponse, RegExp]>([
    ['an undocumented status', response('GET', '/api/orders/o-1', 404, PROBLEM_HEADERS, problem(404)), /status 404 is not documented \(documented: 200\)/],
    ['a wrong content-type', response('GET', '/api/orders', 200, { ...JSON_HEADERS, 'content-type': 'text/html' }, '<p>'), /content-type "text\/html" is not documented/],
    ['a missing content-type', response('GET', '/api/orders/o-1', 200, {}, order), /content-type "\(none\)" is not documented/],
    ['a body missing a required field', response('GET', '/api/orders', 200, JSON_HEADERS, { success: true, data: [{ ...order, price: undefined }] }), /body\/data\/0 must have required property 'price'/],
    ['a field the schema does not allow', response('GET', '/api/orders/o-1', 200, JSON_HEADERS, { ...order, extra: 1 }), /must NOT have additional properties \(additionalProperty: "extra"\)/],
    ['a body that is not JSON', response('GET', '/api/orders/o-1', 200, JSON_HEADERS, '{"orderId":'), /the body is not valid JSON/],
    ['a body where no content is documented', response('DELETE', '/api/orders/o-1', 204, {}, 'gone'), /documented response has no content/],
    ['a missing required header', response('GET', '/api/orders', 200, { 'content-type': 'application/json' }, { success: true, data: [] }), /required header X-Request-Id is missing/],
    ['a header breaking its schema', response('GET', '/api/orders', 200, { ...JSON_HEADERS, 'ratelimit-remaining': '-1' }, { success: true, data: [] }), /header RateLimit-Remaining: "-1" must be >= 0/],
    ['an unknown route answered with HTML', response('GET', '/api/nope', 404, { 'content-type': 'text/html' }, 'Cannot GET'), /content-type "text\/html" is not documented/],
    ['an unknown route answered with a body that is not a Problem', response('GET', '/api/nope', 404, PROBLEM_HEADERS, { error: 'nope' }), /must have required property 'status'/],
    ['an unknown route answered 200', response('GET', '/api/nope', 200, JSON_HEADERS, { success: true }), /application\/problem\+json/],
    ['a MethodNotAllowed without Allow', response('PUT', '/api/orders', 405, PROBLEM_HEADERS, problem(405)), /required header Allow is missing/],
    ['an answer to HEAD with a body', response('HEAD', '/api/orders/o-1', 200, JSON_HEADERS, order), /an answer to HEAD has a body/],
    ['an answer to HEAD with a status the GET does not document', response('HEAD', '/api/orders/o-1', 404, PROBLEM_HEADERS, ''), /status 404 is not documented \(documented: 200\)/],
    ['an answer to HEAD without the GET\'s Content-Type', response('HEAD', '/api/orders/o-1', 200, {}, ''), /content-type "\(none\)" is not documented/],
  ])('%s', (_title, given, want) => {
    expect(() => contract.assertResponse(given)).toThrow(want);
  });

  it('says which operation, status and contract location failed, with the body', () => {
    const given = response('GET', '/api/orders/o-1', 200, JSON_HEADERS, { ...order, side: 'LONG' });
    expect(() => contract.assertResponse(given)).toThrow(
      [
        'response does not match openapi.yaml',
        '  operation: getOrder (GET /api/orders/{orderId})',
        '  request:   GET /api/orders/o-1',
        '  status:    200',
        '  contract:  #/paths/~1api~1orders~1{orderId}/get/responses/200',
        '  - body/side must be equal to one of the allowed values (allowedValues: ["BUY","SELL"])',
        `  body:      ${JSON.stringify({ ...order, side: 'LONG' })}`,
      ].join('\n'),
    );
  });
});

describe('matchOperation', () => {
  it.each<[string, string, string, string | undefined]>([
    ['an exact path wins over a template', 'GET', '/api/orders/open', 'listOpenOrders'],
    ['a template matches one segment', 'GET', '/api/orders/o-1', 'getOrder'],
    ['a template serves a method the exact path lacks', 'DELETE', '/api/orders/open', 'cancelOrder'],
    ['the query string is ignored', 'get', '/api/orders?status=active', 'listOrders'],
    ['a template never spans segments', 'GET', '/api/orders/a/b', undefined],
    ['a known path with an unknown method', 'PUT', '/api/orders', undefined],
  ])('%s', (_title, method, path, want) => {
    expect(contract.matchOperation(method, path)?.operationId).toBe(want);
  });
});

describe('operation coverage', () => {
  it('lists every operation of the spec', () => {
    expect(contract.listOperations().map((op) => `${op.method} ${op.pathTemplate} ${op.operationId}`).sort()).toEqual([
      'delete /api/orders/{orderId} cancelOrder',
      'get /api/orders listOrders',
      'get /api/orders/open listOpenOrders',
      'get /api/orders/{orderId} getOrder',
      'get /api/tree getTree',
      'get /metrics getMetrics',
      'post /api/orders placeOrder',
    ]);
  });

  it('records the operation of every checked response, valid or not, and no unknown route', () => {
    const recording: string[] = [];
    const recorder = createContract(spec, { onExercised: (id) => recording.push(id) });
    recorder.assertResponse(response('GET', '/metrics', 200, { 'content-type': 'text/plain' }, ''));
    expect(() => recorder.assertResponse(response('GET', '/api/orders/o-1', 500, {}, ''))).toThrow();
    recorder.assertResponse(response('GET', '/api/nope', 404, PROBLEM_HEADERS, problem(404)));
    expect(recording).toEqual(['getMetrics', 'getOrder']);
  });

  it('does not count an answer to HEAD as exercising the GET operation (its body is never seen)', () => {
    const recording: string[] = [];
    const recorder = createContract(spec, { onExercised: (id) => recording.push(id) });
    recorder.assertResponse(response('HEAD', '/api/tree', 200, JSON_HEADERS, ''));
    expect(recording).toEqual([]);
  });
});

describe('the HTTP client', () => {
  let server: Server;
  let baseUrl: string;
  let seen: { method?: string; contentType?: string; body: string };
  let reply: { status: number; headers: Record<string, string>; body: string };

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen = { method: req.method, contentType: req.headers['content-type'], body };
      res.writeHead(reply.status, reply.headers).end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends json as application/json and parses the JSON reply', async () => {
    reply = { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ success: true, data: order }) };
    const res = await checkedRequest(contract, baseUrl, 'POST', '/api/orders', { json: { side: 'BUY' } });
    expect(seen).toEqual({ method: 'POST', contentType: 'application/json', body: '{"side":"BUY"}' });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual(order);
  });

  it('sends a raw body and its content type as given, and parses problem+json', async () => {
    reply = { status: 400, headers: PROBLEM_HEADERS, body: JSON.stringify(problem(400)) };
    const res = await checkedRequest(contract, baseUrl, 'POST', '/api/orders', { body: '{"side":', headers: { 'content-type': 'text/plain' } });
    expect(seen).toEqual({ method: 'POST', contentType: 'text/plain', body: '{"side":' });
    expect(res.body).toEqual(problem(400));
  });

  it('fails on a reply the contract does not describe', async () => {
    reply = { status: 200, headers: { 'content-type': 'text/html' }, body: 'Cannot GET /api/nope' };
    await expect(checkedRequest(contract, baseUrl, 'GET', '/api/nope')).rejects.toThrow(/operation: none: unknown path/);
  });

  it('hands back an unchecked reply only through requestUnchecked', async () => {
    reply = { status: 200, headers: { 'content-type': 'text/html' }, body: '<p>' };
    const res = await requestUnchecked(baseUrl, 'GET', '/api/nope');
    expect(res).toMatchObject({ status: 200, body: '<p>', text: '<p>' });
  });
});

describe('allowLoopback', () => {
  it.each([
    ['http://127.0.0.1:3001/api/health', false],
    ['http://localhost:3001/api/health', false],
    ['http://[::1]:3001/api/health', false],
    ['https://api-futures.kucoin.com/api/v1/positions', true],
  ])('%s fails the request: %s', (url, fails) => {
    const print = { error: vi.fn() };
    allowLoopback(new Request(url), print);
    expect(print.error).toHaveBeenCalledTimes(fails ? 1 : 0);
  });
});
