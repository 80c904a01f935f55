/**
 * One client reading as fast as it can must not cost another client its trading. The KuCoin quota
 * is the account's, shared by every client of the gateway: before the write reserve and the fair
 * read shares (src/kucoin/rate-budget.ts), 38 account reads from one key spent a 200-weight pool
 * and the other key's order, cancel and close got 429 UPSTREAM_RATE_LIMITED until the reset.
 */
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request, type HttpResponse as GatewayResponse } from '../support/http-client.js';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';
import { metricSum, parseMetrics } from './stack.js';

const KEY_A = 'hostile-key-a-0123456789abcdef';
const KEY_B = 'trader-key-b-0123456789abcdef';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

const kucoin = mockKucoin();
let running: RunningGateway | undefined;

beforeAll(() => kucoin.listen());
afterEach(async () => {
  await running?.stop();
  running = undefined;
  kucoin.reset();
});
afterAll(() => kucoin.close());

async function gateway(): Promise<RunningGateway> {
  kucoin.server.use(
    http.get(`${KUCOIN}/api/v1/account-overview`, () => HttpResponse.json(fixture('account-overview'))),
    http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: 'CROSS' })),
    http.post(`${KUCOIN}/api/v1/orders`, async ({ request: req }) => json({ orderId: '9001', clientOid: ((await req.json()) as { clientOid: string }).clientOid })),
    http.delete(`${KUCOIN}/api/v1/orders/:id`, () => HttpResponse.json(fixture('order-cancel'))),
  );
  running = await startGateway({
    FEATURE_FUTURES: 'true',
    FUTURES_BASE_URL: KUCOIN,
    ...TEST_CREDENTIALS,
    GATEWAY_API_KEYS: `${KEY_A},${KEY_B}`,
    // Weight 200 per 30 s: 10 headroom, 40 kept for writes (the default 20 %), 150 for reads.
    KUCOIN_FUTURES_POOL_QUOTA: '200',
    RATE_LIMIT_MAX: '0',
    READS_FROM_STREAM: 'false',
  });
  return running;
}

const readAccount = (g: RunningGateway, key: string) => request(g.baseUrl, 'GET', '/api/futures/account', { headers: as(key) });

/** Fires `batch` concurrent reads from key A per round (bounded) until A is refused; returns every answer A got. */
async function floodUntilRefused(g: RunningGateway, alongside: (round: number) => Promise<void> = async () => {}): Promise<GatewayResponse[]> {
  const answers: GatewayResponse[] = [];
  for (let round = 0; round < 20; round++) {
    const [batch] = await Promise.all([Promise.all(Array.from({ length: 10 }, () => readAccount(g, KEY_A))), alongside(round)]);
    answers.push(...batch);
    if (batch.some((res) => res.status === 429)) return answers;
  }
  throw new Error('key A was never refused in 200 reads');
}

function expectShareRefusal(answers: GatewayResponse[]): void {
  const refused = answers.filter((res) => res.status === 429);
  expect(refused.length).toBeGreaterThan(0);
  expect(answers.every((res) => res.status === 200 || res.status === 429)).toBe(true);
  for (const res of refused) {
    expect(res.body.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(res.body.detail).toMatch(/This caller's share/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  }
}

describe('hostile budget: one caller reading flat out', () => {
  it("leaves another key's order, cancel and position close untouched, and serves that key's reads", async () => {
    const g = await gateway();
    const flood = await floodUntilRefused(g);

    const order = await request(g.baseUrl, 'POST', '/api/futures/orders', { headers: as(KEY_B), json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } });
    expect(order.status, JSON.stringify(order.body)).toBe(201);
    const cancel = await request(g.baseUrl, 'DELETE', '/api/futures/orders/234125150956625920', { headers: as(KEY_B) });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    const close = await request(g.baseUrl, 'DELETE', '/api/futures/positions/XBTUSDTM', { headers: as(KEY_B) });
    expect(close.status, JSON.stringify(close.body)).toBe(200);
    // B never read before: it arrives while A holds everything A could take, and is served.
    const read = await readAccount(g, KEY_B);
    expect(read.status, JSON.stringify(read.body)).toBe(200);

    // A was refused for its own share, and still is.
    expectShareRefusal(flood);
    expect((await readAccount(g, KEY_A)).status).toBe(429);

    const metrics = parseMetrics((await request(g.baseUrl, 'GET', '/metrics')).text);
    expect(metricSum(metrics, 'gateway_upstream_budget_write_reserve', { pool: 'futures' })).toBe(40);
    expect(metricSum(metrics, 'gateway_upstream_budget_refusals_total', { pool: 'futures', kind: 'read_share' })).toBeGreaterThan(0);
    expect(metricSum(metrics, 'gateway_upstream_budget_refusals_total', { kind: 'pool' })).toBe(0);
  });

  it("serves every read of a key reading alongside the flood, and A gets no more than half of the reads' budget", async () => {
    const g = await gateway();
    const bAnswers: GatewayResponse[] = [];
    const flood = await floodUntilRefused(g, async () => {
      bAnswers.push(await readAccount(g, KEY_B));
    });
    expectShareRefusal(flood);
    // A few more rounds of both after A's first refusal: B is still served.
    for (let round = 0; round < 3; round++) {
      const [, b] = await Promise.all([Promise.all(Array.from({ length: 10 }, () => readAccount(g, KEY_A))), readAccount(g, KEY_B)]);
      bAnswers.push(b);
    }
    expect(bAnswers.map((res) => res.status)).toEqual(bAnswers.map(() => 200));
    // Half of 150 at 5 a read: 15 reads.
    expect(flood.filter((res) => res.status === 200).length).toBeLessThanOrEqual(15);
    const order = await request(g.baseUrl, 'POST', '/api/futures/orders', { headers: as(KEY_B), json: { symbol: 'XBTUSDTM', side: 'SELL', type: 'MARKET', qty: 1 } });
    expect(order.status, JSON.stringify(order.body)).toBe(201);
  });
});
