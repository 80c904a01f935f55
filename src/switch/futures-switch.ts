import { hostname } from 'node:os';
import type { RuntimeSwitchStore, SwitchFlip } from './runtime-store.js';

/** Who flips the runtime switch and why, as the admin operation passes it. */
export interface SwitchChange {
  enabled: boolean;
  by: string;
  reason: string | null;
}

export interface SwitchState {
  /** The effective value: `environment` and `runtime`. Every futures route and socket follows it. */
  enabled: boolean;
  /** FEATURE_FUTURES of this process: false holds futures off whatever the runtime switch says. */
  environment: boolean;
  /** The runtime switch (on until an admin turns it off); null while not known (Redis unreachable since start). */
  runtime: boolean | null;
  /** The runtime value before the last flip; null when never flipped or not known then. */
  previous: boolean | null;
  changedAt: number | null;
  changedBy: string | null;
  reason: string | null;
  /** The replica (`hostname:pid`) that served the last flip. */
  replica: string | null;
}

/** Why listeners are called: this replica's flip, the store's state read at start, or a change read from the store later (another replica's flip). */
export type ChangeCause = 'flip' | 'start' | 'store';

type Listener = (state: SwitchState, cause: ChangeCause) => void;

/** The store refused a flip (Redis unreachable): nothing changed. */
export class SwitchStoreUnavailable extends Error {
  constructor(cause: unknown) {
    super('the shared state holding the kill switch is unreachable', { cause });
    this.name = 'SwitchStoreUnavailable';
  }
}

export interface FuturesSwitchOptions {
  /** Where the runtime switch is kept; none keeps it in memory (unit tests). */
  store?: RuntimeSwitchStore;
  /** This replica's name in the flips it records. */
  replica?: string;
  /** Called with each failure of the store (counted and logged by the caller). */
  onStoreError?: (error: unknown) => void;
  now?: () => number;
}

/** `hostname:pid`: which replica served a flip. */
export function replicaName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * The kill switch: FEATURE_FUTURES of this process and a runtime switch kept in a store that
 * survives a restart and, with Redis, is shared by every replica. `enabled` is read synchronously
 * on every request and right before every KuCoin call; the store is only read at start, on a flip,
 * and when another replica's flip is heard.
 */
export class FuturesSwitch {
  readonly #environment: boolean;
  readonly #store: RuntimeSwitchStore | undefined;
  readonly #replica: string;
  readonly #onStoreError: (error: unknown) => void;
  readonly #now: () => number;
  readonly #listeners = new Set<Listener>();
  /** The last flip known (null: never flipped, so the runtime switch is on). */
  #flip: SwitchFlip | null = null;
  /** Whether the runtime switch is known: false until the store was read once. */
  #known: boolean;
  #enabled: boolean;
  #unwatch: (() => void) | undefined;
  /** Counts adopted states, so a read that started before one can tell it is stale. */
  #adoptions = 0;

  constructor(environment: boolean, options: FuturesSwitchOptions = {}) {
    this.#environment = environment;
    this.#store = options.store;
    this.#replica = options.replica ?? replicaName();
    this.#onStoreError = options.onStoreError ?? (() => undefined);
    this.#now = options.now ?? Date.now;
    // With a store, off until it is read: a replica that cannot learn the shared state starts off.
    this.#known = this.#store === undefined;
    this.#enabled = this.#compute();
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Whether the store can be reached now (always true without Redis). */
  get storeReachable(): boolean {
    return this.#store?.reachable ?? true;
  }

  get storeKind(): 'memory' | 'file' | 'redis' {
    return this.#store?.kind ?? 'memory';
  }

  state(): SwitchState {
    const flip = this.#flip;
    return {
      enabled: this.#enabled,
      environment: this.#environment,
      runtime: this.#runtime(),
      previous: flip?.previous ?? null,
      changedAt: flip?.changedAt ?? null,
      changedBy: flip?.changedBy ?? null,
      reason: flip?.reason ?? null,
      replica: flip?.replica ?? null,
    };
  }

  /**
   * Reads the stored runtime switch and follows the store from then on. A store that cannot be
   * read leaves the runtime switch unknown (futures off); the store's watch adopts it once readable.
   */
  async start(): Promise<void> {
    if (!this.#store) return;
    this.#unwatch ??= this.#store.watch((flip) => this.#adoptStored(flip));
    const adoptions = this.#adoptions;
    try {
      const flip = await this.#store.read();
      // A flip heard while this read was in flight is newer than what it answers.
      if (this.#adoptions === adoptions) this.#adopt(flip, 'start');
    } catch (error) {
      this.#onStoreError(error);
    }
  }

  /**
   * Records a flip of the runtime switch (also a no-op one: the audit trail shows every operator
   * action) in the store, then applies it. Throws SwitchStoreUnavailable when Redis cannot take it
   * (nothing changed). A local file that cannot be written does not stop the flip: it is applied
   * here, reported through onStoreError, and lasts until restart.
   */
  async set(change: SwitchChange): Promise<SwitchState> {
    const flip: SwitchFlip = {
      enabled: change.enabled,
      previous: this.#runtime(),
      changedAt: this.#now(),
      changedBy: change.by,
      reason: change.reason,
      replica: this.#replica,
    };
    if (this.#store) {
      try {
        if (!this.#store.reachable) throw new Error('Redis is not connected');
        await this.#store.write(flip);
      } catch (error) {
        this.#onStoreError(error);
        if (this.#store.kind === 'redis') throw new SwitchStoreUnavailable(error);
      }
    }
    this.#adopt(flip, 'flip');
    return this.state();
  }

  /** The last flips, newest first (at most 100); throws SwitchStoreUnavailable when Redis cannot be read. */
  async history(): Promise<SwitchFlip[]> {
    if (!this.#store) return this.#flip ? [this.#flip] : [];
    try {
      return await this.#store.history();
    } catch (error) {
      this.#onStoreError(error);
      throw new SwitchStoreUnavailable(error);
    }
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#store?.close();
  }

  #adoptStored(flip: SwitchFlip | null): void {
    const store = this.#store;
    // Redis lost its data (restarted empty) while this replica knows a flip: put it back rather than
    // read the loss as "never flipped", which would turn futures on everywhere.
    if (flip === null && this.#flip !== null && store?.restore) {
      store.restore(this.#flip).catch((error: unknown) => this.#onStoreError(error));
      return;
    }
    this.#adopt(flip, 'store');
  }

  #adopt(flip: SwitchFlip | null, cause: ChangeCause): void {
    this.#adoptions++;
    const same = this.#known && sameFlip(this.#flip, flip);
    this.#flip = flip;
    this.#known = true;
    this.#enabled = this.#compute();
    if (same) return;
    const snapshot = this.state();
    for (const listener of this.#listeners) listener(snapshot, cause);
  }

  #runtime(): boolean | null {
    return this.#known ? (this.#flip?.enabled ?? true) : null;
  }

  #compute(): boolean {
    return this.#environment && this.#runtime() === true;
  }
}

function sameFlip(a: SwitchFlip | null, b: SwitchFlip | null): boolean {
  if (a === null || b === null) return a === b;
  return a.enabled === b.enabled && a.changedAt === b.changedAt && a.changedBy === b.changedBy && a.reason === b.reason && a.replica === b.replica;
}
