/** The simulator's resource pools (src/simulator/rest/rate-limit.ts) and their usage count. */
import { describe, expect, it } from 'vitest';
import { ResourcePools } from '../../src/simulator/rest/rate-limit.js';

describe('ResourcePools usage', () => {
  it('counts weight spent per second and per window, and the calls the pool refused', () => {
    let now = 1_000_000;
    const pools = new ResourcePools({ limits: { futures: 10, public: 2000 }, windowMs: 30_000, now: () => now });
    expect([pools.take('futures', 4), pools.take('futures', 4), pools.take('futures', 4)]).toEqual([true, true, false]);
    now += 1_500;
    expect(pools.take('futures', 2)).toBe(true);
    now += 30_000; // a new window
    expect(pools.take('futures', 5)).toBe(true);
    expect(pools.usage().futures).toEqual({
      limit: 10,
      calls: 4,
      weight: 15,
      refused: 1,
      maxWindowWeight: 10,
      perSecond: [
        [1000, 8],
        [1001, 2],
        [1031, 5],
      ],
    });
    expect(pools.usage().public).toMatchObject({ calls: 0, weight: 0, refused: 0 });
    pools.reset();
    expect(pools.usage().futures).toMatchObject({ calls: 0, weight: 0, refused: 0, maxWindowWeight: 0, perSecond: [] });
  });
});
