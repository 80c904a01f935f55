/**
 * Reconnect delays: exponential with "full jitter" (a uniform delay below the exponential ceiling),
 * so gateways that lost KuCoin together do not come back together.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #ceilingMs: number;

  constructor(options: { initialMs: number; maxMs: number }, random: () => number = Math.random) {
    const { initialMs, maxMs } = options;
    if (!(Number.isFinite(initialMs) && initialMs > 0)) throw new RangeError(`backoff.initialMs must be a positive number, got ${initialMs}`);
    if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) throw new RangeError(`backoff.maxMs must be a number of at least initialMs, got ${maxMs}`);
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#random = random;
    this.#ceilingMs = initialMs;
  }

  /** The next delay in ms: in [0, min(maxMs, initialMs · 2^n)) for the n-th call since the last reset. */
  next(): number {
    const ceiling = this.#ceilingMs;
    this.#ceilingMs = Math.min(this.#maxMs, ceiling * 2);
    return Math.floor(Math.min(Math.max(this.#random(), 0), 1) * ceiling);
  }

  reset(): void {
    this.#ceilingMs = this.#initialMs;
  }
}
