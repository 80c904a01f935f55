import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { components } from '../../generated/openapi.js';
import type { SharedRedis } from '../redis/shared-redis.js';

/** One flip of the runtime switch: who (admin key fingerprint), when, why, and which replica (`hostname:pid`), as the admin history answers it. */
export type SwitchFlip = components['schemas']['FuturesSwitchFlip'];

/** How many flips a store keeps for the admin history. */
export const FLIP_HISTORY_LENGTH = 100;

/**
 * Where the runtime switch lives: a local file without REDIS_URL, Redis with it. `read` answers the
 * last flip (null: never flipped, so the runtime switch is on) and throws when the store cannot be
 * reached; `write` stores a flip and its history entry together, or throws having stored nothing.
 */
export interface RuntimeSwitchStore {
  readonly kind: 'file' | 'redis';
  read(): Promise<SwitchFlip | null>;
  write(flip: SwitchFlip): Promise<void>;
  /** The latest flips, newest first, at most FLIP_HISTORY_LENGTH. */
  history(): Promise<SwitchFlip[]>;
  /**
   * Tells `listener` of the stored flip whenever another replica may have changed it (Redis: a
   * message, a periodic re-read, a re-read after a reconnection). A file store has no other writer.
   */
  watch(listener: (flip: SwitchFlip | null) => void): () => void;
  /** Writes `flip` back when the store holds none (Redis that lost its data); true when written. */
  restore?(flip: SwitchFlip): Promise<boolean>;
  /** False while the store cannot be reached (Redis down); a file is always reachable. */
  readonly reachable: boolean;
  close(): void;
}

/** A stored flip as read back: anything else (a hand-edited file, another version's value) is refused. */
export function parseFlip(value: unknown): SwitchFlip {
  const v = value as Partial<Record<keyof SwitchFlip, unknown>> | null;
  const ok =
    typeof v === 'object' && v !== null &&
    typeof v.enabled === 'boolean' &&
    (typeof v.previous === 'boolean' || v.previous === null) &&
    typeof v.changedAt === 'number' && Number.isFinite(v.changedAt) &&
    typeof v.changedBy === 'string' &&
    (typeof v.reason === 'string' || v.reason === null) &&
    typeof v.replica === 'string';
  if (!ok) throw new Error('not a stored switch flip');
  return { enabled: v.enabled as boolean, previous: v.previous as boolean | null, changedAt: v.changedAt as number, changedBy: v.changedBy as string, reason: v.reason as string | null, replica: v.replica as string };
}

interface SwitchFile {
  state: SwitchFlip | null;
  history: SwitchFlip[];
}

/**
 * `STATE_DIR/switch.json`: the last flip and the history, rewritten whole on each flip (temporary
 * file + rename, atomic on POSIX file systems), so a restart keeps the runtime switch. A file that
 * cannot be read or parsed is an error of `read` (the switch then starts off), never ignored.
 */
export class FileSwitchStore implements RuntimeSwitchStore {
  readonly kind = 'file';
  readonly reachable = true;
  readonly #file: string;
  /** Flips are written one after another, so two concurrent PUTs never interleave their renames. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string) {
    this.#file = join(stateDir, 'switch.json');
  }

  get file(): string {
    return this.#file;
  }

  async read(): Promise<SwitchFlip | null> {
    return (await this.#load()).state;
  }

  async history(): Promise<SwitchFlip[]> {
    return (await this.#load()).history;
  }

  write(flip: SwitchFlip): Promise<void> {
    const run = this.#queue.then(async () => {
      const current = await this.#load();
      const next: SwitchFile = { state: flip, history: [flip, ...current.history].slice(0, FLIP_HISTORY_LENGTH) };
      const temporary = `${this.#file}.${process.pid}.tmp`;
      await mkdir(join(this.#file, '..'), { recursive: true });
      await writeFile(temporary, JSON.stringify(next, null, 2) + '\n');
      await rename(temporary, this.#file);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  watch(): () => void {
    return () => undefined;
  }

  close(): void {}

  async #load(): Promise<SwitchFile> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, history: [] };
      throw new Error(`cannot read the kill switch's state at ${this.#file}: ${(error as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as { state?: unknown; history?: unknown };
      const history = Array.isArray(parsed.history) ? parsed.history.map(parseFlip) : [];
      return { state: parsed.state === null || parsed.state === undefined ? null : parseFlip(parsed.state), history };
    } catch {
      throw new Error(`the kill switch's state at ${this.#file} is not valid; fix or remove the file`);
    }
  }
}

export interface RedisSwitchStoreOptions {
  shared: SharedRedis;
  /** The backstop re-read for a lost message (default 1 s). */
  rereadMs?: number;
}

