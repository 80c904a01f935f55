/**
 * One KuCoin budget for every replica (issue 15 §3). Before, each replica kept its own RateBudget:
 * 3 replicas × 100 clients filled KuCoin's window to 2,000 of 2,000 and drew 43–78 429s a run, while
 * no replica alone ever passed 95 %. Here three budgets share one real Redis, as three replicas do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { RateBudget, type Claim, type Reservation } from '../../src/kucoin/rate-budget.js';
import { RedisRateBudget } from '../../src/kucoin/rate-budget-redis.js';
import { SharedRateBudget } from '../../src/kucoin/rate-budget-shared.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { closeSharedRedis, connectShared, startRedis, type TestRedis } from '../support/redis.js';
import { metric, waitFor } from './stream-supervisor-harness.js';

let redis: TestRedis;
let namespaces = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await closeSharedRedis();
  await redis?.stop();
});

const connect = (url = redis.url, metrics: Metrics = createMetrics()) => connectShared(url, { metrics });

/** `count` replicas, each with its own connection, spending one account's pools (limit 200 unless told). */
async function replicas(count: number, options: { limit?: number; now?: () => number; leaseMs?: number } = {}): Promise<RedisRateBudget[]> {
  const namespace = `shared${(namespaces += 1)}`;
  return Promise.all(
    Array.from({ length: count }, async () => {
      const shared = await connect();
      return new RedisRateBudget({
        client: shared.client,
        key: (...parts) => shared.key(namespace, ...parts),
        account: 'acct',
        limits: { futures: options.limit ?? 200, public: 2000 },
        reservedPools: ['futures'],
        ...(options.now ? { now: options.now } : {}),
        ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
      });
    }),
  );
}

const read = (caller: string): Claim => ({ caller, spend: 'read' });
const write = (caller: string): Claim => ({ caller, spend: 'write' });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('three replicas on one Redis', () => {
  // Quota 200: headroom 10, write reserve 40, reads share 150; KuCoin modelled as counting each call
  // when it arrives and reporting what is left on its answer. Windows are Redis's TIME (30 s).
  it('never let KuCoin count more than the quota less the headroom, whatever many callers on all three do at once', async () => {
    const budgets = await replicas(3);
    const limit = 200;
    let counted = 0;
    let peak = 0;
    let refusedReads = 0;
    const call = async (b: RedisRateBudget, weight: number, claim: Claim): Promise<boolean> => {
      let reservation;
      try {
        reservation = await b.reserve('futures', weight, 'flood', claim);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        if (claim.spend === 'read') refusedReads += 1;
        return false;
      }
      counted += weight;
      peak = Math.max(peak, counted);
      await tick(); // others reserve while this one is "at KuCoin"
      await reservation.settle({ limit, remaining: Math.max(0, limit - counted), resetMs: 30_000 });
      return true;
    };
    // 30 callers, 10 on each replica, two waves of 5 concurrent weight-2 reads each: 600 asked of 150.
    const flood = budgets.flatMap((b, r) => Array.from({ length: 10 }, (_, c) => Array.from({ length: 10 }, () => call(b, 2, read(`ip:${r}-${c}`)))).flat());
    // An order, a cancel and a close through each replica while the reads flood from all three.
    const trades = budgets.flatMap((b) => [call(b, 2, write('key:trader')), call(b, 1, write('key:trader')), call(b, 2, write('key:trader'))]);
    const [reads, writes] = await Promise.all([Promise.all(flood), Promise.all(trades)]);
    expect(writes.every(Boolean)).toBe(true);
    const readWeight = reads.filter(Boolean).length * 2;
    // Reads never went past their part (150), and the whole never past 190.
    expect(readWeight).toBeLessThanOrEqual(150);
    expect(peak).toBeLessThanOrEqual(190);
    expect(counted).toBe(readWeight + 15);
    expect(refusedReads).toBeGreaterThan(0);
    // And after the flood, the reserve still holds an order, a cancel and a close on every replica.
    for (const b of budgets) {
      await call(b, 2, write('key:trader'));
      await call(b, 1, write('key:trader'));
      await call(b, 2, write('key:trader'));
    }
    expect(counted).toBeLessThanOrEqual(190);
  });

  it('shares the readable part between callers whichever replica serves them', async () => {
    const [a, b] = await replicas(2);
    await b!.reserve('futures', 1, 'ip:b once through replica b', read('ip:b'));
    let taken = 0;
    for (;;) {
      try {
        await a!.reserve('futures', 1, 'ip:a through replica a', read('ip:a'));
        taken += 1;
      } catch (error) {
        expect(error).toMatchObject({ message: expect.stringMatching(/share .* 2 callers reading/) as unknown });
        break;
      }
    }
    expect(taken).toBe(75);
  });

  it("corrects by KuCoin's remaining less the weight every replica still has in flight", async () => {
    const [a, b, c] = await replicas(3);
    const first = await a!.reserve('futures', 2, 'first');
    await b!.reserve('futures', 3, 'second, still out');
    // KuCoin answers the first having seen only it: 198. The 3 of replica b are still in flight.
    await first.settle({ limit: 200, remaining: 198, resetMs: 30_000 });
    expect(await c!.remaining('futures')).toBe(195);
    expect(await c!.inFlight('futures')).toBe(3);
    // A new quota announced through one replica is every replica's. The 3 still out were reserved
    // before this call, so KuCoin's 395 is taken to count them already.
    await (await c!.reserve('futures', 1, 'third')).settle({ limit: 400, remaining: 395, resetMs: 30_000 });
    expect(await a!.remaining('futures')).toBe(395);
    expect(a!.writeReserve('futures')).toBe(80);
  });

  it('does not take off again the calls reserved before the answered one: KuCoin counted those first', async () => {
    const [a, b] = await replicas(2);
    const early = await a!.reserve('futures', 2, 'sent first, answer still out');
    const late = await b!.reserve('futures', 3, 'sent second, answered first');
    // KuCoin answers the second having counted both: 195 left. The first is still in flight but
    // already counted; taking it off again (193) is what let a read flood eat the write reserve.
    await late.settle({ limit: 200, remaining: 195, resetMs: 30_000 });
    expect(await a!.remaining('futures')).toBe(195);
    await early.settle({ limit: 200, remaining: 195, resetMs: 30_000 });
    expect(await b!.remaining('futures')).toBe(195);
    expect(await b!.inFlight('futures')).toBe(0);
  });

  it('stops counting a reservation no replica settled (one died) once its lease is over; its weight stays spent', async () => {
    let now = 1_000_000;
    const [a, b] = await replicas(2, { now: () => now, leaseMs: 5_000 });
    await a!.reserve('futures', 5, 'sent by a replica that then died');
    expect(await b!.inFlight('futures')).toBe(5);
    now += 5_001;
    expect(await b!.inFlight('futures')).toBe(0);
    expect(await b!.remaining('futures')).toBe(195);
    // KuCoin's figure is then taken as it stands.
    await (await b!.reserve('futures', 1, 'x')).settle({ remaining: 190 });
    expect(await a!.remaining('futures')).toBe(190);
  });

  it('leaves nothing behind: every key it writes expires', async () => {
    const [a] = await replicas(1);
    const r = await a!.reserve('futures', 2, 'x', read('ip:a'));
    await r.settle({ remaining: 100, resetMs: 30_000 });
    const shared = await connect();
    const keys = await shared.client.keys(`test:shared${namespaces}:*`);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) expect(await shared.client.pttl(key)).toBeGreaterThan(0);
  });
});

