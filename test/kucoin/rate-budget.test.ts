import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { endpoints, type Pool } from '../../src/kucoin/endpoints.js';
import { RateBudget, type Claim, type RateBudgetOptions, type RefusalKind, type Reservation } from '../../src/kucoin/rate-budget.js';
import { RedisRateBudget } from '../../src/kucoin/rate-budget-redis.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/** One budget under test, whichever its store: the in-process one answers at once, Redis's later. */
interface Budget {
  reserve(pool: Pool, weight: number, context: string, claim?: Claim): Promise<Reservation>;
  remaining(pool: Pool): Promise<number>;
  inFlight(pool: Pool): Promise<number>;
  writeReserve(pool: Pool): number;
}

let redis: TestRedis;
let shared: SharedRedis;
let namespaces = 0;

beforeAll(async () => {
  redis = await startRedis();
  shared = new SharedRedis({ url: redis.url, keyPrefix: 'test:', logger: pino({ level: 'silent' }), metrics: createMetrics() });
  expect(await shared.ready(5_000)).toBe(true);
});
afterAll(async () => {
  await shared?.close();
  await redis?.stop();
});

const inProcess = (options: RateBudgetOptions): Budget => {
  const b = new RateBudget(options);
  return {
    reserve: async (...args) => b.reserve(...args),
    remaining: async (pool) => b.remaining(pool),
    inFlight: async (pool) => b.inFlight(pool),
    writeReserve: (pool) => b.writeReserve(pool),
  };
};

/** Each budget gets keys of its own on the one test Redis; `now` is sent to the script in place of TIME. */
const inRedis = (options: RateBudgetOptions): Budget => {
  const namespace = `b${(namespaces += 1)}`;
  const b = new RedisRateBudget({ ...options, client: shared.client, key: (...parts) => shared.key(namespace, ...parts), account: 'acct' });
  return { reserve: (...args) => b.reserve(...args), remaining: (pool) => b.remaining(pool), inFlight: (pool) => b.inFlight(pool), writeReserve: (pool) => b.writeReserve(pool) };
};

const read = (caller: string): Claim => ({ caller, spend: 'read' });
const write = (caller: string): Claim => ({ caller, spend: 'write' });

/** Reserves until refused (bounded); returns the weight taken and the refusal. */
async function drain(b: Budget, weight: number, claim: Claim, max = 1_000): Promise<{ taken: number; refusal: GatewayError }> {
  let taken = 0;
  for (let i = 0; i < max; i++) {
    try {
      await b.reserve('futures', weight, 'drain', claim);
      taken += weight;
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return { taken, refusal: error };
    }
  }
  throw new Error(`never refused after ${max} calls`);
}

