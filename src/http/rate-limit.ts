import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ipKeyGenerator, rateLimit, type Options, type RateLimitInfo, type Store } from 'express-rate-limit';
import type { GatewayConfig } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import { GatewayError } from '../errors.js';
import { sendProblem } from './problem.js';
import type { KeyRing } from '../edge/security.js';
import type { SharedRedis } from '../redis/shared-redis.js';
import { SharedInboundStore } from './inbound-store.js';
import { LocalWindows } from './local-windows.js';

/** Load balancers poll health and Prometheus scrapes metrics; neither should ever be refused. */
const UNLIMITED = new Set(['/api/health', '/metrics']);

/**
 * Per-client inbound limit (a fixed window with the IETF `RateLimit` / `RateLimit-Policy` headers,
 * draft 8). A caller presenting a configured key is counted by the key's fingerprint, so many bots
 * behind one NAT each get their own budget; others by IP (/56 for IPv6).
 *
 * Windows in this process (no REDIS_URL): counted synchronously in place (LocalWindows), the
 * request going on in the same tick. Windows in the shared Redis: express-rate-limit's middleware
 * over the shared store (its awaits are the Redis round trip's anyway).
 */
export function createRateLimiter(config: GatewayConfig, metrics: Metrics, keys: KeyRing, logger?: Logger): RequestHandler {
  const { windowMs, max } = config.rateLimit;
  if (max === 0) return (_req, _res, next) => next();
  const store = inboundWindows(keys, windowMs);
  if (store instanceof LocalWindows) return createLocalLimiter(config, metrics, keys, store, logger);
  const limiter = createLimiter(config, metrics, keys);
  // Decided before the limiter runs: it works out the caller's IP and awaits its store even for a
  // request its own `skip` would let through.
  return (req, res, next) => {
    if (UNLIMITED.has(req.path)) return next();
    return limiter(req, res, (error?: unknown) => {
      if (error === undefined) setRateLimitHeaders(req, res, windowMs);
      next(error);
    });
  };
}

/**
 * The IETF draft-8 `RateLimit` and `RateLimit-Policy` headers, as express-rate-limit writes them
 * with `standardHeaders: 'draft-8'`, but with the policy's partition key (`pk`, the first 12 hex
 * digits of the SHA-256 of the client's key, base64) worked out once per client rather than on
 * every request: that hash was ~6 µs of each request's CPU (benchmark 1).
 */
function setRateLimitHeaders(req: Request, res: Response, windowMs: number): void {
  const info = rateLimitOf(req);
  if (info === undefined || res.headersSent) return;
  res.setHeader('RateLimit', `"${IDENTIFIER}"; r=${info.remaining}; t=${secondsToReset(info, windowMs)}`);
  res.setHeader('RateLimit-Policy', `"${IDENTIFIER}"; q=${info.limit}; w=${Math.ceil(windowMs / 1000)}; pk=:${partitionKey(info.key)}:`);
}

