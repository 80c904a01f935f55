import type { PushFrame } from './frames.js';

/** Enough for a handover's few seconds of pushes; past it the oldest are forgotten. */
const MAX_REMEMBERED = 10_000;

/**
 * The duplicate filter of a make-before-break switch. While both connections are subscribed, the
 * same event reaches both, in no fixed order. The old connection's pushes are remembered until the
 * switch; afterwards, a push of the new one that matches a remembered one is the same event again.
 * Each remembered push cancels one match, so repeats of equal content are kept.
 */
export class Handover {
  readonly #delivered = new Map<string, number>();
  #switched = false;

  get switched(): boolean {
    return this.#switched;
  }

  /** The old connection delivered this push (before the switch). */
  remember(push: PushFrame): void {
    if (this.#switched) return;
    const key = fingerprint(push);
    this.#delivered.set(key, (this.#delivered.get(key) ?? 0) + 1);
    if (this.#delivered.size > MAX_REMEMBERED) this.#delivered.delete(this.#delivered.keys().next().value!);
  }

  switch(): void {
    this.#switched = true;
  }

  /** True when the new connection's push was already delivered by the old one; consumes that match. */
  isRepeat(push: PushFrame): boolean {
    const key = fingerprint(push);
    const count = this.#delivered.get(key);
    if (count === undefined) return false;
    if (count <= 1) this.#delivered.delete(key);
    else this.#delivered.set(key, count - 1);
    return true;
  }
}

function fingerprint(push: PushFrame): string {
  return `${push.topic}\n${push.subject}\n${JSON.stringify(push.data)}`;
}
