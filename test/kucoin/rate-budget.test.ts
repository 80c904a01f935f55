import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { endpoints } from '../../src/kucoin/endpoints.js';
import { RateBudget, type Claim, type RefusalKind } from '../../src/kucoin/rate-budget.js';

const budget = (futures: number, now = () => 0) => new RateBudget({ limits: { futures, public: 2000 }, now });
const read = (caller: string): Claim => ({ caller, spend: 'read' });
const write = (caller: string): Claim => ({ caller, spend: 'write' });

/** Reserves until refused (bounded); returns the weight taken and the refusal. */
function drain(b: RateBudget, weight: number, claim: Claim, max = 1_000): { taken: number; refusal: GatewayError } {
  let taken = 0;
  for (let i = 0; i < max; i++) {
    try {
      b.reserve('futures', weight, 'drain', claim);
      taken += weight;
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return { taken, refusal: error };
    }
  }
  throw new Error(`never refused after ${max} calls`);
}

describe('RateBudget', () => {
  it('takes the weight of calls still in flight off the remaining KuCoin reports', () => {
    const b = budget(100);
    b.reserve('futures', 2, 'first');
    b.reserve('futures', 2, 'second');
    expect(b.remaining('futures')).toBe(96);
    // KuCoin answers the first having seen only it: 98 left by its count. The second is still out.
    b.settle('futures', 2, { limit: 100, remaining: 98, resetMs: 30_000 });
    expect(b.remaining('futures')).toBe(96);
    expect(b.inFlight('futures')).toBe(2);
    // The second's answer has seen both.
    b.settle('futures', 2, { limit: 100, remaining: 96, resetMs: 29_000 });
    expect(b.remaining('futures')).toBe(96);
    expect(b.inFlight('futures')).toBe(0);
  });

  it('keeps the weight of a call that got no answer spent (KuCoin may have counted it)', () => {
    const b = budget(100);
    b.reserve('futures', 5, 'lost');
    b.settle('futures', 5);
    expect(b.remaining('futures')).toBe(95);
    expect(b.inFlight('futures')).toBe(0);
  });

  it('refuses, without spending, a call that would dip into the 5 % headroom', () => {
    const b = budget(100);
    for (let i = 0; i < 95; i++) b.reserve('futures', 1, 'fill');
    expect(() => b.reserve('futures', 1, 'one more')).toThrow(GatewayError);
    expect(b.remaining('futures')).toBe(5);
    expect(b.inFlight('futures')).toBe(95);
  });

  it('a new window restores the quota; KuCoin’s headers move the reset', () => {
    let now = 0;
    const b = budget(100, () => now);
    b.reserve('futures', 50, 'a');
    b.settle('futures', 50, { remaining: 50, resetMs: 10_000 });
    now = 9_999;
    expect(b.remaining('futures')).toBe(50);
    now = 10_000;
    expect(b.remaining('futures')).toBe(100);
  });

  // A model of KuCoin counting each call when it arrives and reporting what is left on its answer,
  // with calls arriving, being answered or lost in any order: however they interleave, KuCoin never
  // sees more than the quota less the headroom in its window. (Taking KuCoin's figure as it stands,
  // as the budget did before, fails this within a few runs.)
  it('never lets KuCoin count more than the quota less the headroom, whatever the interleaving', () => {
    const limit = 40;
    const ceiling = limit - Math.ceil(limit * 0.05);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('send', 'arrive', 'answer', 'lose', 'timeout'), fc.nat(50), fc.integer({ min: 1, max: 3 }), fc.constantFrom<Claim>(read('a'), read('b'), write('a'), write('b'))), { minLength: 100, maxLength: 400, size: 'max' }), (steps) => {
        const b = budget(limit);
        let counted = 0;
        const sent: number[] = []; // weights sent, not yet at KuCoin
        const arrived: number[] = []; // weights KuCoin counted, not yet answered
        for (const [action, pick, weight, claim] of steps) {
          if (action === 'send') {
            try {
              b.reserve('futures', weight, 'model', claim);
              sent.push(weight);
            } catch {
              /* refused by the budget: never sent */
            }
          } else if (action === 'arrive' && sent.length > 0) {
            const [w] = sent.splice(pick % sent.length, 1);
            counted += w!;
            arrived.push(w!);
          } else if (action === 'answer' && arrived.length > 0) {
            const [w] = arrived.splice(pick % arrived.length, 1);
            b.settle('futures', w!, { limit, remaining: Math.max(0, limit - counted), resetMs: 30_000 });
          } else if (action === 'lose' && sent.length > 0) {
            // Never reached KuCoin (connection refused): no answer, no count.
            const [w] = sent.splice(pick % sent.length, 1);
            b.settle('futures', w!);
          } else if (action === 'timeout' && arrived.length > 0) {
            // Counted by KuCoin, but its answer never came back.
            const [w] = arrived.splice(pick % arrived.length, 1);
            b.settle('futures', w!);
          }
          expect(counted).toBeLessThanOrEqual(ceiling);
        }
      }),
      { numRuns: 500, seed: 6 },
    );
  });

  describe('write reserve and fair reads (one client cannot starve another)', () => {
    // Quota 200: headroom 10, write reserve 40 (20 %), so reads share 150 and writes may go to 190.
    it('keeps no write reserve in a pool it is not asked to reserve (the Public pool serves reads)', () => {
      const b = new RateBudget({ limits: { futures: 200, public: 200 }, reservedPools: ['futures'], now: () => 0 });
      expect(b.writeReserve('futures')).toBe(40);
      expect(b.writeReserve('public')).toBe(0);
      // A lone reader of the Public pool may go to 90 % of quota less headroom (190): 171, not 135.
      let taken = 0;
      for (let i = 0; i < 1_000; i++) {
        try {
          b.reserve('public', 1, 'reading funding', read('key:a'));
          taken += 1;
        } catch {
          break;
        }
      }
      expect(taken).toBe(171);
    });

    it('keeps the write reserve from reads, and lets writes spend it', () => {
      const b = budget(200);
      expect(b.writeReserve('futures')).toBe(40);
      const { taken, refusal } = drain(b, 5, read('key:a'));
      expect(taken).toBeLessThanOrEqual(150);
      expect(refusal.code).toBe('UPSTREAM_RATE_LIMITED');
      expect(refusal.options.notSent).toBe(true);
      expect(b.remaining('futures')).toBeGreaterThanOrEqual(50);
      // Another caller's writes still go through, down to the headroom and no further.
      const writes = drain(b, 2, write('key:b'));
      expect(b.remaining('futures')).toBeGreaterThanOrEqual(10);
      expect(b.remaining('futures')).toBeLessThan(12);
      expect(writes.taken).toBeGreaterThanOrEqual(40);
      expect(writes.refusal.message).toMatch(/quota for this account is spent/);
    });

    it('never lets reads, from however many callers in whatever order, spend the reserve', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(20), fc.integer({ min: 1, max: 5 })), { minLength: 50, maxLength: 300 }), (reads) => {
          const b = budget(200);
          for (const [caller, weight] of reads) {
            try {
              b.reserve('futures', weight, 'read', read(`ip:${caller}`));
            } catch {
              /* refused */
            }
            expect(b.remaining('futures')).toBeGreaterThanOrEqual(50);
          }
          // Whatever the reads did, an order, a cancel and a close still fit.
          b.reserve('futures', 2, 'order', write('key:b'));
          b.reserve('futures', 1, 'cancel', write('key:b'));
          b.reserve('futures', 2, 'close', write('key:b'));
        }),
        { numRuns: 200, seed: 11 },
      );
    });

    it('refuses reads at the reserve even when the caller has share left', () => {
      const b = budget(200);
      b.reserve('futures', 140, 'a big write', write('gateway'));
      // 60 left: 50 of it is headroom and reserve, so a read of 15 would dip into the reserve.
      expect(() => b.reserve('futures', 15, 'reading', read('key:a'))).toThrow(/quota for reads is spent/);
      b.reserve('futures', 10, 'reading', read('key:a'));
      expect(b.remaining('futures')).toBe(50);
    });

    it('shares the readable part: alone, a caller gets most of it; two get half each', () => {
      const alone = budget(200);
      expect(drain(alone, 1, read('key:a')).taken).toBe(135); // 150 less the 15 kept for a newcomer

      const pair = budget(200);
      pair.reserve('futures', 1, 'b reads once', read('key:b'));
      const a = drain(pair, 1, read('key:a'));
      expect(a.taken).toBe(75);
      expect(a.refusal.message).toMatch(/This caller's share .* 2 callers reading/);
      expect(a.refusal.options.retryAfterSeconds).toBe(30);
      // B still reads up to its own half (less what a newcomer is kept).
      expect(drain(pair, 1, read('key:b')).taken).toBeGreaterThanOrEqual(59);
    });

    it('serves a caller arriving after another read everything it could, in the same window', () => {
      const b = budget(200);
      drain(b, 5, read('key:a'));
      for (let i = 0; i < 3; i++) b.reserve('futures', 5, 'newcomer reads', read('key:b'));
      // And its writes, which never depended on the reads.
      b.reserve('futures', 2, 'order', write('key:b'));
      b.reserve('futures', 1, 'cancel', write('key:b'));
      b.reserve('futures', 2, 'close', write('key:b'));
    });

    it('a new window forgets what each caller spent, but a caller refused last window still counts', () => {
      let now = 0;
      const b = budget(200, () => now);
      drain(b, 5, read('key:a'));
      expect(() => { for (let i = 0; i < 10; i++) b.reserve('futures', 5, 'c', read('ip:c')); }).toThrow(GatewayError);
      now = 30_000;
      // A and C both read last window (C was refused every time but for three), so A gets half of 150.
      expect(drain(b, 5, read('key:a')).taken).toBe(75);
      expect(drain(b, 5, read('ip:c')).taken).toBeGreaterThanOrEqual(60);
      // Two windows later nobody has read for a whole window: A alone again.
      now = 90_000;
      expect(drain(b, 5, read('key:a')).taken).toBe(135);
    });

    it('counts refusals by kind and reports the reserve, following the quota KuCoin announces', () => {
      const set: Array<[string, number]> = [];
      const refused: RefusalKind[] = [];
      const b = new RateBudget({
        limits: { futures: 200, public: 2000 },
        writeReserve: 0.25,
        now: () => 0,
        metrics: {
          upstreamBudgetWriteReserve: { set: ({ pool }, value) => set.push([pool, value]) },
          upstreamBudgetRefusals: { inc: ({ kind }) => refused.push(kind) },
        },
      });
      expect(set).toEqual([['futures', 50], ['public', 500]]);
      b.reserve('futures', 2, 'read', read('key:a'));
      b.settle('futures', 2, { limit: 400, remaining: 398, resetMs: 30_000 });
      expect(set.at(-1)).toEqual(['futures', 100]);
      drain(b, 5, read('key:a'));
      b.reserve('futures', 1, 'b', read('key:b'));
      drain(b, 100, read('key:b'));
      drain(b, 10, write('key:b'));
      expect(refused).toEqual(['read_share', 'read_reserve', 'pool']);
    });

    it('spends every write, and only the reads that serve a write, as writes', () => {
      const asWrites = Object.entries(endpoints).filter(([, e]) => e.spend === 'write').map(([name]) => name);
      expect(asWrites.sort()).toEqual(
        [...Object.entries(endpoints).filter(([, e]) => e.method !== 'GET').map(([name]) => name), 'getMarginMode', 'getOrderByClientOid', 'listDoneOrders', 'riskLimitTiers'].sort(),
      );
    });

    it('refuses a reserve and headroom that leave nothing to read', () => {
      expect(() => new RateBudget({ limits: { futures: 200, public: 2000 }, writeReserve: 0.95 })).toThrow(RangeError);
    });
  });
});
