/**
 * The kill switch against requests already admitted when it flips. Once the admin flip has
 * answered, no order may leave for KuCoin that was not already sent: a request held inside the
 * gateway (waiting on a slow margin-mode read, or on its own body) is answered as every request
 * after the flip is, 404 NOT_FOUND like an unknown route, while a POST already on the wire
 * finishes normally. The same Idempotency-Key places the order once futures are back on.
 */
import { request as httpRequest } from 'node:http';
import { http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request, type HttpResponse as GatewayResponse } from '../support/http-client.js';
import { defaultContract } from '../support/http-contract.js';
import { startGateway, TEST_ADMIN_KEY, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, json, mockKucoin } from '../support/kucoin-mock.js';

const kucoin = mockKucoin();
let running: RunningGateway;
const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
const ORDER = { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } as const;

/** When each order POST reached KuCoin (msw), by clientOid. */
const posted = new Map<string, number>();
let releaseHeld: () => void = () => {};
let held: Promise<void> = Promise.resolve();
/** Margin-mode reads KuCoin has seen (so a test knows its orders are held). */
let marginReads = 0;

function hold(): void {
  held = new Promise<void>((resolve) => (releaseHeld = resolve));
}

beforeAll(async () => {
  kucoin.listen();
  running = await startGateway({
    FEATURE_FUTURES: 'true',
    FUTURES_BASE_URL: KUCOIN,
    READS_FROM_STREAM: 'false',
    ADMIN_API_KEYS: TEST_ADMIN_KEY,
    RATE_LIMIT_MAX: '0',
    ...TEST_CREDENTIALS,
  });
});
afterAll(async () => {
  releaseHeld();
  await running.stop();
  kucoin.close();
});
afterEach(async () => {
  releaseHeld();
  posted.clear();
  marginReads = 0;
  kucoin.reset();
  await flip(true);
});

function useKucoin(options: { slowPostsFor?: Set<string> } = {}): void {
  kucoin.server.use(
    // An order without a marginMode reads the symbol's first: held here until the test says so.
    http.get(`${KUCOIN}/api/v2/position/getMarginMode`, async () => {
      marginReads += 1;
      await held;
      return json({ symbol: 'XBTUSDTM', marginMode: 'ISOLATED' });
    }),
    http.post(`${KUCOIN}/api/v1/orders`, async ({ request: upstream }) => {
      const { clientOid } = (await upstream.clone().json()) as { clientOid: string };
      posted.set(clientOid, Date.now());
      // On the wire when the switch flips: answered after it.
      if (options.slowPostsFor?.has(clientOid)) await held;
      return json({ orderId: `o-${clientOid}`, clientOid });
    }),
  );
}

async function flip(enabled: boolean): Promise<number> {
  const res = await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled, reason: 'hostile test' } });
  expect(res.status).toBe(200);
  return Date.now();
}

const order = (key: string, body: Record<string, unknown> = {}) =>
  request(running.baseUrl, 'POST', '/api/futures/orders', { headers: { 'idempotency-key': key }, json: { ...ORDER, ...body } });

/** The parts of a 404 that legitimately differ between two requests (as test/http/kill-switch.test.ts). */
function comparable(res: GatewayResponse, path: string) {
  const { requestId, timestamp, detail, instance, ...rest } = res.body as Record<string, unknown>;
  expect(typeof requestId).toBe('string');
  expect(typeof timestamp).toBe('number');
  const headerNames = [...res.headers.keys()].filter((k) => k !== 'date' && k !== 'x-request-id').sort();
  return { status: res.status, headerNames, contentType: res.headers.get('content-type'), ...rest, detail: String(detail).replace(path, '<path>'), instance: String(instance).replace(path, '<path>') };
}

