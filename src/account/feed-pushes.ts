/**
 * KuCoin's pushes applied to the live feed's account and funding state (FeedCache), each turned
 * into the client message it means (asyncapi.yaml). The feed (src/account/feed.ts) queues the pushes
 * and hands them here one at a time, in arrival order; this module decides what each changes.
 *
 * - A change is written to the cache through `FeedCache.change`, so a snapshot read in flight gets
 *   it replayed onto its answer.
 * - A position push without a change reason is KuCoin's mark-price refresh: it moves a held
 *   position's mark and PnL, but is not a change of the position (`notePositionChange`).
 * - An order push carries too little to make an `Order` (no leverage, time in force or flags): an
 *   order the cache does not know is made from what the gateway sent when it placed it
 *   (src/futures/order-drafts.ts), or, placed elsewhere, read once over REST; the push is applied to it.
 */
import { toPosition, type ContractRef } from '../futures/mappers.js';
import { UpstreamShapeError } from '../futures/payload-fields.js';
import { getOrder } from '../futures/orders.js';
import { draftOrder } from '../futures/order-drafts.js';
import type { FuturesDeps } from '../futures/deps.js';
import type { UpstreamPush } from '../kucoin/stream/supervisor.js';
import type { FeedCache } from './feed-cache.js';
import type { FeedMessage } from './feed-messages.js';
import { INSTRUMENT_TOPIC, MARGIN_MODE_TOPIC, ORDERS_TOPIC } from './feed-upstream.js';
import {
  announcement,
  applyOrderChange,
  fundingRateChange,
  mergePositionChange,
  parseOrderChange,
  parseSettlement,
  settlementChange,
  settlePosition,
  topicSymbol,
  type FundingChange,
  type FundingEvent,
  type OrderChange,
} from './push-mappers.js';
import type { Order } from '../futures/mappers.js';
import { nsToMs } from '../futures/units.js';

export interface PushTarget {
  cache: FeedCache;
  services: FuturesDeps;
  /** Sends `message` to every live client (only those watching `fundingSymbol`, when given). */
  broadcast(message: FeedMessage, fundingSymbol?: string): void;
}

export class FeedPushes {
  readonly #cache: FeedCache;
  readonly #services: FuturesDeps;
  readonly #broadcast: PushTarget['broadcast'];

  constructor(target: PushTarget) {
    this.#cache = target.cache;
    this.#services = target.services;
    this.#broadcast = target.broadcast;
  }

  async apply(push: UpstreamPush): Promise<void> {
    switch (push.subject) {
      case 'position.change':
        return this.#positionChange(push);
      case 'position.settlement':
        return this.#settlement(push);
      case 'orderChange':
      case 'symbolOrderChange':
        // KuCoin's spec allows either subject on the account-wide subscription and shows it pushed on
        // `/contractMarket/tradeOrders:{symbol}` (openapi-futures-private.json, "All Order change
        // pushes", docs-new api-3470094); the older docs show `orderChange` on the bare topic. The feed
        // subscribes one order topic, so each event arrives once in whichever form.
        if (isOrdersTopic(push.topic)) return this.#orderChange(push);
        return;
      case 'user.config':
        // `/contract/crossLeverage` pushes the same subject, with leverages.
        if (push.topic === MARGIN_MODE_TOPIC) this.#marginModes(push.data);
        return;
      case 'funding.rate': {
        const symbol = push.topic.startsWith(`${INSTRUMENT_TOPIC}:`) ? topicSymbol(push.topic) : undefined;
        if (symbol !== undefined) this.#funding(symbol, fundingRateChange(push.data), 'rate');
        return;
      }
      case 'funding.begin':
      case 'funding.end': {
        const { symbol, change } = announcement(push.subject, push.data);
        this.#funding(symbol, change, push.subject === 'funding.begin' ? 'begin' : 'end');
        return;
      }
      default:
      // mark.index.price, walletBalance.change, position.adjustRiskLimit...: nothing a client message carries.
    }
  }

