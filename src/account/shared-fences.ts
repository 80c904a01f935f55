/**
 * Read-your-writes across replicas (REDIS_URL): each replica's account view serves the list reads
 * from its own KuCoin stream, so a write through replica A must hold replica B's cache path off
 * until B's stream can show it. A records every write in one sorted set before it answers the
 * write; B reads the set (one ZRANGEBYSCORE) before it serves a list from its cache, and only then.
 *
 * - A member is one write: who made it, until when its pushes may be unseen (`until`, the write
 *   deadline on A's clock: replicas' clocks must agree to well under the deadline, as NTP gives)
 *   and what it did. Its score is how long it is kept: `until`, or for a settings change (pushed on
 *   no topic the feed holds) long enough that every replica still joined to its stream reads it
 *   once and re-snapshots (the view's linger).
 * - Recording cannot make a write fail: the write has happened at KuCoin. A record that fails is
 *   counted (`fences`) and the write answered; B may then serve a stale list until its stream shows
 *   the write (docs/operations.md).
 * - Reading fails (Redis down): the caller serves that read from KuCoin, as for its own unknown writes.
 * - After a failed command Redis is not asked for `RETRY_AFTER_MS` (a connected but silent Redis
 *   fails only after the 500 ms command timeout): reads go to KuCoin, writes answer unrecorded.
 */
import { randomUUID } from 'node:crypto';
import type { SharedRedis } from '../redis/shared-redis.js';

const RETRY_AFTER_MS = 1_000;

/** What a write may have changed, known once it has answered. */
export type WriteOutcome =
  | { kind: 'order'; orderId: string; symbol: string; type: 'MARKET' | 'LIMIT' }
  | { kind: 'cancel'; orderIds: readonly string[] }
  | { kind: 'close'; orderId: string; symbol: string };

/** A write as another replica sees it: its outcome, or unknown (5xx, timeout), or a settings change. */
export type SharedWrite = WriteOutcome | { kind: 'unknown' } | { kind: 'settings' };

export interface RemoteFence {
  /** Unique across replicas. */
  id: string;
  /** Until when (epoch ms) the write's pushes may be unseen by a stream. */
  until: number;
  write: SharedWrite;
}

export interface SharedFencesOptions {
  /** How long a write may go unseen by a stream (the account view's write deadline). */
  deadlineMs: number;
  /** How long a settings change is kept for replicas to re-snapshot (the view's linger). */
  settingsKeepMs: number;
  now?: () => number;
}

interface Member {
  r: string;
  n: number;
  until: number;
  write: SharedWrite;
}

export class SharedFences {
  readonly #shared: SharedRedis;
  readonly #key: string;
  readonly #replica = randomUUID();
  readonly #deadlineMs: number;
  readonly #keepMs: number;
  readonly #now: () => number;
  #seq = 0;
  /** Redis is not asked until then (epoch ms), after a failure. */
  #retryAt = 0;

  constructor(shared: SharedRedis, options: SharedFencesOptions) {
    this.#shared = shared;
    shared.onStatus((up) => {
      if (up) this.#retryAt = 0;
    });
    this.#key = shared.key('fences', 'account');
    this.#deadlineMs = options.deadlineMs;
    this.#keepMs = Math.max(options.deadlineMs, options.settingsKeepMs);
    this.#now = options.now ?? Date.now;
  }

  /** Records a write that has answered (or failed without a refusal). Never throws. */
  async record(write: SharedWrite): Promise<void> {
    const now = this.#now();
    const until = now + this.#deadlineMs;
    const keep = write.kind === 'settings' ? now + this.#keepMs : until;
    const member: Member = { r: this.#replica, n: ++this.#seq, until, write };
    if (!this.#usable()) return;
    try {
      const replies = await this.#shared.client
        .multi()
        .zadd(this.#key, keep, JSON.stringify(member))
        .zremrangebyscore(this.#key, '-inf', `(${now}`)
        .pexpire(this.#key, this.#keepMs)
        .exec();
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (replies === null || failed) throw failed ?? new Error('fence transaction discarded');
    } catch (error) {
      this.#failed(error);
    }
  }

  /** The other replicas' writes still kept; undefined when Redis cannot be read (counted). */
  async others(): Promise<RemoteFence[] | undefined> {
    if (!this.#usable()) return undefined;
    let members: string[];
    try {
      members = await this.#shared.client.zrangebyscore(this.#key, this.#now(), '+inf');
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
    const fences: RemoteFence[] = [];
    for (const raw of members) {
      const member = parse(raw);
      // Unreadable (another version's shape): held as an unknown write for one deadline.
      if (member === undefined) fences.push({ id: raw, until: this.#now() + this.#deadlineMs, write: { kind: 'unknown' } });
      else if (member.r !== this.#replica) fences.push({ id: `${member.r}:${member.n}`, until: member.until, write: member.write });
    }
    return fences;
  }

  /** Whether to ask Redis now; counts the use it skips. */
  #usable(): boolean {
    if (this.#shared.up && Date.now() >= this.#retryAt) return true;
    this.#shared.failed('fences', new Error(this.#shared.up ? 'shared Redis failed a moment ago' : 'shared Redis not connected'));
    return false;
  }

  #failed(error: unknown): void {
    this.#retryAt = Date.now() + RETRY_AFTER_MS;
    this.#shared.failed('fences', error);
  }
}

function parse(raw: string): Member | undefined {
  try {
    const member = JSON.parse(raw) as Partial<Member>;
    const kinds = ['order', 'cancel', 'close', 'unknown', 'settings'];
    if (typeof member.r !== 'string' || typeof member.n !== 'number' || typeof member.until !== 'number' || !kinds.includes(member.write?.kind as string)) return undefined;
    return member as Member;
  } catch {
    return undefined;
  }
}
