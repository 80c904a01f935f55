/**
 * One pending retry at a time, with a delay that doubles on each retry up to a ceiling and goes
 * back to the start once the retried work succeeds (the feed's failed REST snapshots).
 */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export class RetryTimer {
  readonly #backoff: Backoff;
  readonly #run: () => void;
  #timer: NodeJS.Timeout | undefined;
  #delayMs: number;

  constructor(backoff: Backoff, run: () => void) {
    this.#backoff = backoff;
    this.#run = run;
    this.#delayMs = backoff.initialMs;
  }

  /** A retry is scheduled and has not run yet. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** The delay the next `schedule` waits. */
  get delayMs(): number {
    return this.#delayMs;
  }

  /** Replaces any pending retry with one after `delayMs`, and doubles the delay for the next. */
  schedule(): void {
    this.cancel();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run();
    }, this.#delayMs);
    // A retry alone must not keep the process alive.
    this.#timer.unref();
    this.#delayMs = Math.min(this.#backoff.maxMs, this.#delayMs * 2);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The work succeeded: the next failure waits the initial delay again. */
  reset(): void {
    this.#delayMs = this.#backoff.initialMs;
  }
}
