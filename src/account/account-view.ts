/**
 * REST reads of the position list and the open-order list served from the live feed's account
 * state (src/account/feed.ts) when it is current, else from KuCoin over REST (coalesced by the client).
 *
 * Decisions:
 * - The feed's state is trusted only while it is current for this view's own feed member: the
 *   upstream stream is subscribed, the member has had its account snapshot, no resync or
 *   re-snapshot is pending and no push is waiting to be applied (FuturesFeed.currentAccount).
 * - The first REST read of either list makes the view a member of the feed (an internal one,
 *   with no watched symbols), which brings the KuCoin stream up as a /ws/futures client does; the
 *   view leaves the feed `lingerMs` after the last such read. An idle gateway opens nothing.
 * - Answers from the feed go through the REST path's own mappers and filters, and both paths sort
 *   alike (positions by symbol; orders newest first, then by id), so the two are indistinguishable
 *   but for freshness: a cached position's mark-price fields are as of KuCoin's last push.
 * - Read-your-writes: a write the gateway makes (order, cancel, close) opens a fence before it is
 *   sent; while any fence is open, reads bypass the feed. A fence closes when the feed shows the
 *   write (the order known to the feed, a MARKET one done; a cancelled order no longer open; a
 *   filled order's or closed position's symbol pushed since the fence opened), or at once when
 *   KuCoin refused the write (a 4xx: nothing changed). A fence not closed by its deadline makes the feed re-snapshot
 *   the account from a read that starts then, and reads bypass until that snapshot is installed.
 *   Leverage, margin-mode and risk-limit changes are pushed on no topic the feed holds, so they
 *   always re-snapshot.
 * - A pushed position change cannot be told apart from another write's: when writes that may move
 *   the same symbol's position overlap in time (or one whose outcome is unknown), none of them
 *   counts a position push as its own. Those fences close only by their deadline's re-snapshot, so
 *   a concurrent second order on a symbol never lets a read show the first order's fill as both.
 * - Across replicas (REDIS_URL): every write is also recorded in Redis before it answers, and a read
 *   about to be served from the cache first reads the other replicas' records (shared-fences.ts).
 */
import type { Metrics } from '../observability/metrics.js';
import { GatewayError } from '../errors.js';
import { toKucoinAsset } from '../symbols.js';
import type { RequestScope } from '../request-scope.js';
import { orderListOrder, positionListOrder, toPosition, type OrderPage, type Position } from '../futures/mappers.js';
import { UpstreamShapeError } from '../futures/payload-fields.js';
import { listOrders } from '../futures/orders.js';
import { listPositions } from '../futures/positions.js';
import type { FuturesDeps } from '../futures/deps.js';
import type { FeedCache } from './feed-cache.js';
import type { FuturesFeed } from './feed.js';
import type { FeedSubscriber } from './feed-messages.js';
import type { RemoteFence, SharedFences, SharedWrite, WriteOutcome } from './shared-fences.js';

export type ReadSource = 'stream' | 'upstream';

export interface Served<T> {
  data: T;
  source: ReadSource;
}

export interface OrderListQuery {
  symbol?: string;
  side?: 'BUY' | 'SELL';
  page?: number;
  pageSize?: number;
}

export type { WriteOutcome };

/** How long a write may go unseen by the feed before it re-snapshots, unless told otherwise. */
export const DEFAULT_WRITE_DEADLINE_MS = 3_000;

export interface AccountViewOptions {
  /** Undefined without a live feed (no credentials, provider off): every read goes to KuCoin. */
  feed: FuturesFeed | undefined;
  services: FuturesDeps;
  metrics: Metrics;
  /** READS_FROM_STREAM: false sends every read to KuCoin and never joins the feed. */
  enabled: boolean;
  /** How long the view stays a feed member after the last list read. */
  lingerMs: number;
  /** How long a write may go unseen by the feed before the feed re-snapshots; default 3000. */
  writeDeadlineMs?: number;
  /** With REDIS_URL: the writes of every replica, so a write through another is never read stale here. */
  sharedFences?: SharedFences;
  now?: () => number;
}

