/**
 * The REST reads behind the feed's snapshots, through the futures services so they share the
 * client's signing, budget, retries, breaker and coalescing of identical reads.
 */
import type { KucoinContract, KucoinPosition } from '../kucoin/payloads.js';
import { GatewayError } from '../http/errors.js';
import type { FuturesServices } from '../futures/services.js';
import { listOrders } from '../futures/orders.js';
import type { Order } from '../futures/mappers.js';

/** §3.4: `pageSize` goes up to 1000; KuCoin caps open orders far below ten pages of it (300001). */
const ORDERS_PAGE_SIZE = 1000;
const MAX_ORDER_PAGES = 10;

export interface AccountSnapshot {
  /** Raw, so the partial mark-price pushes can be merged into them (§5). */
  positions: KucoinPosition[];
  orders: Order[];
  /** The contract of every position, for mapping. */
  contracts: Map<string, KucoinContract>;
}

/**
 * Every open position, raw from `GET /api/v1/positions` (listPositions maps them, and the feed
 * needs them raw), and every open order, page after page of `listOrders`.
 */
export async function readAccount(services: FuturesServices): Promise<AccountSnapshot> {
  const [raw, orders] = await Promise.all([
    services.client.call<KucoinPosition[]>('positions', { context: 'reading positions for the live feed' }),
    readOpenOrders(services),
  ]);
  if (!Array.isArray(raw)) throw new GatewayError('UPSTREAM_BAD_RESPONSE', 'KuCoin sent a position list that is not a list.');
  const symbols = [...new Set(raw.map((p) => p.symbol))];
  const contracts = new Map(await Promise.all(symbols.map(async (s) => [s, await services.catalog.forHeld(s)] as const)));
  return { positions: raw, orders, contracts };
}

async function readOpenOrders(services: FuturesServices): Promise<Order[]> {
  const orders: Order[] = [];
  for (let page = 1; page <= MAX_ORDER_PAGES; page += 1) {
    const { items, total } = await listOrders(services, { page, pageSize: ORDERS_PAGE_SIZE });
    orders.push(...items);
    if (items.length < ORDERS_PAGE_SIZE || orders.length >= total) break;
  }
  return orders;
}
