/** `GET /api/v1/orders`: filters and the page envelope. Newest first (docs/kucoin.md "REST endpoints the gateway calls"). */
import type { KucoinOrderPage } from '../../kucoin/payloads.js';
import type { EngineCore } from './core.js';
import { refuse } from './errors.js';
import { orderPayload } from './orders.js';

export interface OrderQuery {
  status?: string | null;
  symbol?: string | null;
  side?: string | null;
  type?: string | null;
  startAt?: string | null;
  endAt?: string | null;
  currentPage?: string | null;
  pageSize?: string | null;
}

function positiveInt(value: string | null | undefined, name: string, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw refuse.invalidParam(`${name} must be a positive integer`);
  return n;
}

export function listOrders(core: EngineCore, query: OrderQuery): KucoinOrderPage {
  // The spec says "done as default" (docs/kucoin.md "REST endpoints the gateway calls").
  const status = query.status || 'done';
  if (status !== 'active' && status !== 'done') throw refuse.invalidParam('status must be active or done');
  const currentPage = positiveInt(query.currentPage, 'currentPage', 1);
  const pageSize = Math.min(1000, positiveInt(query.pageSize, 'pageSize', 50));
  const startAt = query.startAt ? Number(query.startAt) : undefined;
  const endAt = query.endAt ? Number(query.endAt) : undefined;
  const matching = core.state.orders
    .filter((o) => (status === 'active') === (o.status === 'open'))
    // A just-ended order reaches the done list only once the query side has caught up.
    .filter((o) => status === 'active' || core.queryable(o))
    .filter((o) => !query.symbol || o.symbol === query.symbol)
    .filter((o) => !query.side || o.side === query.side)
    .filter((o) => !query.type || o.type === query.type)
    .filter((o) => (startAt === undefined || o.createdAt >= startAt) && (endAt === undefined || o.createdAt <= endAt))
    .reverse();
  const items = matching.slice((currentPage - 1) * pageSize, currentPage * pageSize).map((o) => orderPayload(o, core.spec(o.symbol)));
  return { currentPage, pageSize, totalNum: matching.length, totalPage: Math.ceil(matching.length / pageSize), items };
}