const rateLimitOf = (req: Request): RateLimitInfo | undefined => (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;

/** Whole seconds until the client's window resets (the whole window when the store gives no time). */
function secondsToReset(info: Pick<RateLimitInfo, 'resetTime'> | undefined, windowMs: number): number {
  return info?.resetTime ? Math.max(0, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(windowMs / 1000);
}

const IDENTIFIER = 'default';
/** Partition keys by client key; cleared when full, so a flood of new IPs cannot grow it without bound. */
const partitionKeys = new Map<string, string>();
const MAX_PARTITION_KEYS = 10_000;

function partitionKey(key: string): string {
  let pk = partitionKeys.get(key);
  if (pk === undefined) {
    if (partitionKeys.size >= MAX_PARTITION_KEYS) partitionKeys.clear();
    pk = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
    partitionKeys.set(key, pk);
  }
  return pk;
}

/**
 * Who a request counts as, for the inbound limit and the shares of KuCoin's budget: a configured
 * key by its fingerprint, anyone else by address (/56 for IPv6). Only a configured key earns its own
 * budget: counting any presented token would let a caller mint a fresh budget per request.
 */
export function callerKey(req: Request, keys: KeyRing): string {
  // Worked out once per request: the inbound limiter's key generator (this function) left it here.
  const limited = rateLimitOf(req)?.key;
  if (limited !== undefined) return limited;
  const { fingerprint } = keys.caller(req);
  return fingerprint ? `key:${fingerprint}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

/**
 * The callers' windows of the inbound limit, one store per gateway (per KeyRing, which each gateway
 * builds once): its HTTP requests and its /ws/futures upgrades count in the same window, so
 * sockets cannot be opened past the request budget. In this process's memory, unless
 * `shareInboundWindows` put them in the Redis the replicas share.
 */
const windowsOfGateway = new WeakMap<KeyRing, Store>();

function inboundWindows(keys: KeyRing, windowMs: number): Store {
  let store = windowsOfGateway.get(keys);
  if (store === undefined) {
    store = new LocalWindows(windowMs);
    windowsOfGateway.set(keys, store);
  }
  return store;
}

/**
 * With REDIS_URL: this gateway's inbound windows (HTTP and upgrades) are kept in the shared Redis,
 * one window per caller across every replica (src/http/inbound-store.ts). Called before the limiter
 * and the upgrade counter are built.
 */
export function shareInboundWindows(config: GatewayConfig, keys: KeyRing, shared: SharedRedis): void {
  const store = new SharedInboundStore(shared);
  store.init({ windowMs: config.rateLimit.windowMs } as Options);
  windowsOfGateway.set(keys, store);
}

/** A request (or upgrade) past its window: counted, and the 429 to answer, due again when the window resets. */
function refused(metrics: Metrics, { max, windowMs }: GatewayConfig['rateLimit'], window: Pick<RateLimitInfo, 'resetTime'> | undefined): GatewayError {
  metrics.rateLimitHits.inc({ side: 'inbound' });
  const retryAfterSeconds = Math.max(1, secondsToReset(window, windowMs));
  return new GatewayError('RATE_LIMITED', `Too many requests: at most ${max} per ${windowMs / 1000} s per client.`, { retryAfterSeconds });
}

/**
 * Counts a WebSocket upgrade in its caller's inbound window, as one request: resolves with the
 * 429 to answer once the window is spent, undefined otherwise. Health and metrics paths are not
 * counted, as over HTTP.
 */
export function createUpgradeCounter(config: GatewayConfig, metrics: Metrics, keys: KeyRing): (req: IncomingMessage) => Promise<GatewayError | undefined> {
  const { windowMs, max } = config.rateLimit;
  if (max === 0) return () => Promise.resolve(undefined);
  const store = inboundWindows(keys, windowMs);
  return async (req) => {
    if (UNLIMITED.has((req.url ?? '').split('?')[0] ?? '')) return undefined;
    // The gateway's server builds its requests on Express's prototype (express-server.ts), so
    // `req.ip` honours TRUST_PROXY exactly as for HTTP requests.
    const key = callerKey(req as Request, keys);
    const window = store instanceof LocalWindows ? store.hit(key) : await store.increment(key);
    return window.totalHits <= max ? undefined : refused(metrics, config.rateLimit, window);
  };
}

function createLimiter(config: GatewayConfig, metrics: Metrics, keys: KeyRing): RequestHandler {
  const { windowMs, max } = config.rateLimit;
  return rateLimit({
    windowMs,
    limit: max,
    store: inboundWindows(keys, windowMs),
    // Written by setRateLimitHeaders (above) in the same draft-8 form, on answers and refusals alike.
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (req) => callerKey(req, keys),
    handler: (req: Request, res: Response) => {
      setRateLimitHeaders(req, res, windowMs);
      sendProblem(req, res, refused(metrics, config.rateLimit, rateLimitOf(req)));
    },
  });
}

/**
 * The limiter over this process's windows, without an await: the same key, the same
 * `req.rateLimit` (express-rate-limit's RateLimitInfo: callerKey and the request scope read it),
 * the same headers on answers and refusals, the same 429 and metric as the library's handler above.
 * express-rate-limit's one-time configuration checks do not run here (they still do with
 * REDIS_URL); the one that matters in a deployment is kept: an `X-Forwarded-For` arriving while
 * TRUST_PROXY is off means a proxy in front whose clients all count as its one address. It is
 * logged once per process, as the library warns once.
 */
function createLocalLimiter(config: GatewayConfig, metrics: Metrics, keys: KeyRing, store: LocalWindows, logger?: Logger): RequestHandler {
  const { windowMs, max } = config.rateLimit;
  let forwardedWarned = config.trustProxy;
  return (req, res, next) => {
    if (UNLIMITED.has(req.path)) return next();
    if (!forwardedWarned && req.headers['x-forwarded-for'] !== undefined) {
      forwardedWarned = true;
      logger?.warn(
        { event: 'inbound_limit_forwarded_for' },
        'A request came with X-Forwarded-For while TRUST_PROXY is off: behind a proxy, every client counts as the proxy\'s address in the inbound limit. Set TRUST_PROXY=true if the gateway runs behind a trusted proxy.',
      );
    }
    const key = callerKey(req, keys);
    const { totalHits, resetTime } = store.hit(key);
    const info: RateLimitInfo = { limit: max, used: totalHits, remaining: Math.max(max - totalHits, 0), resetTime, key };
    (req as Request & { rateLimit?: RateLimitInfo }).rateLimit = info;
    setRateLimitHeaders(req, res, windowMs);
    if (totalHits <= max) return next();
    sendProblem(req, res, refused(metrics, config.rateLimit, info));
  };
}
