/**
 * The Classic futures topics (docs/kucoin.md "The private WebSocket") and how an engine push reaches the
 * subscriptions that want it. Pure functions; the socket in server.ts does the I/O.
 */

/** What the engine emits; see server.ts for the contract. */
export interface SimPush {
  topic: string;
  subject: string;
  data: unknown;
  private: boolean;
}

type SymbolPart = 'none' | 'required' | 'optional';

const FAMILIES = new Map<string, { private: boolean; symbol: SymbolPart }>([
  ['/contract/instrument', { private: false, symbol: 'required' }],
  // The current spec subscribes `:{symbol}` (openapi-futures-public.json, docs-new api 3470088w0);
  // the older docs the bare topic. Both are accepted; either can be refused by fault injection.
  ['/contract/announcement', { private: false, symbol: 'optional' }],
  ['/contractMarket/tickerV2', { private: false, symbol: 'required' }],
  ['/contract/position', { private: true, symbol: 'required' }],
  ['/contract/positionAll', { private: true, symbol: 'none' }],
  ['/contractMarket/tradeOrders', { private: true, symbol: 'optional' }],
  ['/contractAccount/wallet', { private: true, symbol: 'none' }],
  ['/contract/marginMode', { private: true, symbol: 'none' }],
  ['/contract/crossLeverage', { private: true, symbol: 'none' }],
  ['/contractMarket/advancedOrders', { private: true, symbol: 'none' }],
]);

const SYMBOL = /^[A-Za-z0-9._-]{1,40}$/;

export interface Subscription {
  topic: string;
  private: boolean;
}

/**
 * The single-symbol subscriptions a subscribe topic stands for: `/contract/instrument:XBTUSDTM,ETHUSDTM`
 * is two (docs/kucoin.md "The private WebSocket", comma-joined symbols). Undefined when it is no Classic topic, e.g. the Pro
 * names `/futuresTrade/orders` (docs/kucoin.md "The private WebSocket").
 */
export function expandTopic(topic: string): Subscription[] | undefined {
  const colon = topic.indexOf(':');
  const prefix = colon < 0 ? topic : topic.slice(0, colon);
  const family = FAMILIES.get(prefix);
  if (!family) return undefined;
  if (colon < 0) return family.symbol === 'required' ? undefined : [{ topic: prefix, private: family.private }];
  if (family.symbol === 'none') return undefined;
  const symbols = topic.slice(colon + 1).split(',');
  if (!symbols.every((s) => SYMBOL.test(s))) return undefined;
  return [...new Set(symbols)].map((s) => ({ topic: `${prefix}:${s}`, private: family.private }));
}

/**
 * What the account-wide `/contractMarket/tradeOrders` subscription receives: `orderChange` on that
 * topic (the older docs), or `symbolOrderChange` on `/contractMarket/tradeOrders:{symbol}` (the example
 * of KuCoin's current spec, openapi-futures-private.json "All Order change pushes"; its subject enum
 * allows both).
 */
export type AllOrdersForm = 'orderChange' | 'symbolOrderChange';

/** One frame to send, to every connection holding any of `subscriptions`. */
export interface Delivery {
  subscriptions: string[];
  push: SimPush;
}

const POSITION = '/contract/position:';
const ANNOUNCEMENT = '/contract/announcement';
const ORDERS = '/contractMarket/tradeOrders';

/**
 * Where one engine push goes. Besides its exact topic:
 * - `/contract/position:{symbol}` also reaches `/contract/positionAll`, topic unchanged;
 * - `/contract/announcement` (pushed without the symbol) reaches `/contract/announcement:{data.symbol}`;
 * - an order event reaches both order topics: `symbolOrderChange` on `…:{symbol}`, and on
 *   `/contractMarket/tradeOrders` in the `allOrders` form, whichever of the two forms the engine emitted.
 */
export function deliveriesFor(push: SimPush, allOrders: AllOrdersForm = 'orderChange'): Delivery[] {
  const symbol = symbolOf(push.data);
  if (push.topic.startsWith(POSITION)) {
    return [{ subscriptions: [push.topic, '/contract/positionAll'], push }];
  }
  if (push.topic === ANNOUNCEMENT && symbol !== undefined) {
    return [{ subscriptions: [ANNOUNCEMENT, `${ANNOUNCEMENT}:${symbol}`], push }];
  }
  const isSymbolForm = push.topic.startsWith(`${ORDERS}:`) && push.subject === 'symbolOrderChange';
  const isAllForm = push.topic === ORDERS && push.subject === 'orderChange' && symbol !== undefined;
  if (isSymbolForm || isAllForm) {
    const symbolForm: SimPush = isSymbolForm ? push : { ...push, topic: `${ORDERS}:${symbol}`, subject: 'symbolOrderChange' };
    if (allOrders === 'symbolOrderChange') return [{ subscriptions: [symbolForm.topic, ORDERS], push: symbolForm }];
    const allForm: SimPush = isAllForm ? push : { ...push, topic: ORDERS, subject: 'orderChange' };
    return [{ subscriptions: [symbolForm.topic], push: symbolForm }, { subscriptions: [ORDERS], push: allForm }];
  }
  return [{ subscriptions: [push.topic], push }];
}

function symbolOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const symbol = (data as { symbol?: unknown }).symbol;
  return typeof symbol === 'string' && SYMBOL.test(symbol) ? symbol : undefined;
}