interface Fence {
  /** FeedCache.positionSeq when the write started. */
  mark: number;
  deadline: number;
  /** Undefined until the write has answered. */
  shown: ((cache: FeedCache) => boolean) | undefined;
  /**
   * Whether the write's outcome is known; then `moves` is the symbol whose position it may have
   * moved, if any. A write that failed without a refusal (5xx, timeout) stays unknown.
   */
  answered: boolean;
  moves: string | undefined;
  /** The writes that were in flight at some time with this one (kept after they close). */
  peers: Set<Fence>;
}

export class AccountView {
  readonly #feed: FuturesFeed | undefined;
  readonly #services: FuturesDeps;
  readonly #metrics: Metrics;
  readonly #enabled: boolean;
  readonly #lingerMs: number;
  readonly #deadlineMs: number;
  readonly #now: () => number;
  /** The view's own feed membership: no symbols, nothing to send. */
  readonly #member: FeedSubscriber = { symbols: new Set<string>(), send: () => undefined };
  #joined = false;
  #lastRead = 0;
  #lingerTimer: NodeJS.Timeout | undefined;
  readonly #fences = new Set<Fence>();
  readonly #shared: SharedFences | undefined;
  /** Other replicas' settings changes this view has re-snapshotted for, by id, until they are dropped. */
  readonly #resnapshotted = new Map<string, number>();
  #closed = false;

  constructor(options: AccountViewOptions) {
    this.#feed = options.feed;
    this.#services = options.services;
    this.#metrics = options.metrics;
    this.#enabled = options.enabled;
    this.#lingerMs = options.lingerMs;
    this.#deadlineMs = options.writeDeadlineMs ?? DEFAULT_WRITE_DEADLINE_MS;
    this.#now = options.now ?? Date.now;
    this.#shared = options.sharedFences;
  }

  /** `GET /api/futures/positions`. */
  async listPositions(scope: RequestScope | null, currency: string | undefined): Promise<Served<Position[]>> {
    const cache = await this.#currentAcrossReplicas();
    const fromStream = cache && this.#positionsFrom(cache, currency);
    if (fromStream) return this.#count('listPositions', { data: fromStream, source: 'stream' });
    return this.#count('listPositions', { data: await listPositions(this.#services, scope, currency), source: 'upstream' });
  }

  /** `GET /api/futures/orders` (open orders). */
  async listOrders(scope: RequestScope | null, query: OrderListQuery): Promise<Served<OrderPage>> {
    const cache = await this.#currentAcrossReplicas();
    if (cache) {
      // An unknown symbol is 404 UNKNOWN_SYMBOL on both paths; resolving may read the contract list.
      const contract = query.symbol === undefined ? undefined : await this.#services.catalog.resolve(query.symbol, scope);
      const again = this.#current(); // the resolve may have waited: check again
      if (again) return this.#count('listOrders', { data: this.#ordersFrom(again, { ...query, symbol: contract?.symbol }), source: 'stream' });
    }
    return this.#count('listOrders', { data: await listOrders(this.#services, scope, query), source: 'upstream' });
  }

  /**
   * Runs a write the gateway makes on the account, with its read-your-writes fence (see the top
   * of this file). `outcome` says what the write changed, from its answer; 'settings' for a
   * leverage, margin-mode or risk-limit change, after which the feed always re-snapshots.
   */
  async write<T>(run: () => Promise<T>, outcome: ((result: T) => WriteOutcome) | 'settings'): Promise<T> {
    const shared = this.#shared;
    if (!shared) return this.#write(run, outcome);
    // Recorded for the other replicas before the write answers (src/account/shared-fences.ts).
    let result: T;
    try {
      result = await this.#write(run, outcome);
    } catch (error) {
      const refused = error instanceof GatewayError && error.status < 500;
      if (outcome === 'settings' || !refused) await shared.record({ kind: outcome === 'settings' ? 'settings' : 'unknown' });
      throw error;
    }
    await shared.record(outcome === 'settings' ? { kind: 'settings' } : outcome(result));
    return result;
  }

