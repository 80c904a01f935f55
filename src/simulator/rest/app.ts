/**
 * The simulator's HTTP front: KuCoin's REST surface plus the `/sim/` control API (control.ts).
 * A KuCoin request goes: fault rules (`before`) → route (404000) → 415000 → auth (docs/kucoin.md "Signing and authentication") → resource
 * pool (429000) → body → handler → fault rules (`after`). Envelopes and statuses follow
 * docs/kucoin.md "Envelope, statuses and rate limits": success `{"code":"200000","data":…}` HTTP 200; business refusals
 * `{"code","msg"}` HTTP 200; auth refusals HTTP 400/401 (auth.ts); 429000 HTTP 429; 404000 HTTP 404;
 * 415000 HTTP 415. Every KuCoin answer carries the `gw-ratelimit-*` headers of its pool.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Pool } from '../../kucoin/endpoints.js';
import type { SimEngine } from '../engine/engine.js';
import { SimError } from '../engine/errors.js';
import { verifySignedRequest, type SimCredentials } from './auth.js';
import { handleControl, type ControlledApp, type WsControls } from './control.js';
import { FaultBook, type FaultAction } from './faults.js';
import { BodyTooLargeError, json, readBody, send, sleep, type Reply } from './http.js';
import { ResourcePools } from './rate-limit.js';
import { matchRoute, type KucoinBullet } from './routes.js';

export interface SimRestOptions {
  engine: SimEngine;
  credentials: SimCredentials;
  /** Quota per 30 s window: Futures (VIP0 2000) and Public (2000), docs/kucoin.md "Envelope, statuses and rate limits". */
  quotas: Record<Pool, number>;
  windowMs?: number;
  /** Issues a WS token for a bullet answer. */
  issueToken: (kind: 'private' | 'public') => string;
  /** `ws://host:port/ws`, known once the server listens. */
  wsEndpoint: () => string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  ws: WsControls;
  logger?: Logger;
}

export interface SimRestApp extends ControlledApp {
  listener: (req: IncomingMessage, res: ServerResponse) => void;
}

const kucoinError = (status: number, code: string, msg: string, headers: Record<string, string>): Reply => json(status, { code, msg }, headers);

export function createSimRestApp(options: SimRestOptions): SimRestApp {
  const { engine, logger } = options;
  const faults = new FaultBook();
  const pools = new ResourcePools({ limits: options.quotas, now: engine.now, ...(options.windowMs ? { windowMs: options.windowMs } : {}) });
  const counters = new Map<string, number>();
  const bullet = (kind: 'private' | 'public'): KucoinBullet => ({
    token: options.issueToken(kind),
    instanceServers: [{ endpoint: options.wsEndpoint(), encrypt: false, protocol: 'websocket', pingInterval: options.pingIntervalMs, pingTimeout: options.pingTimeoutMs }],
  });
  const stats = { rateLimited: 0 };
  const app: SimRestApp = { listener: () => undefined, faults, pools, counters, stats };

  /** Applies fault actions; true when one of them answered (or dropped) the request. */
  async function applyFaults(actions: FaultAction[], res: ServerResponse, pool: Pool): Promise<boolean> {
    for (const action of actions) {
      if (action.type === 'latency') {
        await sleep(action.ms);
        continue;
      }
      const headers = pools.headers(pool);
      if (action.type === 'drop') res.socket?.destroy();
      else if (action.type === 'http') {
        const body = action.body ?? { code: action.status >= 500 ? '500000' : `${action.status}000`, msg: 'Injected fault' };
        send(res, { status: action.status, body: typeof body === 'string' ? body : JSON.stringify(body), headers });
      } else if (action.type === 'business') send(res, kucoinError(200, action.code, action.msg, headers));
      else if (action.type === 'rate-limit') {
        const limited = { ...headers, 'gw-ratelimit-remaining': '0', 'gw-ratelimit-reset': String(action.resetMs) };
        stats.rateLimited += 1;
        send(res, kucoinError(429, '429000', 'Too Many Requests', limited));
      } else send(res, { status: 200, body: action.body, headers });
      return true;
    }
    return false;
  }

  async function handleKucoin(req: IncomingMessage, res: ServerResponse, rawUrl: string, pathname: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const match = matchRoute(method, pathname);
    const pool: Pool = match?.route.pool ?? 'public';
    const key = `${method} ${match?.route.path ?? pathname}`;
    counters.set(key, (counters.get(key) ?? 0) + 1);

    let body: string;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return send(res, kucoinError(413, '400100', error.message, pools.headers(pool)));
      throw error;
    }
    if (await applyFaults(faults.take(method, pathname, 'before'), res, pool)) return;
    if (!match) return send(res, kucoinError(404, '404000', 'Not Found', pools.headers(pool)));
    const { route, params } = match;

    // OLD: a body must be JSON (415000). An empty POST (the bullets) has no media type to check.
    const contentType = String(req.headers['content-type'] ?? '');
    if (body !== '' && !/^application\/json\b/i.test(contentType)) return send(res, kucoinError(415, '415000', 'Unsupported Media Type', pools.headers(pool)));

    if (route.auth === 'private' || req.headers['kc-api-key'] !== undefined) {
      const failure = verifySignedRequest({ method, rawUrl, body, headers: req.headers }, options.credentials, engine.now());
      if (failure) return send(res, kucoinError(failure.status, failure.code, failure.msg, pools.headers(pool)));
    }
    if (!pools.take(pool, route.weight)) {
      stats.rateLimited += 1;
      return send(res, kucoinError(429, '429000', 'Too Many Requests', { ...pools.headers(pool), 'gw-ratelimit-remaining': '0' }));
    }

    let parsed: unknown;
    if (body !== '') {
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(res, kucoinError(400, '400100', 'The request body is not valid JSON', pools.headers(pool)));
      }
    }
    const query = new URLSearchParams(rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '');
    let reply: Reply;
    try {
      const object = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
      const data = route.handle({ engine, params, query, body: object, json: parsed, bullet });
      reply = json(200, { code: '200000', data: data ?? null }, pools.headers(pool));
    } catch (error) {
      if (!(error instanceof SimError)) throw error;
      reply = kucoinError(200, error.code, error.message, pools.headers(pool));
    }
    if (await applyFaults(faults.take(method, pathname, 'after'), res, pool)) return;
    send(res, reply);
  }

  app.listener = (req, res) => {
    const rawUrl = req.url ?? '/';
    const pathname = rawUrl.split('?')[0]!;
    const work = pathname === '/sim' || pathname.startsWith('/sim/') ? handleControl(req, res, pathname, { engine, app, ws: options.ws }) : handleKucoin(req, res, rawUrl, pathname);
    work.catch((error: unknown) => {
      logger?.error({ err: error, url: rawUrl }, 'simulator request failed');
      send(res, json(500, { code: '500000', msg: 'Internal Server Error' }));
    });
  };
  return app;
}
