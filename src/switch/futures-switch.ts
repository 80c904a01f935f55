/** Who flipped the switch and why, as logged and returned by the admin operation. */
export interface SwitchChange {
  enabled: boolean;
  by: string;
  reason: string | null;
}

export interface SwitchState {
  enabled: boolean;
  previous: boolean | null;
  changedAt: number | null;
  changedBy: string | null;
  reason: string | null;
}

type Listener = (state: SwitchState) => void;

/**
 * The kill switch FEATURE_FUTURES as a value read on every request, so an admin
 * flip takes effect for the very next request and socket without a restart.
 */
export class FuturesSwitch {
  #state: SwitchState;
  readonly #listeners = new Set<Listener>();
  readonly #now: () => number;

  constructor(initial: boolean, now: () => number = Date.now) {
    this.#now = now;
    this.#state = { enabled: initial, previous: null, changedAt: null, changedBy: null, reason: null };
  }

  get enabled(): boolean {
    return this.#state.enabled;
  }

  state(): SwitchState {
    return { ...this.#state };
  }

  /** Records the change (also a no-op one, so the audit trail shows every operator action). */
  set(change: SwitchChange): SwitchState {
    this.#state = {
      enabled: change.enabled,
      previous: this.#state.enabled,
      changedAt: this.#now(),
      changedBy: change.by,
      reason: change.reason,
    };
    const snapshot = this.state();
    for (const listener of this.#listeners) listener(snapshot);
    return snapshot;
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