  async #positionChange(push: UpstreamPush): Promise<void> {
    const given = (push.data as { symbol?: unknown } | null)?.symbol;
    const symbol = typeof given === 'string' ? given : topicSymbol(push.topic);
    if (symbol === undefined) throw new UpstreamShapeError('position.change.symbol', 'KuCoin position.change: no symbol in the push or its topic');
    if (!this.#cache.positions.has(symbol) && !hasChangeReason(push.data)) return; // a mark-price refresh of a position the feed does not hold
    const contract = await this.#contractFor(symbol);
    const merged = mergePositionChange(push.topic, push.data, this.#cache.positions.get(symbol));
    if (!merged) return;
    const position = toPosition(merged.raw, contract);
    this.#cache.change('account', () => {
      const again = mergePositionChange(push.topic, push.data, this.#cache.positions.get(symbol));
      if (!again) return;
      if (again.raw.currentQty === 0) this.#cache.positions.delete(symbol);
      else this.#cache.positions.set(symbol, again.raw);
    });
    if (merged.reason !== 'markPrice') this.#cache.notePositionChange(symbol); // a change, not a mark refresh
    this.#broadcast({ type: 'position_update', snapshot: false, reason: merged.reason, data: [position] });
  }

  async #settlement(push: UpstreamPush): Promise<void> {
    const symbol = topicSymbol(push.topic);
    if (symbol === undefined) throw new UpstreamShapeError('position.settlement.topic', `KuCoin position.settlement: no symbol in topic ${push.topic}`);
    const settlement = parseSettlement(push.data);
    this.#funding(symbol, settlementChange(settlement), 'settlement');
    const cached = this.#cache.positions.get(symbol);
    if (!cached) return;
    const position = toPosition(settlePosition(cached, settlement), await this.#contractFor(symbol));
    this.#cache.change('account', () => {
      const current = this.#cache.positions.get(symbol);
      if (current) this.#cache.positions.set(symbol, settlePosition(current, settlement));
    });
    this.#broadcast({ type: 'position_update', snapshot: false, reason: 'settlement', data: [position] });
  }

  async #orderChange(push: UpstreamPush): Promise<void> {
    const change = parseOrderChange(push.data);
    const known = this.#cache.knownOrder(change.orderId) ?? this.#placedHere(change, push.data) ?? (await getOrder(this.#services, null, change.orderId));
    const order = applyOrderChange(known, change);
    this.#cache.change('account', () => this.#cache.putOrder(order));
    this.#broadcast({ type: 'order_update', snapshot: false, event: change.event, data: [order] });
  }

  /**
   * An order this gateway placed: made from what it sent plus the push, with no read back. An order
   * placed elsewhere (KuCoin's web UI, another client) is read once over REST.
   */
  #placedHere(change: OrderChange, data: unknown): Order | undefined {
    const clientOid = (data as { clientOid?: unknown }).clientOid;
    const draft = this.#services.orderDrafts?.take(typeof clientOid === 'string' ? clientOid : undefined, change.symbol);
    if (!draft) return undefined;
    const orderTime = (data as { orderTime?: unknown }).orderTime;
    const createdAt = typeof orderTime === 'number' || typeof orderTime === 'string' ? safeNsToMs(orderTime) ?? change.at : change.at;
    return draftOrder(draft, change.orderId, createdAt);
  }

  /** Each symbol's margin mode as pushed, so orders need not read it (src/futures/margin-mode.ts). */
  #marginModes(data: unknown): void {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return;
    for (const [symbol, mode] of Object.entries(data)) {
      if (mode === 'CROSS' || mode === 'ISOLATED') this.#services.marginModes?.set(symbol, mode);
    }
  }

  #funding(symbol: string, change: FundingChange, event: FundingEvent): void {
    this.#cache.change(`funding:${symbol}`, () => {
      const current = this.#cache.funding.get(symbol);
      if (current) this.#cache.funding.set(symbol, change(current));
    });
    const funding = this.#cache.funding.get(symbol);
    if (!funding) return; // nobody watches it, or its snapshot read is in flight (the change is replayed onto it)
    this.#broadcast({ type: 'funding_tick', snapshot: false, event, data: funding }, symbol);
  }

  async #contractFor(symbol: string): Promise<ContractRef> {
    const known = this.#cache.contracts.get(symbol) ?? this.#services.catalog.cached(symbol);
    const contract = known ?? (await this.#services.catalog.forHeld(symbol, null));
    this.#cache.contracts.set(symbol, contract);
    return contract;
  }
}

function safeNsToMs(value: number | string): number | undefined {
  try {
    return nsToMs(value);
  } catch {
    return undefined;
  }
}

function isOrdersTopic(topic: string): boolean {
  return topic === ORDERS_TOPIC || topic.startsWith(`${ORDERS_TOPIC}:`);
}

function hasChangeReason(data: unknown): boolean {
  const reason = (data as { changeReason?: unknown } | null)?.changeReason;
  return reason !== undefined && reason !== null;
}