  async #write<T>(run: () => Promise<T>, outcome: ((result: T) => WriteOutcome) | 'settings'): Promise<T> {
    const feed = this.#enabled ? this.#feed : undefined;
    if (!feed || this.#closed) return run();
    const fence: Fence = { mark: feed.account.positionSeq, deadline: Number.POSITIVE_INFINITY, shown: undefined, answered: false, moves: undefined, peers: new Set() };
    for (const other of this.#fences) {
      other.peers.add(fence);
      fence.peers.add(other);
    }
    this.#fences.add(fence);
    let result: T;
    try {
      result = await run();
    } catch (error) {
      // Not a member: the snapshot taken when it joins is read after now anyway.
      // A 4xx is a refusal before anything changed (but a leverage change is several calls).
      if (!this.#joined || outcome === 'settings' || (error instanceof GatewayError && error.status < 500)) {
        fence.answered = true; // moved nothing, or re-snapshots below
        this.#drop(fence);
      } else fence.deadline = this.#now() + this.#deadlineMs; // unknown: it may have changed anything
      if (this.#joined && outcome === 'settings') this.#resnapshot(feed);
      throw error;
    }
    if (!this.#joined || outcome === 'settings') {
      fence.answered = true;
      this.#drop(fence);
      if (this.#joined) this.#resnapshot(feed);
      return result;
    }
    const done = outcome(result);
    fence.answered = true;
    fence.moves = done.kind === 'cancel' ? undefined : done.symbol;
    fence.shown = shownBy(done, fence);
    fence.deadline = this.#now() + this.#deadlineMs;
    return result;
  }

  /**
   * Leaves the feed now rather than `lingerMs` after the last read (the kill switch went off); the
   * next list read joins it again.
   */
  leave(): void {
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    this.#leave();
  }

  /** Leaves the feed; the gateway closes the feed itself. */
  close(): void {
    this.#closed = true;
    this.leave();
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * `#current()`, and no other replica's write that its stream may not show yet. The shared fences
   * are read only here, when a read would otherwise be served from the cache; unreadable, the read
   * goes to KuCoin.
   */
  async #currentAcrossReplicas(): Promise<FeedCache | undefined> {
    const first = this.#current();
    if (!this.#shared || !first) return first;
    const others = await this.#shared.others();
    if (others === undefined) return undefined;
    const cache = this.#current(); // the read may have waited: check again
    return cache && this.#othersShown(cache, others) ? cache : undefined;
  }

  #othersShown(cache: FeedCache, others: RemoteFence[]): boolean {
    const now = this.#now();
    for (const [id, until] of this.#resnapshotted) if (until < now) this.#resnapshotted.delete(id);
    let shown = true;
    for (const fence of others) {
      if (fence.write.kind === 'settings') {
        // Pushed on no topic the feed holds: re-snapshot once; the feed is not current until then.
        if (this.#resnapshotted.has(fence.id)) continue;
        this.#resnapshotted.set(fence.id, now + Math.max(this.#lingerMs, this.#deadlineMs)); // outlives the member
        if (this.#feed) this.#resnapshot(this.#feed);
        shown = false;
      } else if (now < fence.until && !shownElsewhere(fence.write, cache)) shown = false;
    }
    return shown;
  }

  /** The feed's state when reads may be served from it; joins the feed (or stays in it) either way. */
  #current(): FeedCache | undefined {
    const feed = this.#feed;
    if (!this.#enabled || !feed || this.#closed) return undefined;
    this.#touch(feed);
    const cache = feed.currentAccount(this.#member);
    if (!cache || !this.#fencesClear(feed, cache)) return undefined;
    return cache;
  }

  #fencesClear(feed: FuturesFeed, cache: FeedCache): boolean {
    let clear = true;
    const now = this.#now();
    for (const fence of this.#fences) {
      if (fence.shown?.(cache)) {
        this.#drop(fence);
      } else if (now >= fence.deadline) {
        // Not shown in time: only a snapshot read from now on is sure to hold the write.
        this.#drop(fence);
        this.#resnapshot(feed);
        clear = false;
      } else clear = false;
    }
    return clear;
  }

  /** A closed fence stays a peer of the open ones it overlapped; its own list of peers is done with. */
  #drop(fence: Fence): void {
    this.#fences.delete(fence);
    fence.peers.clear();
  }

  #touch(feed: FuturesFeed): void {
    this.#lastRead = this.#now();
    if (this.#joined) return;
    this.#joined = true;
    // The feed a read brings up serves every later read and client: it is given no request scope
    // (its reads are the gateway's own, src/request-scope.ts), so it carries neither this request's
    // caller nor its deadline.
    feed.add(this.#member);
    this.#armLinger(this.#lingerMs);
  }

  #resnapshot(feed: FuturesFeed): void {
    feed.resnapshot(this.#member);
  }

  #armLinger(ms: number): void {
    this.#lingerTimer = setTimeout(() => {
      this.#lingerTimer = undefined;
      const idle = this.#now() - this.#lastRead;
      if (idle >= this.#lingerMs) this.#leave();
      else this.#armLinger(this.#lingerMs - idle);
    }, ms);
    this.#lingerTimer.unref();
  }

  #leave(): void {
    if (!this.#joined) return;
    this.#joined = false;
    // The snapshot taken when it joins again is read after every write that has answered.
    for (const fence of this.#fences) if (fence.deadline !== Number.POSITIVE_INFINITY) this.#drop(fence);
    this.#feed?.remove(this.#member);
  }

  /** The REST path's answer made from the feed's state; undefined when a position cannot be mapped. */
  #positionsFrom(cache: FeedCache, currency: string | undefined): Position[] | undefined {
    const wanted = toKucoinAsset(currency);
    const positions: Position[] = [];
    for (const [symbol, raw] of cache.positions) {
      if (wanted !== undefined && raw.settleCurrency !== wanted) continue;
      const contract = cache.contracts.get(symbol) ?? this.#services.catalog.cached(symbol);
      if (!contract) return undefined;
      try {
        positions.push(toPosition(raw, contract));
      } catch (error) {
        if (error instanceof UpstreamShapeError) return undefined;
        throw error;
      }
    }
    return positions.sort(positionListOrder);
  }

  #ordersFrom(cache: FeedCache, query: OrderListQuery): OrderPage {
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 50;
    const matching = [...cache.orders.values()].filter((order) => (query.symbol === undefined || order.symbol === query.symbol) && (query.side === undefined || order.side === query.side)).sort(orderListOrder);
    return { page, pageSize, total: matching.length, items: matching.slice((page - 1) * pageSize, page * pageSize) };
  }

  #count<T>(operation: 'listPositions' | 'listOrders', served: Served<T>): Served<T> {
    this.#metrics.restReadsServed.inc({ operation, source: served.source });
    return served;
  }
}

/**
 * Whether another write that overlapped `fence` may have moved the same symbol's position: one on
 * that symbol, or one whose answer (and so its symbol) never came.
 */
function contended(fence: Fence): boolean {
  for (const peer of fence.peers) if (!peer.answered || (peer.moves !== undefined && peer.moves === fence.moves)) return true;
  return false;
}

/**
 * Whether this replica's feed shows another replica's write. That write's position mark is the
 * other replica's, so a write that may have moved a position (a MARKET order, a LIMIT order with a
 * fill, a close) never counts as shown here: it keeps the cache path off until its deadline.
 */
function shownElsewhere(write: SharedWrite, cache: FeedCache): boolean {
  switch (write.kind) {
    case 'order': {
      const order = cache.knownOrder(write.orderId);
      return write.type === 'LIMIT' && order !== undefined && order.filledQty === 0;
    }
    case 'cancel':
      return write.orderIds.every((orderId) => cache.knownOrder(orderId)?.status !== 'open');
    default:
      return false;
  }
}

/** Whether the feed's state holds what the write did. */
function shownBy(outcome: WriteOutcome, fence: Fence): (cache: FeedCache) => boolean {
  const { mark } = fence;
  switch (outcome.kind) {
    case 'order':
      return (cache) => {
        const order = cache.knownOrder(outcome.orderId);
        if (order === undefined) return false;
        // A MARKET order's write includes its fill: KuCoin may push `open` before `match`.
        if (outcome.type === 'MARKET' && order.status === 'open') return false;
        // A fill moved the position too: wait for that push as well (which must be this write's).
        return order.filledQty === 0 || (!contended(fence) && cache.positionChangedSince(outcome.symbol, mark));
      };
    case 'cancel':
      return (cache) => outcome.orderIds.every((orderId) => cache.knownOrder(orderId)?.status !== 'open');
    case 'close':
      return (cache) => {
        const order = cache.knownOrder(outcome.orderId);
        return order !== undefined && order.status !== 'open' && !contended(fence) && (cache.positionChangedSince(outcome.symbol, mark) || !cache.positions.has(outcome.symbol));
      };
  }
}