/** The same cases against both stores; the Redis one runs fewer random cases (each step is a round trip). */
describe.each([
  { store: 'in-process', make: inProcess, runs: 1 },
  { store: 'Redis', make: inRedis, runs: 0.1 },
])('RateBudget ($store)', ({ make, runs }) => {
  const budget = (futures: number, now: () => number = () => 0) => make({ limits: { futures, public: 2000 }, now });
  it('takes the weight of calls still in flight off the remaining KuCoin reports', async () => {
    const b = budget(100);
    const first = await b.reserve('futures', 2, 'first');
    const second = await b.reserve('futures', 2, 'second');
    expect(await b.remaining('futures')).toBe(96);
    // KuCoin answers the first having seen only it: 98 left by its count. The second is still out.
    await first.settle({ limit: 100, remaining: 98, resetMs: 30_000 });
    expect(await b.remaining('futures')).toBe(96);
    expect(await b.inFlight('futures')).toBe(2);
    // The second's answer has seen both.
    await second.settle({ limit: 100, remaining: 96, resetMs: 29_000 });
    expect(await b.remaining('futures')).toBe(96);
    expect(await b.inFlight('futures')).toBe(0);
  });

  it('keeps the weight of a call that got no answer spent (KuCoin may have counted it)', async () => {
    const b = budget(100);
    await (await b.reserve('futures', 5, 'lost')).settle();
    expect(await b.remaining('futures')).toBe(95);
    expect(await b.inFlight('futures')).toBe(0);
  });

  it('gives back the weight of a call that was not sent after all, once', async () => {
    const b = budget(200);
    await b.reserve('futures', 1, 'b reads', read('key:b'));
    const r = await b.reserve('futures', 5, 'a reads', read('key:a'));
    await r.release();
    await r.release();
    expect(await b.remaining('futures')).toBe(199);
    expect(await b.inFlight('futures')).toBe(1);
    // A's share (half of 150) is whole again.
    expect((await drain(b, 5, read('key:a'))).taken).toBe(75);
  });

  it('refuses, without spending, a call that would dip into the 5 % headroom', async () => {
    const b = budget(100);
    for (let i = 0; i < 95; i++) await b.reserve('futures', 1, 'fill');
    await expect(b.reserve('futures', 1, 'one more')).rejects.toThrow(GatewayError);
    expect(await b.remaining('futures')).toBe(5);
    expect(await b.inFlight('futures')).toBe(95);
  });

  it('a new window restores the quota; KuCoin’s headers move the reset', async () => {
    let now = 0;
    const b = budget(100, () => now);
    await (await b.reserve('futures', 50, 'a')).settle({ remaining: 50, resetMs: 10_000 });
    now = 9_999;
    expect(await b.remaining('futures')).toBe(50);
    now = 10_000;
    expect(await b.remaining('futures')).toBe(100);
  });

  // A model of KuCoin counting each call when it arrives and reporting what is left on its answer,
  // with calls arriving, being answered or lost in any order: however they interleave, KuCoin never
  // sees more than the quota less the headroom in its window. (Taking KuCoin's figure as it stands,
  // as the budget did before, fails this within a few runs.)
  it('never lets KuCoin count more than the quota less the headroom, whatever the interleaving', async () => {
    const limit = 40;
    const ceiling = limit - Math.ceil(limit * 0.05);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('send', 'arrive', 'answer', 'lose', 'timeout'), fc.nat(50), fc.integer({ min: 1, max: 3 }), fc.constantFrom<Claim>(read('a'), read('b'), write('a'), write('b'))), { minLength: 100, maxLength: 400, size: 'max' }), async (steps) => {
        const b = budget(limit);
        let counted = 0;
        const sent: Reservation[] = []; // sent, not yet at KuCoin
        const arrived: Reservation[] = []; // KuCoin counted, not yet answered
        const weights = new Map<Reservation, number>();
        for (const [action, pick, weight, claim] of steps) {
          if (action === 'send') {
            try {
              const r = await b.reserve('futures', weight, 'model', claim);
              weights.set(r, weight);
              sent.push(r);
            } catch {
              /* refused by the budget: never sent */
            }
          } else if (action === 'arrive' && sent.length > 0) {
            const [r] = sent.splice(pick % sent.length, 1);
            counted += weights.get(r!)!;
            arrived.push(r!);
          } else if (action === 'answer' && arrived.length > 0) {
            const [r] = arrived.splice(pick % arrived.length, 1);
            await r!.settle({ limit, remaining: Math.max(0, limit - counted), resetMs: 30_000 });
          } else if (action === 'lose' && sent.length > 0) {
            // Never reached KuCoin (connection refused): no answer, no count.
            const [r] = sent.splice(pick % sent.length, 1);
            await r!.settle();
          } else if (action === 'timeout' && arrived.length > 0) {
            // Counted by KuCoin, but its answer never came back.
            const [r] = arrived.splice(pick % arrived.length, 1);
            await r!.settle();
          }
          expect(counted).toBeLessThanOrEqual(ceiling);
        }
      }),
      { numRuns: Math.ceil(500 * runs), seed: 6 },
    );
  });

  describe('write reserve and fair reads (one client cannot starve another)', () => {
    // Quota 200: headroom 10, write reserve 40 (20 %), so reads share 150 and writes may go to 190.
    it('keeps no write reserve in a pool it is not asked to reserve (the Public pool serves reads)', async () => {
      const b = make({ limits: { futures: 200, public: 200 }, reservedPools: ['futures'], now: () => 0 });
      expect(b.writeReserve('futures')).toBe(40);
      expect(b.writeReserve('public')).toBe(0);
      // A lone reader of the Public pool may go to 90 % of quota less headroom (190): 171, not 135.
      let taken = 0;
      for (let i = 0; i < 1_000; i++) {
        try {
          await b.reserve('public', 1, 'reading funding', read('key:a'));
          taken += 1;
        } catch {
          break;
        }
      }
      expect(taken).toBe(171);
    });

    it('keeps the write reserve from reads, and lets writes spend it', async () => {
      const b = budget(200);
      expect(b.writeReserve('futures')).toBe(40);
      const { taken, refusal } = await drain(b, 5, read('key:a'));
      expect(taken).toBeLessThanOrEqual(150);
      expect(refusal.code).toBe('UPSTREAM_RATE_LIMITED');
      expect(refusal.options.notSent).toBe(true);
      expect(await b.remaining('futures')).toBeGreaterThanOrEqual(50);
      // Another caller's writes still go through, down to the headroom and no further.
      const writes = await drain(b, 2, write('key:b'));
      expect(await b.remaining('futures')).toBeGreaterThanOrEqual(10);
      expect(await b.remaining('futures')).toBeLessThan(12);
      expect(writes.taken).toBeGreaterThanOrEqual(40);
      expect(writes.refusal.message).toMatch(/quota for this account is spent/);
    });

    it('never lets reads, from however many callers in whatever order, spend the reserve', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(20), fc.integer({ min: 1, max: 5 })), { minLength: 50, maxLength: 300 }), async (reads) => {
          const b = budget(200);
          for (const [caller, weight] of reads) {
            try {
              await b.reserve('futures', weight, 'read', read(`ip:${caller}`));
            } catch {
              /* refused */
            }
            expect(await b.remaining('futures')).toBeGreaterThanOrEqual(50);
          }
          // Whatever the reads did, an order, a cancel and a close still fit.
          await b.reserve('futures', 2, 'order', write('key:b'));
          await b.reserve('futures', 1, 'cancel', write('key:b'));
          await b.reserve('futures', 2, 'close', write('key:b'));
        }),
        { numRuns: Math.ceil(200 * runs), seed: 11 },
      );
    });

    it('refuses reads at the reserve even when the caller has share left', async () => {
      const b = budget(200);
      await b.reserve('futures', 140, 'a big write', write('gateway'));
      // 60 left: 50 of it is headroom and reserve, so a read of 15 would dip into the reserve.
      await expect(b.reserve('futures', 15, 'reading', read('key:a'))).rejects.toThrow(/quota for reads is spent/);
      await b.reserve('futures', 10, 'reading', read('key:a'));
      expect(await b.remaining('futures')).toBe(50);
    });

    it('shares the readable part: alone, a caller gets most of it; two get half each', async () => {
      const alone = budget(200);
      expect((await drain(alone, 1, read('key:a'))).taken).toBe(135); // 150 less the 15 kept for a newcomer

      const pair = budget(200);
      await pair.reserve('futures', 1, 'b reads once', read('key:b'));
      const a = await drain(pair, 1, read('key:a'));
      expect(a.taken).toBe(75);
      expect(a.refusal.message).toMatch(/This caller's share .* 2 callers reading/);
      expect(a.refusal.options.retryAfterSeconds).toBe(30);
      // B still reads up to its own half (less what a newcomer is kept).
      expect((await drain(pair, 1, read('key:b'))).taken).toBeGreaterThanOrEqual(59);
    });

    it('serves a caller arriving after another read everything it could, in the same window', async () => {
      const b = budget(200);
      await drain(b, 5, read('key:a'));
      for (let i = 0; i < 3; i++) await b.reserve('futures', 5, 'newcomer reads', read('key:b'));
      // And its writes, which never depended on the reads.
      await b.reserve('futures', 2, 'order', write('key:b'));
      await b.reserve('futures', 1, 'cancel', write('key:b'));
      await b.reserve('futures', 2, 'close', write('key:b'));
    });

    it('a new window forgets what each caller spent, but a caller refused last window still counts', async () => {
      let now = 0;
      const b = budget(200, () => now);
      await drain(b, 5, read('key:a'));
      await expect((async () => { for (let i = 0; i < 10; i++) await b.reserve('futures', 5, 'c', read('ip:c')); })()).rejects.toThrow(GatewayError);
      now = 30_000;
      // A and C both read last window (C was refused every time but for three), so A gets half of 150.
      expect((await drain(b, 5, read('key:a'))).taken).toBe(75);
      expect((await drain(b, 5, read('ip:c'))).taken).toBeGreaterThanOrEqual(60);
      // Two windows later nobody has read for a whole window: A alone again.
      now = 90_000;
      expect((await drain(b, 5, read('key:a'))).taken).toBe(135);
    });

    it('counts refusals by kind and reports the reserve, following the quota KuCoin announces', async () => {
      const set: Array<[string, number]> = [];
      const refused: RefusalKind[] = [];
      const b = make({
        limits: { futures: 200, public: 2000 },
        writeReserve: 0.25,
        now: () => 0,
        metrics: {
          upstreamBudgetWriteReserve: { set: ({ pool }, value) => set.push([pool, value]) },
          upstreamBudgetRefusals: { inc: ({ kind }) => refused.push(kind) },
        },
      });
      expect(set).toEqual([['futures', 50], ['public', 500]]);
      await (await b.reserve('futures', 2, 'read', read('key:a'))).settle({ limit: 400, remaining: 398, resetMs: 30_000 });
      expect(set.at(-1)).toEqual(['futures', 100]);
      expect(b.writeReserve('futures')).toBe(100);
      await drain(b, 5, read('key:a'));
      await b.reserve('futures', 1, 'b', read('key:b'));
      await drain(b, 100, read('key:b'));
      await drain(b, 10, write('key:b'));
      expect(refused).toEqual(['read_share', 'read_reserve', 'pool']);
    });

    it('refuses a reserve and headroom that leave nothing to read', () => {
      expect(() => make({ limits: { futures: 200, public: 2000 }, writeReserve: 0.95 })).toThrow(RangeError);
    });
  });
});

describe('RateBudget', () => {
  it('spends every write, and only the reads that serve a write, as writes', () => {
    const asWrites = Object.entries(endpoints).filter(([, e]) => e.spend === 'write').map(([name]) => name);
    expect(asWrites.sort()).toEqual(
      [...Object.entries(endpoints).filter(([, e]) => e.method !== 'GET').map(([name]) => name), 'getMarginMode', 'getOrderByClientOid', 'listDoneOrders', 'riskLimitTiers'].sort(),
    );
  });
});
