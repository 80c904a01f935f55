/**
 * Two gateway replicas on one Redis (REDIS_URL) spend one KuCoin budget: one key reading flat out
 * through both gets no more than the reads' part of ONE quota, another key's order and cancel go
 * through either replica, and with Redis gone a replica keeps answering on its own budget, never
 * with a 5xx. Before the shared budget each replica had a whole quota of its own to give.
 */
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { request, type HttpResponse as GatewayResponse } from '../support/http-client.js';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { metricSum, parseMetrics } from '../reliability/stack.js';

const KEY_A = 'hostile-key-a-0123456789abcdef';
const KEY_B = 'trader-key-b-0123456789abcdef';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

const kucoin = mockKucoin();
let redis: TestRedis;
const running: RunningGateway[] = [];
let accountReads = 0;

beforeAll(async () => {
  kucoin.listen();
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
  kucoin.reset();
  accountReads = 0;
});
afterAll(async () => {
  kucoin.close();
  await redis?.stop();
});

async function replicas(count: number, prefix: string): Promise<RunningGateway[]> {
  kucoin.server.use(
    http.get(`${KUCOIN}/api/v1/account-overview`, () => ((accountReads += 1), HttpResponse.json(fixture('account-overview')))),
    http.get(`${KUCOIN}/api/v2/position/getMarginMode`, ({ request: req }) => json({ symbol: new URL(req.url).searchParams.get('symbol'), marginMode: 'CROSS' })),
    http.post(`${KUCOIN}/api/v1/orders`, async ({ request: req }) => json({ orderId: '9001', clientOid: ((await req.json()) as { clientOid: string }).clientOid })),
    http.delete(`${KUCOIN}/api/v1/orders/:id`, () => HttpResponse.json(fixture('order-cancel'))),
  );
  for (let i = 0; i < count; i++) {
    running.push(
      await startGateway({
        FEATURE_FUTURES: 'true',
        FUTURES_BASE_URL: KUCOIN,
        ...TEST_CREDENTIALS,
        GATEWAY_API_KEYS: `${KEY_A},${KEY_B}`,
        // Weight 200 per 30 s for the account: 10 headroom, 40 kept for writes, 150 for reads.
        KUCOIN_FUTURES_POOL_QUOTA: '200',
        RATE_LIMIT_MAX: '0',
        READS_FROM_STREAM: 'false',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
      }),
    );
  }
  const started = running.slice(-count);
  // A replica that has not reached Redis yet spends its own budget (counted as a fallback): the
  // tests start once every replica is connected, as a load balancer's readiness check would.
  for (const g of started) {
    await vi.waitFor(async () => expect(metricSum(parseMetrics((await request(g.baseUrl, 'GET', '/metrics')).text), 'gateway_redis_up')).toBe(1), { timeout: 5_000, interval: 20 });
  }
  return started;
}

const readAccount = (g: RunningGateway, key: string) => request(g.baseUrl, 'GET', '/api/futures/account', { headers: as(key) });

describe('two replicas, one Redis', () => {
  it("give one key reading flat out through both no more than one quota's reads, and keep another key's order and cancel", async () => {
    const [one, two] = await replicas(2, 'e2e1:');
    const answers: GatewayResponse[] = [];
    for (let round = 0; round < 10; round++) {
      answers.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => readAccount(i % 2 === 0 ? one! : two!, KEY_A)))));
    }
    expect(answers.every((res) => res.status === 200 || res.status === 429)).toBe(true);
    expect(answers.some((res) => res.status === 429)).toBe(true);
    // KuCoin's count is what matters (identical concurrent reads share one call): a lone reader gets
    // 150 less the newcomer's 15, at weight 5 a read 27 reads, whichever replica sent them.
    expect(accountReads).toBeGreaterThan(0);
    expect(accountReads).toBeLessThanOrEqual(27);
    for (const g of [one!, two!]) {
      const order = await request(g.baseUrl, 'POST', '/api/futures/orders', { headers: as(KEY_B), json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } });
      expect(order.status, JSON.stringify(order.body)).toBe(201);
      const cancel = await request(g.baseUrl, 'DELETE', '/api/futures/orders/234125150956625920', { headers: as(KEY_B) });
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    }
    const metrics = parseMetrics((await request(one!.baseUrl, 'GET', '/metrics')).text);
    expect(metricSum(metrics, 'gateway_upstream_budget_shared')).toBe(1);
    expect(metricSum(metrics, 'gateway_upstream_budget_fallbacks_total')).toBe(0);
  });

  it('keep answering on their own budget while Redis is gone, counted, never with a 5xx', async () => {
    const [one] = await replicas(1, 'e2e2:');
    expect((await readAccount(one!, KEY_B)).status).toBe(200);
    await redis.kill();
    try {
      const read = await readAccount(one!, KEY_B);
      expect(read.status, JSON.stringify(read.body)).toBe(200);
      const order = await request(one!.baseUrl, 'POST', '/api/futures/orders', { headers: as(KEY_B), json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } });
      expect(order.status, JSON.stringify(order.body)).toBe(201);
      const metrics = parseMetrics((await request(one!.baseUrl, 'GET', '/metrics')).text);
      expect(metricSum(metrics, 'gateway_upstream_budget_shared')).toBe(0);
      expect(metricSum(metrics, 'gateway_upstream_budget_fallbacks_total', { pool: 'futures' })).toBeGreaterThanOrEqual(2);
      expect(metricSum(metrics, 'gateway_redis_errors_total', { use: 'budget' })).toBeGreaterThanOrEqual(2);
    } finally {
      await redis.restart();
    }
  });
});
