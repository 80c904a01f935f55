/**
 * One idempotency record per key for every replica (REDIS_URL): gateways sharing one real
 * redis-server against the KuCoin simulator (in process). The simulator holds clientOids for
 * active orders only (`active`, Kucoin/kucoin-api-docs #468), the case where only the gateway's own
 * records stand between a retried request on another replica and a second order: a filled MARKET
 * order's clientOid is not refused again.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gatewayEnvForSimulator, loadSimConfig } from '../../src/simulator/config.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { startGatewayProcess, stopGatewayProcesses } from '../support/process.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const SIM_ENV = { SIM_PORT: '0', SIM_KEY: 'replicas-key', SIM_SECRET: 'replicas-secret-0123456789abcdef', SIM_PASSPHRASE: 'replicas-passphrase' };
let sim: RunningSimulator;
let redis: TestRedis;
const gateways: RunningGateway[] = [];
let prefix = 0;

function envFor(redisUrl: string | undefined, keyPrefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FEATURE_FUTURES: 'true',
    ...gatewayEnvForSimulator(sim.url, SIM_ENV),
    UPSTREAM_TIMEOUT_MS: '1000',
    UPSTREAM_DEADLINE_MS: '3000',
    RATE_LIMIT_MAX: '0',
    READS_FROM_STREAM: 'false',
    ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: keyPrefix }),
    ...extra,
  };
}

/** `count` gateways sharing `redisUrl` (none: each its own memory, as before this change). */
async function replicas(count: number, redisUrl: string | undefined = redis.url): Promise<RunningGateway[]> {
  const keyPrefix = `replicas${++prefix}:`;
  const started = await Promise.all(Array.from({ length: count }, () => startGateway(envFor(redisUrl, keyPrefix))));
  gateways.push(...started);
  return started;
}

const post = (g: { baseUrl: string }, body: Record<string, unknown>, key: string) =>
  request(g.baseUrl, 'POST', '/api/futures/orders', { json: body, headers: { 'idempotency-key': key } });
const ordersWith = (clientOid: string) => sim.engine.snapshot().state.orders.filter((o) => o.clientOid === clientOid);
const posts = () => sim.app.counters.get('POST /api/v1/orders') ?? 0;
const lookups = () => sim.app.counters.get('GET /api/v1/orders/byClientOid') ?? 0;
const futuresWeight = () => sim.app.pools.usage().futures?.weight ?? 0;
const redisErrors = async (g: RunningGateway) =>
  (await g.gateway.metrics.registry.getSingleMetric('gateway_redis_errors_total')?.get())?.values.find((v) => v.labels.use === 'idempotency')?.value ?? 0;

/** Fills at once: in the `active` scope its clientOid is free again as soon as it is placed. */
const MARKET = { symbol: 'ETHUSDTM', side: 'BUY', type: 'MARKET', qty: 1, leverage: 5, marginMode: 'isolated' };
/** Rests below a mark of 3000. */
const RESTING = { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 2990, leverage: 5, marginMode: 'isolated' };