describe('SharedRateBudget: Redis unreachable', () => {
  it("falls back to the replica's own budget, counted, never refusing for it, and returns to the shared one", async () => {
    const own = await startRedis();
    try {
      const metrics = createMetrics();
      const shared = await connect(own.url, metrics);
      const local = new RateBudget({ limits: { futures: 200, public: 2000 }, reservedPools: ['futures'] });
      const store = new RedisRateBudget({ client: shared.client, key: (...parts) => shared.key('fallback', ...parts), account: 'acct', limits: { futures: 200, public: 2000 }, reservedPools: ['futures'] });
      const budget = new SharedRateBudget({ store, local, redis: shared, metrics });

      const before = await budget.reserve('futures', 2, 'while Redis is up', read('ip:a'));
      expect(await metric(metrics, 'gateway_upstream_budget_shared')).toBe(1);
      await before.settle({ limit: 200, remaining: 120, resetMs: 30_000 });
      // Every answer keeps the replica's own budget current too.
      expect(local.remaining('futures')).toBe(120);
      const pending: Reservation = await budget.reserve('futures', 2, 'sent before Redis went away', write('key:b'));

      await own.kill();
      await waitFor('Redis down', () => !shared.up);
      const during = await budget.reserve('futures', 2, 'while Redis is down', read('ip:a'));
      expect(local.remaining('futures')).toBe(118);
      expect(await metric(metrics, 'gateway_upstream_budget_shared')).toBe(0);
      expect(await metric(metrics, 'gateway_upstream_budget_fallbacks_total', { pool: 'futures' })).toBe(1);
      expect(await metric(metrics, 'gateway_redis_errors_total', { use: 'budget' })).toBeGreaterThanOrEqual(1);
      // Ending reservations never rejects, wherever they were made.
      await expect(pending.settle({ remaining: 110 })).resolves.toBeUndefined();
      await during.settle({ remaining: 100 });
      expect(local.remaining('futures')).toBe(100);
      // KuCoin's refusals still come from the budget in use: its own, corrected to 100.
      for (let i = 0; i < 50; i++) await budget.reserve('futures', 1, 'reads', read(`ip:${i}`)).catch(() => undefined);
      expect(local.remaining('futures')).toBeGreaterThanOrEqual(50);

      await own.restart();
      await waitFor('Redis back', () => shared.up, 5_000);
      await budget.reserve('futures', 2, 'Redis is back', read('ip:a'));
      expect(await metric(metrics, 'gateway_upstream_budget_shared')).toBe(1);
      expect(await store.inFlight('futures')).toBe(2);
    } finally {
      await own.stop();
    }
  });
});
