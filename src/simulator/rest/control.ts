/**
 * The simulator's control API: no auth, loopback callers only (others get 403). Plain JSON in and
 * out (not KuCoin's envelope); errors are `{"error":"…"}` with HTTP 400/404.
 *
 *   GET    /sim/state            → { seed, now, accounts: {USDT, XBT} (account-overview), positions (open, docs/kucoin.md "REST endpoints the gateway calls"),
 *                                    orders: {active, done} (docs/kucoin.md "REST endpoints the gateway calls"), markets, funding, settings, orderQueries, fundingHistory,
 *                                    requests: {"GET /api/v1/orders": n, …}, faults: [...], ws: {connections} }
 *   POST   /sim/reset            { seed?: number }  → a fresh account (same seed by default); also clears
 *                                    faults, request counters, rate-limit windows and usage. → { seed }
 *   GET    /sim/usage            → { pools: { futures, public: { limit, calls, weight, refused, maxWindowWeight,
 *                                    perSecond: [[epochSecond, weight], …] } }, rateLimited: n (every 429 sent,
 *                                    fault rules included), requests: {"GET /api/v1/orders": n, …} }
 *   POST   /sim/faults           [rule, …] (or one rule, or { rules: [...] }) → { added: [rule+id], faults: [...] }
 *   GET    /sim/faults           → { faults: [...] }
 *   DELETE /sim/faults           → { cleared: n }
 *   POST   /sim/ws/drop          → { dropped: n }   every WS connection cut without a close frame
 *   POST   /sim/ws/options       { allOrders?: "orderChange" | "symbolOrderChange", refuseTopics?: [topic, …] }
 *                                    → the options now: the form the all-orders subscription receives, and the
 *                                    topics (a bare family name covers its `:{symbol}` forms) whose subscribe
 *                                    is answered with an error frame. /sim/reset restores the defaults.
 *   POST   /sim/ws/expire-tokens → { expired: true } every bullet token issued so far reads as expired (401)
 *   POST   /sim/mark             { symbol, price, hold?: boolean } → { symbol, markPrice, indexPrice, held }
 *                                    sets the mark (on the tick grid), fills the resting limits it crosses;
 *                                    hold:true keeps the random walk off this symbol until a mark without hold
 *   POST   /sim/tick             { steps?: number } → { steps } the random walk (and due funding) by hand
 *   POST   /sim/funding/settle   → { settlements: [{symbol, fundingRate, fundingFee}] } every contract settles now
 *   POST   /sim/risk-limit       { delayMs?: number, fail?: string | null } → { delayMs, fail } how later
 *                                    risk-limit level changes settle: their position.adjustRiskLimit push comes
 *                                    delayMs after the POST (0: before it answers), failing with `fail` as msg
 *                                    when set; /sim/reset restores { delayMs: 0, fail: null }
 *   POST   /sim/orders/behaviour { clientOidScope?: "forever" | "active", lookupLagMs?: ms } → { clientOidScope, lookupLagMs }
 *                                    which orders hold their clientOid, and how far the lookup by clientOid and
 *                                    the done list trail the matching engine; POST /sim/reset restores the configured ones
 *
 * A fault rule: { match: { method?: "POST", path?: "/api/v1/orders" (prefix) }, times?: n (default: until
 * cleared), phase?: "before" | "after" (default before: the account never sees the request; after: it is
 * handled, then the answer is replaced), action: one of
 *   { type: "http", status, body? }        HTTP status with body (JSON value or raw string; default {code,msg})
 *   { type: "business", code, msg }        HTTP 200 {"code":code,"msg":msg}
 *   { type: "rate-limit", resetMs }        HTTP 429 {"code":"429000"} with gw-ratelimit-remaining 0, reset resetMs
 *   { type: "latency", ms }                waits ms, then goes on (combines with the rules after it)
 *   { type: "bad-body", body }             HTTP 200 with this raw text as the body
 *   { type: "drop" }                       destroys the socket without an answer
 * }
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimEngine } from '../engine/engine.js';
import { SimError } from '../engine/errors.js';
import { FaultRuleError, type FaultBook } from './faults.js';
import { isLoopback, json, readBody, send } from './http.js';
import type { ResourcePools } from './rate-limit.js';
import type { SimWsOptions } from '../ws/server.js';

export interface WsControls {
  dropAll(): number;
  options(change?: Partial<SimWsOptions>): SimWsOptions;
  expireTokens(): void;
  connectionCount(): number;
}

/** What the control routes read and reset of the REST app (app.ts): its fault rules, pools and counts. */
export interface ControlledApp {
  faults: FaultBook;
  pools: ResourcePools;
  /** Requests seen per `METHOD /path/{template}`. */
  counters: Map<string, number>;
  /** HTTP 429 answers sent since the last reset (the pools' refusals and fault rules). */
  stats: { rateLimited: number };
}

