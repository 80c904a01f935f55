/**
 * The REST reads behind the feed's snapshots, through the futures services so they share the
 * client's signing, budget, retries, breaker and coalescing of identical reads.
 */
import type { FuturesDeps } from '../futures/deps.js';
import { listOrders } from '../futures/orders.js';
import { readHeldPositions, type HeldPositions } from '../futures/positions.js';
import type { Order } from '../futures/mappers.js';

/** §3.4: `pageSize` goes up to 1000; KuCoin caps open orders far below ten pages of it (300001). */
const ORDERS_PAGE_SIZE = 1000;
const MAX_ORDER_PAGES = 10;

export interface AccountSnapshot extends HeldPositions {
  orders: Order[];
}

/** Every open position (raw, with its contract) and every open order, page after page of `listOrders`. */
export async function readAccount(services: FuturesDeps): Promise<AccountSnapshot> {
  const [held, orders] = await Promise.all([readHeldPositions(services, undefined, 'reading positions for the live feed'), readOpenOrders(services)]);
  return { ...held, orders };
}

async function readOpenOrders(services: FuturesDeps): Promise<Order[]> {
  const orders: Order[] = [];
  for (let page = 1; page <= MAX_ORDER_PAGES; page += 1) {
    const { items, total } = await listOrders(services, { page, pageSize: ORDERS_PAGE_SIZE });
    orders.push(...items);
    if (items.length < ORDERS_PAGE_SIZE || orders.length >= total) break;
  }
  return orders;
}
