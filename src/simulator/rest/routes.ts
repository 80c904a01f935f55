/**
 * The KuCoin REST routes the simulator answers: every entry of src/kucoin/endpoints.ts, the two
 * bullets, and a few neighbours that cost nothing (test order, cancel by clientOid, cancel all,
 * mark price, status). Pool and weight per docs/kucoin.md "REST endpoints the gateway calls". Handlers return `data` or
 * throw a SimError (a business refusal, HTTP 200).
 */
import type { Pool } from '../../kucoin/endpoints.js';
import type { SimEngine } from '../engine/engine.js';
import { SimError } from '../engine/errors.js';

export interface RouteContext {
  engine: SimEngine;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body when it is an object, else {}. */
  body: Record<string, unknown>;
  /** The parsed JSON body as sent (undefined when there was none). */
  json: unknown;
  bullet: (kind: 'private' | 'public') => KucoinBullet;
}

/** The answer of both bullet endpoints (docs/kucoin.md "The private WebSocket"). */
export interface KucoinBullet {
  token: string;
  instanceServers: Array<{ endpoint: string; encrypt: boolean; protocol: 'websocket'; pingInterval: number; pingTimeout: number }>;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /**
   * private: always signed. public: no signature needed; one is still checked when a KC-API-KEY
   * is sent, so a client signing a public call with a wrong key learns of it here.
   */
  auth: 'private' | 'public';
  pool: Pool;
  weight: number;
  handle: (ctx: RouteContext) => unknown;
}

const route = (method: Route['method'], path: string, auth: Route['auth'], pool: Pool, weight: number, handle: Route['handle']): Route => ({ method, path, auth, pool, weight, handle });
const priv = (method: Route['method'], path: string, weight: number, handle: Route['handle']) => route(method, path, 'private', 'futures', weight, handle);
const pub = (path: string, weight: number, handle: Route['handle']) => route('GET', path, 'public', 'public', weight, handle);
const required = (query: URLSearchParams, name: string): string => {
  const value = query.get(name);
  if (!value) throw new SimError('100001', `${name} is required`);
  return value;
};

/** Order matters: literal paths before the `{orderId}` pattern they share a prefix with. */
export const routes: readonly Route[] = [
  pub('/api/v1/timestamp', 2, ({ engine }) => engine.now()),
  pub('/api/v1/status', 4, () => ({ status: 'open', msg: '' })),
  pub('/api/v1/contracts/active', 3, ({ engine }) => engine.contracts()),
  pub('/api/v1/contracts/{symbol}', 3, ({ engine, params }) => engine.contract(params.symbol!)),
  pub('/api/v1/funding-rate/{symbol}/current', 2, ({ engine, params }) => engine.fundingRate(params.symbol!)),
  pub('/api/v1/mark-price/{symbol}/current', 3, ({ engine, params }) => engine.markPrice(params.symbol!)),
  // Marked Private with no permission; the gateway, TS and CCXT sign it. Public pool, weight 5 (docs/kucoin.md "REST endpoints the gateway calls").
  route('GET', '/api/v1/contracts/risk-limit/{symbol}', 'private', 'public', 5, ({ engine, params }) => engine.riskLimitTiers(params.symbol!)),
  route('POST', '/api/v1/bullet-public', 'public', 'public', 10, ({ bullet }) => bullet('public')),

  priv('GET', '/api/v1/account-overview', 5, ({ engine, query }) => engine.accountOverview(query.get('currency') || undefined)),
  priv('GET', '/api/v1/positions', 2, ({ engine, query }) => engine.positions(query.get('currency') || undefined)),
  priv('GET', '/api/v1/position', 2, ({ engine, query }) => engine.position(query.get('symbol'))),
  priv('POST', '/api/v1/orders', 2, ({ engine, json }) => engine.placeOrder(json)),
  priv('POST', '/api/v1/orders/test', 2, ({ engine, json }) => engine.placeOrder(json, { test: true })),
  priv('GET', '/api/v1/orders', 2, ({ engine, query }) =>
    engine.listOrders({
      status: query.get('status'),
      symbol: query.get('symbol'),
      side: query.get('side'),
      type: query.get('type'),
      startAt: query.get('startAt'),
      endAt: query.get('endAt'),
      currentPage: query.get('currentPage'),
      pageSize: query.get('pageSize'),
    }),
  ),
  // An unknown order id is 100001 `error.getOrder.orderNotExist` (engine.order). What KuCoin answers
  // for an unknown clientOid is not documented; the simulator answers `data: null`.
  priv('GET', '/api/v1/orders/byClientOid', 5, ({ engine, query }) => engine.orderByClientOid(required(query, 'clientOid'))),
  priv('GET', '/api/v1/orders/{orderId}', 5, ({ engine, params }) => engine.order(params.orderId!)),
  priv('DELETE', '/api/v1/orders/client-order/{clientOid}', 1, ({ engine, params, query }) => engine.cancelByClientOid(params.clientOid!, query.get('symbol'))),
  priv('DELETE', '/api/v1/orders/{orderId}', 1, ({ engine, params }) => engine.cancelOrder(params.orderId!)),
  priv('DELETE', '/api/v3/orders', 10, ({ engine, query }) => engine.cancelAll(query.get('symbol'))),
  priv('GET', '/api/v2/position/getMarginMode', 2, ({ engine, query }) => engine.marginMode(required(query, 'symbol'))),
  priv('POST', '/api/v2/position/changeMarginMode', 2, ({ engine, body }) => engine.changeMarginMode(body)),
  priv('GET', '/api/v2/getCrossUserLeverage', 2, ({ engine, query }) => engine.crossLeverage(required(query, 'symbol'))),
  priv('POST', '/api/v2/changeCrossUserLeverage', 2, ({ engine, body }) => engine.changeCrossLeverage(body)),
  priv('POST', '/api/v1/position/risk-limit-level/change', 5, ({ engine, body }) => engine.changeRiskLimitLevel(body)),
  priv('POST', '/api/v1/bullet-private', 10, ({ bullet }) => bullet('private')),
];

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** The route for a method and (still encoded) path; path parameters come back decoded. */
export function matchRoute(method: string, pathname: string): RouteMatch | undefined {
  const parts = pathname.split('/');
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const template = candidate.path.split('/');
    if (template.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const fits = template.every((segment, i) => {
      const part = parts[i]!;
      const name = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (name === undefined) return segment === part;
      if (part === '') return false;
      try {
        params[name] = decodeURIComponent(part);
      } catch {
        return false;
      }
      return true;
    });
    if (fits) return { route: candidate, params };
  }
  return undefined;
}
