import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { GatewayConfig } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import { GatewayError } from './errors.js';
import { sendProblem } from './problem.js';
import type { KeyRing } from './security.js';

/** Load balancers poll health and Prometheus scrapes metrics; neither should ever be refused. */
const UNLIMITED = new Set(['/api/health', '/metrics']);

/**
 * Per-client inbound limit (express-rate-limit: a fixed window with the IETF `RateLimit` /
 * `RateLimit-Policy` headers, draft 8). A caller presenting a configured key is counted by the key's
 * fingerprint, so many bots behind one NAT each get their own budget; others by IP (/56 for IPv6).
 */
export function createRateLimiter(config: GatewayConfig, metrics: Metrics, keys: KeyRing): RequestHandler {
  const { windowMs, max } = config.rateLimit;
  if (max === 0) return (_req, _res, next) => next();
  const limiter = createLimiter(config, metrics, keys);
  // Decided before the limiter runs: it works out the caller's IP and awaits its store even for a
  // request its own `skip` would let through.
  return (req, res, next) => (UNLIMITED.has(req.path) ? next() : limiter(req, res, next));
}

function createLimiter(config: GatewayConfig, metrics: Metrics, keys: KeyRing): RequestHandler {
  const { windowMs, max } = config.rateLimit;
  return rateLimit({
    windowMs,
    limit: max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'default',
    keyGenerator: (req) => {
      // Only a configured key earns its own budget: counting any presented token would let a
      // caller mint a fresh budget per request with random tokens.
      const { fingerprint } = keys.caller(req);
      return fingerprint ? `key:${fingerprint}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (req: Request, res: Response) => {
      metrics.rateLimitHits.inc({ side: 'inbound' });
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfterSeconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000));
      sendProblem(
        req,
        res,
        new GatewayError('RATE_LIMITED', `Too many requests: at most ${max} per ${windowMs / 1000} s per client.`, { retryAfterSeconds }),
      );
    },
  });
}