async function unknownRoute404() {
  const res = await request(running.baseUrl, 'POST', '/api/futurez/orders', { json: ORDER });
  return comparable(res, '/api/futurez/orders');
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('the kill switch and requests admitted before the flip', () => {
  it('sends no order after the flip has answered: held ones get 404 like an unknown route, ones on the wire finish', async () => {
    hold();
    const onTheWire = new Set(Array.from({ length: 5 }, (_, i) => `wire${i}`));
    useKucoin({ slowPostsFor: onTheWire });
    const unknown = await unknownRoute404();

    // 5 orders whose POST is at KuCoin, unanswered, when the switch flips.
    const wire = [...onTheWire].map((key) => order(key, { marginMode: 'isolated' }));
    await until(() => [...onTheWire].every((key) => posted.has(key)), 'the on-the-wire POSTs');
    // 20 orders held on their margin-mode read (KuCoin answers it only after the flip).
    const heldKeys = Array.from({ length: 20 }, (_, i) => `held${i}`);
    const heldOrders = heldKeys.map((key) => order(key));
    await until(() => marginReads >= 1, 'the held margin-mode read');
    // 25 more racing the flip itself.
    const racing = Array.from({ length: 25 }, (_, i) => order(`race${i}`, { marginMode: 'isolated' }));
    const flippedAt = await flip(false);
    releaseHeld();

    const [wireAnswers, heldAnswers, racingAnswers] = await Promise.all([Promise.all(wire), Promise.all(heldOrders), Promise.all(racing)]);

    const late = [...posted.entries()].filter(([, at]) => at > flippedAt);
    expect(late, 'order POSTs that reached KuCoin after the flip answered').toEqual([]);
    for (const res of wireAnswers) expect(res.status).toBe(201);
    for (const key of heldKeys) expect(posted.has(key), `${key} was sent`).toBe(false);
    for (const res of heldAnswers) expect(comparable(res, '/api/futures/orders')).toEqual(unknown);
    for (const res of racingAnswers) {
      if (res.status === 201) expect(posted.has(res.body.data.clientOid)).toBe(true);
      else expect(comparable(res, '/api/futures/orders')).toEqual(unknown);
    }
  });

  it.each([
    ['a valid order', JSON.stringify({ ...ORDER, marginMode: 'isolated' })],
    ['malformed JSON', '{"symbol":'],
  ])('a POST whose body (%s) arrives after the flip is 404 NOT_FOUND, and nothing is sent', async (_name, body) => {
    useKucoin();
    // Warm the contract list, so the late order would need no read before its POST.
    expect((await order('warm', { marginMode: 'isolated' })).status).toBe(201);
    posted.clear();
    const unknown = await unknownRoute404();

    const routed = new Promise<void>((resolve) => {
      const seen = (req: { url?: string }) => {
        if (req.url !== '/api/futures/orders') return;
        running.gateway.server.off('request', seen);
        resolve();
      };
      running.gateway.server.on('request', seen);
    });
    const answer = new Promise<GatewayResponse>((resolve, reject) => {
      const url = new URL(running.baseUrl);
      const req = httpRequest(
        { host: url.hostname, port: url.port, method: 'POST', path: '/api/futures/orders', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'idempotency-key': 'late-body' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
            defaultContract().assertResponse({ method: 'POST', path: '/api/futures/orders', status: res.statusCode ?? 0, headers, body: text });
            resolve({ status: res.statusCode ?? 0, headers, body: JSON.parse(text), text });
          });
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      void routed.then(async () => {
        // The gateway has the headers and waits for the body: flip, then send it.
        await flip(false);
        req.end(body);
      });
    });

    const res = await answer;
    expect(res.status).toBe(404);
    expect(comparable(res, '/api/futures/orders')).toEqual(unknown);
    expect(posted.size).toBe(0);
  });

  it('a refused order is not kept as its key’s outcome: once futures are back on, the same key places it', async () => {
    hold();
    useKucoin();
    const pending = order('again-1');
    await until(() => marginReads >= 1, 'the held margin-mode read');
    await flip(false);
    releaseHeld();
    expect((await pending).status).toBe(404);
    expect(posted.size).toBe(0);

    await flip(true);
    const retried = await order('again-1');
    expect(retried.status).toBe(201);
    expect(retried.body.data).toMatchObject({ clientOid: 'again-1', replayed: false });
    expect(posted.has('again-1')).toBe(true);
  });
});
