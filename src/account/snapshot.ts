/**
 * The REST reads behind the feed's snapshots, through the futures services so they share the
 * client's signing, budget, retries, breaker and coalescing of identical reads; how their answers
 * fill the feed's cache; and the snapshot a client gets from that cache.
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { getFundingRate } from '../futures/market.js';
import { toPosition, type Position } from '../futures/mappers.js';
import { UpstreamShapeError } from '../futures/payload-fields.js';
import type { FuturesDeps } from '../futures/deps.js';
import { listOrders } from '../futures/orders.js';
import { readHeldPositions, type HeldPositions } from '../futures/positions.js';
import type { Order } from '../futures/mappers.js';
import type { FeedCache } from './feed-cache.js';
import { errorInfo } from './feed-messages.js';

/** `pageSize` goes up to 1000; KuCoin caps open orders far below ten pages of it (300001) (docs/kucoin.md "REST endpoints the gateway calls"). */
const ORDERS_PAGE_SIZE = 1000;
const MAX_ORDER_PAGES = 10;

export interface AccountSnapshot extends HeldPositions {
  orders: Order[];
}

/**
 * Every open position (raw, with its contract) and every open order, page after page of `listOrders`.
 * The feed's reads serve every client: the gateway's own (no request scope, src/request-scope.ts).
 */
export async function readAccount(services: FuturesDeps): Promise<AccountSnapshot> {
  const [held, orders] = await Promise.all([readHeldPositions(services, null, undefined, 'reading positions for the live feed'), readOpenOrders(services)]);
  return { ...held, orders };
}

async function readOpenOrders(services: FuturesDeps): Promise<Order[]> {
  const orders: Order[] = [];
  for (let page = 1; page <= MAX_ORDER_PAGES; page += 1) {
    const { items, total } = await listOrders(services, null, { page, pageSize: ORDERS_PAGE_SIZE });
    orders.push(...items);
    if (items.length < ORDERS_PAGE_SIZE || orders.length >= total) break;
  }
  return orders;
}

/** What the cache-filling reads use. */
export interface SnapshotReads {
  cache: FeedCache;
  services: FuturesDeps;
  logger: Logger;
}

/** The positions and orders a client's snapshot messages carry. */
export interface AccountSnapshotMessage {
  positions: Position[];
  orders: Order[];
}

/** Reads the account (coalesced with a read already in flight) and replaces the cached positions, orders and their contracts. */
export async function fillAccount(cache: FeedCache, services: FuturesDeps): Promise<void> {
  await cache.read('account', () => readAccount(services), (answer) => {
    cache.positions.clear();
    for (const [symbol, contract] of answer.contracts) cache.contracts.set(symbol, contract);
    for (const position of answer.positions) if (position.currentQty !== 0) cache.positions.set(position.symbol, position);
    cache.orders.clear();
    for (const order of answer.orders) cache.putOrder(order);
  });
}

/**
 * Resolves when the symbol's funding is read (kept only if the symbol is still `watched`), or
 * known to be unreadable for the symbol's own reason.
 */
export async function fillFunding({ cache, services, logger }: SnapshotReads, symbol: string, watched: () => boolean): Promise<void> {
  try {
    await cache.read(`funding:${symbol}`, () => getFundingRate(services, null, symbol), (funding) => {
      if (watched()) cache.funding.set(symbol, funding);
    });
  } catch (error) {
    if (!isSymbolProblem(error)) throw error;
    logger.warn({ event: 'ws_funding_unavailable', symbol, err: errorInfo(error) }, `no funding rate for ${symbol}; its funding_tick is left out`);
  }
}

/** The cached account as client messages: positions by symbol (one that cannot be mapped is logged and left out), orders. */
export function accountSnapshot({ cache, services, logger }: SnapshotReads): AccountSnapshotMessage {
  const positions: Position[] = [];
  for (const [symbol, raw] of [...cache.positions].sort(([a], [b]) => a.localeCompare(b))) {
    const contract = cache.contracts.get(symbol) ?? services.catalog.cached(symbol);
    try {
      if (!contract) throw new UpstreamShapeError('position.symbol', `no contract known for ${symbol}`);
      positions.push(toPosition(raw, contract));
    } catch (error) {
      logger.warn({ event: 'ws_position_unmapped', symbol, err: errorInfo(error) }, `position ${symbol} left out of the snapshot`);
    }
  }
  return { positions, orders: [...cache.orders.values()] };
}

/** A failure that is the symbol's own (no such contract, no funding for it), not KuCoin being unavailable. */
function isSymbolProblem(error: unknown): boolean {
  if (error instanceof UpstreamShapeError) return true;
  return error instanceof GatewayError && error.status < 500 && error.status !== 429 && error.code !== 'CREDENTIALS_MISSING';
}
