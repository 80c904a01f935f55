import type { Order } from './mappers.js';

/**
 * What the gateway sent KuCoin for each order it placed, kept briefly by clientOid so the live feed
 * can make the `Order` of the order's first push without reading it back. KuCoin's order push
 * (openapi-futures-private.json, "All Order change pushes", docs-new api-3470094) carries symbol,
 * side, orderType, price, size, marginMode, clientOid and orderTime, but not leverage, time in
 * force or the postOnly/reduceOnly/closeOrder flags; those are what the gateway itself sent.
 * Reading the order back (`GET /api/v1/orders/{id}`, weight 5) made each order cost 9 of KuCoin's
 * weight where placing it costs 2.
 */
export interface OrderDraft {
  clientOid: string;
  symbol: string;
  baseAsset: string;
  side: 'BUY' | 'SELL';
  type: 'LIMIT' | 'MARKET';
  price: number | null;
  leverage: number | null;
  marginMode: 'isolated' | 'cross';
  timeInForce: 'GTC' | 'IOC';
  postOnly: boolean;
  reduceOnly: boolean;
  closeOrder: boolean;
}

/** Enough for a burst of placements whose pushes are still on their way; older drafts are let go. */
const MAX_DRAFTS = 5_000;

export class OrderDrafts {
  readonly #byClientOid = new Map<string, OrderDraft>();
  readonly #max: number;

  constructor(max = MAX_DRAFTS) {
    this.#max = max;
  }

  /** Noted before the POST: KuCoin may push the order's `open` before its REST answer arrives. */
  note(draft: OrderDraft): void {
    this.#byClientOid.delete(draft.clientOid);
    this.#byClientOid.set(draft.clientOid, draft);
    while (this.#byClientOid.size > this.#max) this.#byClientOid.delete(this.#byClientOid.keys().next().value!);
  }

  /**
   * The order as placed, for its first push; once taken, the feed's own cache holds the order. The
   * push's symbol must match the draft's: a clientOid reused by another client of the account
   * through another route is not mistaken for ours.
   */
  take(clientOid: string | undefined, symbol: string): OrderDraft | undefined {
    if (clientOid === undefined) return undefined;
    const draft = this.#byClientOid.get(clientOid);
    if (!draft || draft.symbol !== symbol) return undefined;
    this.#byClientOid.delete(clientOid);
    return draft;
  }

  get size(): number {
    return this.#byClientOid.size;
  }
}

/** The draft with the push's identity and times: an open order with nothing filled yet (the push is applied on top). */
export function draftOrder(draft: OrderDraft, orderId: string, createdAt: number): Order {
  return {
    orderId,
    clientOid: draft.clientOid,
    symbol: draft.symbol,
    baseAsset: draft.baseAsset,
    side: draft.side,
    type: draft.type,
    status: 'open',
    price: draft.price,
    qty: 0,
    filledQty: 0,
    remainingQty: 0,
    avgFillPrice: null,
    marginMode: draft.marginMode,
    leverage: draft.leverage,
    timeInForce: draft.timeInForce,
    reduceOnly: draft.reduceOnly,
    closeOrder: draft.closeOrder,
    postOnly: draft.postOnly,
    createdAt,
    updatedAt: createdAt,
  };
}