/**
 * The runtime switch in the shared Redis: the last flip in `<prefix>switch:state`, the history in
 * the list `<prefix>switch:flips` (pushed and trimmed to 100 in the same MULTI as the state), and a
 * message on `<prefix>switch:changed` for each flip, so every replica applies it at once. Messages
 * sent while a replica was cut off are lost: a re-read every `rereadMs` and one after each
 * reconnection are the backstop.
 *
 * A Redis that comes back empty (restarted without persistence) has no flip while a replica still
 * knows one: the replica writes what it knows back (SET NX, the first replica's wins) instead of
 * taking "never flipped" (on) from the loss of data.
 */
export class RedisSwitchStore implements RuntimeSwitchStore {
  readonly kind = 'redis';
  readonly #shared: SharedRedis;
  readonly #rereadMs: number;
  readonly #stateKey: string;
  readonly #flipsKey: string;
  readonly #channel: string;
  /** Bumped by every write and message: a re-read that started before one is stale and dropped. */
  #generation = 0;
  readonly #stops: (() => void)[] = [];

  constructor(options: RedisSwitchStoreOptions) {
    this.#shared = options.shared;
    this.#rereadMs = options.rereadMs ?? 1_000;
    this.#stateKey = options.shared.key('switch', 'state');
    this.#flipsKey = options.shared.key('switch', 'flips');
    this.#channel = options.shared.key('switch', 'changed');
  }

  get reachable(): boolean {
    return this.#shared.up;
  }

  async read(): Promise<SwitchFlip | null> {
    const text = await this.#shared.client.get(this.#stateKey);
    return text === null ? null : parseFlip(JSON.parse(text));
  }

  async history(): Promise<SwitchFlip[]> {
    const items = await this.#shared.client.lrange(this.#flipsKey, 0, FLIP_HISTORY_LENGTH - 1);
    return items.map((item) => parseFlip(JSON.parse(item)));
  }

  async write(flip: SwitchFlip): Promise<void> {
    this.#generation++;
    const text = JSON.stringify(flip);
    const results = await this.#shared.client
      .multi()
      .set(this.#stateKey, text)
      .lpush(this.#flipsKey, text)
      .ltrim(this.#flipsKey, 0, FLIP_HISTORY_LENGTH - 1)
      .publish(this.#channel, text)
      .exec();
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (results === null || failed) throw failed ?? new Error('the switch flip transaction was discarded');
  }

  /** Writes `flip` back when Redis holds none (its data was lost); true when it was written. */
  async restore(flip: SwitchFlip): Promise<boolean> {
    return (await this.#shared.client.set(this.#stateKey, JSON.stringify(flip), 'NX')) === 'OK';
  }

  watch(listener: (flip: SwitchFlip | null) => void): () => void {
    const reread = async () => {
      const generation = this.#generation;
      try {
        const flip = await this.read();
        if (generation === this.#generation) listener(flip);
      } catch (error) {
        this.#shared.failed('switch', error);
      }
    };
    this.#stops.push(
      this.#shared.subscribe(this.#channel, (message) => {
        let flip: SwitchFlip;
        try {
          flip = parseFlip(JSON.parse(message));
        } catch {
          return; // not ours; the next re-read says what is stored
        }
        this.#generation++;
        listener(flip);
      }),
      this.#shared.onStatus((up) => {
        if (up) void reread();
      }),
    );
    const timer = setInterval(() => {
      // While Redis is known down there is nothing to read; the reconnection re-reads.
      if (this.#shared.up) void reread();
    }, this.#rereadMs);
    timer.unref();
    this.#stops.push(() => clearInterval(timer));
    return () => this.close();
  }

  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }
}
