import type { KucoinPosition } from '../kucoin/payloads.js';
import type { ContractRef, FundingRate, Order } from '../futures/mappers.js';

/** What a REST read refreshes: the account (positions and orders) or one symbol's funding. */
export type CachePart = 'account' | `funding:${string}`;

/** Orders that just finished, kept so their late pushes (a `filled` after the last `match`) need no REST read. */
const DONE_ORDERS_KEPT = 1_000;

/**
 * The feed's view of the account and of the watched symbols' funding, kept current by pushes.
 *
 * A REST read takes time, and pushes keep coming meanwhile: some describe changes the read's
 * answer already holds, some changes it missed. So every change made while a read of its part is
 * in flight is also journalled, and once the answer is installed the journal is replayed on top
 * of it. Changes are "set to what the push says", so replaying one the answer already holds is
 * harmless, and after the replay each entity is as its latest push or the answer says.
 */
export class FeedCache {
  /** Raw REST positions (docs/kucoin.md "REST endpoints the gateway calls") by symbol, open ones only. */
  readonly positions = new Map<string, KucoinPosition>();
  /** Open orders by id. */
  readonly orders = new Map<string, Order>();
  /** Funding of watched symbols. */
  readonly funding = new Map<string, FundingRate>();
  /**
   * Contracts of the symbols seen in positions. The catalog's own map forgets a contract that left
   * the active list at its next refresh, and a snapshot is built synchronously.
   */
  readonly contracts = new Map<string, ContractRef>();
  readonly #doneOrders = new Map<string, Order>();
  /** Counts position pushes applied; `#positionSeen` has the count at each symbol's latest one. */
  #positionSeq = 0;
  readonly #positionSeen = new Map<string, number>();
  readonly #journals = new Map<CachePart, Set<(() => void)[]>>();
  readonly #reads = new Map<CachePart, Promise<void>>();

  /** Applies `change` now, and again after every read of `part` now in flight. */
  change(part: CachePart, change: () => void): void {
    change();
    for (const journal of this.#journals.get(part) ?? []) journal.push(change);
  }

  /**
   * Reads `part` over REST and installs the answer, then replays the changes made meanwhile. A
   * read of the same part already in flight is shared.
   */
  read<T>(part: CachePart, fetch: () => Promise<T>, install: (answer: T) => void): Promise<void> {
    const pending = this.#reads.get(part);
    if (pending) return pending;
    const journal: (() => void)[] = [];
    const journals = this.#journals.get(part) ?? new Set();
    journals.add(journal);
    this.#journals.set(part, journals);
    const reading = fetch()
      .then((answer) => {
        install(answer);
        // Each change already ran once without throwing; a replay that does anyway is skipped, not fatal to the read.
        for (const change of journal) {
          try {
            change();
          } catch {
            /* skipped */
          }
        }
      })
      .finally(() => {
        journals.delete(journal);
        if (journals.size === 0) this.#journals.delete(part);
        this.#reads.delete(part);
      });
    this.#reads.set(part, reading);
    return reading;
  }

  /** A mark for `positionChangedSince`. */
  get positionSeq(): number {
    return this.#positionSeq;
  }

  /** A pushed change of the symbol's position (one with a `changeReason`, not a mark refresh) was applied. */
  notePositionChange(symbol: string): void {
    this.#positionSeq += 1;
    this.#positionSeen.set(symbol, this.#positionSeq);
  }

  /** Whether a pushed change of the symbol's position was applied after `mark` was taken. */
  positionChangedSince(symbol: string, mark: number): boolean {
    return (this.#positionSeen.get(symbol) ?? 0) > mark;
  }

  /** An open order, or one that finished recently. */
  knownOrder(orderId: string): Order | undefined {
    return this.orders.get(orderId) ?? this.#doneOrders.get(orderId);
  }

  /** Files the order as open, or as recently finished. */
  putOrder(order: Order): void {
    if (order.status === 'open') {
      this.orders.set(order.orderId, order);
      this.#doneOrders.delete(order.orderId);
      return;
    }
    this.orders.delete(order.orderId);
    this.#doneOrders.delete(order.orderId);
    this.#doneOrders.set(order.orderId, order);
    if (this.#doneOrders.size > DONE_ORDERS_KEPT) this.#doneOrders.delete(this.#doneOrders.keys().next().value!);
  }
}
