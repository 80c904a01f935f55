import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/http/errors.js';
import { RateBudget } from '../../src/kucoin/rate-budget.js';

const budget = (futures: number, now = () => 0) => new RateBudget({ limits: { futures, public: 2000 }, now });

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
      fc.property(fc.array(fc.tuple(fc.constantFrom('send', 'arrive', 'answer', 'lose', 'timeout'), fc.nat(50), fc.integer({ min: 1, max: 3 })), { minLength: 100, maxLength: 400, size: 'max' }), (steps) => {
        const b = budget(limit);
        let counted = 0;
        const sent: number[] = []; // weights sent, not yet at KuCoin
        const arrived: number[] = []; // weights KuCoin counted, not yet answered
        for (const [action, pick, weight] of steps) {
          if (action === 'send') {
            try {
              b.reserve('futures', weight, 'model');
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
});