export interface ControlContext {
  engine: SimEngine;
  app: ControlledApp;
  ws: WsControls;
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parse(text: string): Record<string, unknown> | unknown[] {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object') return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ControlError(400, 'the body must be a JSON object or array');
}

type Handler = (ctx: ControlContext, body: Record<string, unknown> | unknown[]) => unknown;
const field = (body: Record<string, unknown> | unknown[], name: string): unknown => (Array.isArray(body) ? undefined : body[name]);

const handlers: Record<string, Handler> = {
  'GET /sim/state': ({ engine, app, ws }) => ({
    ...engine.view(),
    requests: Object.fromEntries(app.counters),
    faults: app.faults.list(),
    ws: { connections: ws.connectionCount() },
  }),
  'POST /sim/reset': ({ engine, app, ws }, body) => {
    const seed = field(body, 'seed');
    if (seed !== undefined && !Number.isSafeInteger(seed)) throw new ControlError(400, 'seed must be an integer');
    engine.reset(seed as number | undefined);
    app.faults.clear();
    app.counters.clear();
    app.pools.reset();
    app.stats.rateLimited = 0;
    ws.options({ allOrders: 'orderChange', refuseTopics: [] });
    return { seed: engine.seed };
  },
  'GET /sim/usage': ({ app }) => ({ pools: app.pools.usage(), rateLimited: app.stats.rateLimited, requests: Object.fromEntries(app.counters) }),
  'POST /sim/faults': ({ app }, body) => ({ added: app.faults.add(body), faults: app.faults.list() }),
  'GET /sim/faults': ({ app }) => ({ faults: app.faults.list() }),
  'DELETE /sim/faults': ({ app }) => ({ cleared: app.faults.clear() }),
  'POST /sim/ws/drop': ({ ws }) => ({ dropped: ws.dropAll() }),
  'POST /sim/ws/options': ({ ws }, body) => {
    const allOrders = field(body, 'allOrders');
    const refuseTopics = field(body, 'refuseTopics');
    if (allOrders !== undefined && allOrders !== 'orderChange' && allOrders !== 'symbolOrderChange') throw new ControlError(400, 'allOrders must be "orderChange" or "symbolOrderChange"');
    if (refuseTopics !== undefined && !(Array.isArray(refuseTopics) && refuseTopics.every((t) => typeof t === 'string' && t.startsWith('/')))) {
      throw new ControlError(400, 'refuseTopics must be an array of topics (each starting with "/")');
    }
    return ws.options({ ...(allOrders !== undefined ? { allOrders } : {}), ...(refuseTopics !== undefined ? { refuseTopics: refuseTopics as string[] } : {}) });
  },
  'POST /sim/ws/expire-tokens': ({ ws }) => {
    ws.expireTokens();
    return { expired: true };
  },
  'POST /sim/mark': ({ engine }, body) => {
    const symbol = field(body, 'symbol');
    const price = Number(field(body, 'price'));
    if (typeof symbol !== 'string') throw new ControlError(400, 'symbol is required');
    engine.setMark(symbol, price, field(body, 'hold') === true);
    const mark = engine.markPrice(symbol);
    return { symbol, markPrice: mark.value, indexPrice: mark.indexPrice, held: field(body, 'hold') === true };
  },
  'POST /sim/tick': ({ engine }, body) => {
    const steps = field(body, 'steps') ?? 1;
    if (!Number.isSafeInteger(steps) || (steps as number) < 1 || (steps as number) > 10_000) throw new ControlError(400, 'steps must be an integer from 1 to 10000');
    for (let i = 0; i < (steps as number); i++) engine.tick();
    return { steps };
  },
  'POST /sim/funding/settle': ({ engine }) => ({ settlements: engine.settleFunding() }),
  'POST /sim/risk-limit': ({ engine }, body) => {
    const delayMs = field(body, 'delayMs') ?? 0;
    const fail = field(body, 'fail') ?? null;
    if (!Number.isSafeInteger(delayMs) || (delayMs as number) < 0 || (delayMs as number) > 600_000) throw new ControlError(400, 'delayMs must be an integer from 0 to 600000');
    if (fail !== null && (typeof fail !== 'string' || fail === '')) throw new ControlError(400, 'fail must be a non-empty string or null');
    engine.riskLimitBehaviour = { delayMs: delayMs as number, ...(fail === null ? {} : { failWith: fail as string }) };
    return { delayMs, fail };
  },
  'POST /sim/orders/behaviour': ({ engine }, body) => {
    const clientOidScope = field(body, 'clientOidScope');
    const lookupLagMs = field(body, 'lookupLagMs');
    if (clientOidScope !== undefined && clientOidScope !== 'forever' && clientOidScope !== 'active') throw new ControlError(400, 'clientOidScope must be forever or active');
    if (lookupLagMs !== undefined && !(Number.isSafeInteger(lookupLagMs) && (lookupLagMs as number) >= 0)) throw new ControlError(400, 'lookupLagMs must be an integer of 0 or more');
    return engine.setOrderQueries({
      ...(clientOidScope === undefined ? {} : { clientOidScope }),
      ...(lookupLagMs === undefined ? {} : { lookupLagMs: lookupLagMs as number }),
    });
  },
};

export async function handleControl(req: IncomingMessage, res: ServerResponse, pathname: string, ctx: ControlContext): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) return send(res, json(403, { error: 'the control API answers loopback callers only' }));
  const text = await readBody(req);
  const handler = handlers[`${(req.method ?? 'GET').toUpperCase()} ${pathname}`];
  if (!handler) return send(res, json(404, { error: `no control route ${req.method} ${pathname}` }));
  try {
    send(res, json(200, handler(ctx, parse(text))));
  } catch (error) {
    if (error instanceof ControlError) return send(res, json(error.status, { error: error.message }));
    if (error instanceof FaultRuleError) return send(res, json(400, { error: error.message }));
    if (error instanceof SimError) return send(res, json(400, { error: error.message, code: error.code }));
    throw error;
  }
}
