import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/kucoin/stream/backoff.js';

describe('reconnect backoff (full jitter)', () => {
  it('doubles its ceiling up to the cap; the delay is the ceiling times the random draw', () => {
    const top = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0.999_999);
    expect(Array.from({ length: 7 }, () => top.next())).toEqual([99, 199, 399, 799, 999, 999, 999]);
    const half = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0.5);
    expect(Array.from({ length: 6 }, () => half.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const zero = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0);
    expect(Array.from({ length: 3 }, () => zero.next())).toEqual([0, 0, 0]);
  });

  it('stays within [0, maxMs) with any random draw', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    for (let i = 0; i < 200; i += 1) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(30_000);
    }
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0.5);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });

  it.each([
    [{ initialMs: 0, maxMs: 10 }],
    [{ initialMs: 10, maxMs: 5 }],
    [{ initialMs: Number.NaN, maxMs: 10 }],
  ])('refuses %o', (options) => {
    expect(() => new Backoff(options)).toThrow(RangeError);
  });
});