const until = async <T>(attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

beforeAll(async () => {
  [sim, redis] = await Promise.all([startSimulator({ config: loadSimConfig(SIM_ENV), timers: false }), startRedis()]);
});
beforeEach(() => {
  sim.engine.reset();
  sim.app.faults.clear();
  sim.app.counters.clear();
  sim.app.pools.reset();
  sim.engine.setOrderQueries({ clientOidScope: 'active', lookupLagMs: 0 });
  sim.engine.setMark('ETHUSDTM', 3000, true);
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
  await stopGatewayProcesses();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

describe('one idempotency record per key across replicas', () => {
  it('the same key with qty 2 on B after qty 1 on A: 409 IDEMPOTENCY_CONFLICT carrying the real order (qty 1), nothing placed', async () => {
    const [a, b] = await replicas(2);
    const first = await post(a!, MARKET, 'qty-change');
    expect(first.status).toBe(201);
    const res = await post(b!, { ...MARKET, qty: 2 }, 'qty-change');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', clientOid: 'qty-change', existingOrder: { orderId: first.body.data.orderId, clientOid: 'qty-change', qty: 1, side: 'BUY', type: 'MARKET' } });
    expect(ordersWith('qty-change')).toHaveLength(1);
    expect(posts()).toBe(1);
  });

  it('10 concurrent same-body requests over 3 replicas: one order, one first-time answer, nine replays of it, KuCoin weight 2', async () => {
    const three = await replicas(3);
    // Each replica reads the contract list once (Public pool) before the burst.
    await Promise.all(three.map((g) => request(g.baseUrl, 'GET', '/api/futures/contracts/ETHUSDTM')));
    const weightBefore = futuresWeight();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(three[i % 3]!, MARKET, 'burst')));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(201));
    const [order] = ordersWith('burst');
    expect(ordersWith('burst')).toHaveLength(1);
    expect(answers.filter((r) => r.headers.get('idempotent-replayed') === 'false')).toHaveLength(1);
    expect(answers.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    expect(new Set(answers.map((r) => r.body.data.orderId))).toEqual(new Set([order!.id]));
    expect(posts()).toBe(1);
    expect(futuresWeight() - weightBefore).toBe(2);
  });

  it.each([
    ['reached KuCoin', 'found by clientOid: that order, no second POST', false],
    ['never reached KuCoin', 'nothing found once conclusive: placed exactly once', true],
  ])('a claimant killed mid-order whose POST %s: the next request waits, then takes the key over after the lease and settles first; %s', async (_what, _then, lost) => {
    const keyPrefix = `replicas${++prefix}:`;
    const claimant = await startGatewayProcess({ env: envFor(redis.url, keyPrefix, { UPSTREAM_TIMEOUT_MS: '2000' }) });
    const [b] = await Promise.all([startGateway(envFor(redis.url, keyPrefix))]);
    gateways.push(b!);
    // The POST is held 1.5 s at KuCoin; then placed, or (lost) answered 503 without reaching the account.
    sim.app.faults.add({ match: { method: 'POST', path: '/api/v1/orders' }, times: 1, phase: 'before', action: { type: 'latency', ms: 1_500 } });
    if (lost) sim.app.faults.add({ match: { method: 'POST', path: '/api/v1/orders' }, times: 1, phase: 'before', action: { type: 'http', status: 503 } });
    const key = lost ? 'orphan-lost' : 'orphan-placed';
    const dying = post(claimant, MARKET, key).catch(() => undefined);
    await until(async () => (posts() === 1 ? true : undefined), 10_000);
    claimant.signal('SIGKILL');
    await claimant.exited;
    await dying;

    // While the dead claimant's lease (its deadline + 2 s) runs, B waits until its own deadline and sends nothing.
    const waited = await post(b!, MARKET, key);
    expect(waited.status).toBe(502);
    expect(waited.body).toMatchObject({ code: 'ORDER_UNCONFIRMED', clientOid: key });
    expect(posts()).toBe(1);

    const settled = await until(async () => {
      const res = await post(b!, MARKET, key);
      if (res.status === 201) return res;
      expect(res.status).toBe(502);
      expect(res.body.code).toBe('ORDER_UNCONFIRMED');
      return undefined;
    }, 20_000);
    const orders = ordersWith(key);
    expect(orders).toHaveLength(1);
    expect(settled.body.data.orderId).toBe(orders[0]!.id);
    // Found: an order the dead claimant placed (replayed); lost: placed now, by B's one POST.
    expect(settled.body.data.replayed).toBe(!lost);
    expect(posts()).toBe(lost ? 2 : 1);
    expect(await post(b!, MARKET, key)).toMatchObject({ status: 201, body: { data: { orderId: orders[0]!.id, replayed: true } } });
  });

  it('Redis down: each replica falls back to its own memory, settling first, and there is still exactly one order per key', async () => {
    const own = await startRedis();
    try {
      const [a, b, c] = await replicas(3, own.url);
      const placed = await post(a!, MARKET, 'down-retry');
      expect(placed.status).toBe(201);
      await own.kill();

      // The filled MARKET order's clientOid is free at KuCoin again: only settling first finds it.
      const retried = await post(b!, MARKET, 'down-retry');
      expect(retried.status).toBe(201);
      expect(retried.body.data).toMatchObject({ orderId: placed.body.data.orderId, replayed: true });
      expect(ordersWith('down-retry')).toHaveLength(1);

      // A new key: one round of lookups (KuCoin's word, nothing to wait out), then one POST.
      const lookupsBefore = lookups();
      const fresh = await post(c!, { ...RESTING, price: 2980 }, 'down-fresh');
      expect(fresh.status).toBe(201);
      expect(lookups() - lookupsBefore).toBe(1);
      expect(ordersWith('down-fresh')).toHaveLength(1);

      // A new key sent to all three at once: KuCoin refuses the repeats (300018) while the order rests.
      const burst = await Promise.all([a, b, c, a, b, c].map((g) => post(g!, RESTING, 'down-burst')));
      expect(burst.map((r) => r.status)).toEqual(Array(6).fill(201));
      expect(ordersWith('down-burst')).toHaveLength(1);
      expect(new Set(burst.map((r) => r.body.data.orderId))).toEqual(new Set([ordersWith('down-burst')[0]!.id]));
      expect(await redisErrors(b!)).toBeGreaterThan(0);
    } finally {
      await own.stop();
    }
  });
});
