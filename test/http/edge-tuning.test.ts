/**
 * The tuned pieces of the HTTP edge (benchmark 1): each must behave exactly as the plain use of
 * its library would.
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { expressServerClasses } from '../../src/http/express-server.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { KeyRing, keyFingerprint } from '../../src/edge/security.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('requests and responses built on the app prototypes', () => {
  it('are the app own request/response objects, still node:http ones, and Express works on them', async () => {
    const app = express();
    let seen: { reqProto: boolean; resProto: boolean; isIncoming: boolean; isResponse: boolean } | undefined;
    app.get('/things/:id', (req, res) => {
      seen = {
        reqProto: Object.getPrototypeOf(req) === app.request,
        resProto: Object.getPrototypeOf(res) === app.response,
        isIncoming: req instanceof IncomingMessage,
        isResponse: res instanceof ServerResponse,
      };
      res.status(201).json({ id: req.params.id, path: req.path, q: req.query.q });
    });
    const base = await listen(createServer(expressServerClasses(app), app));
    const res = await fetch(`${base}/things/7?q=x`);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: '7', path: '/things/7', q: 'x' });
    expect(seen).toEqual({ reqProto: true, resProto: true, isIncoming: true, isResponse: true });
  });
});

describe('securityHeaders', () => {
  it("records exactly the headers helmet sets on a real answer", async () => {
    const app = express();
    app.disable('x-powered-by');
    app.use(helmet());
    app.get('/', (_req, res) => res.end());
    const base = await listen(createServer(app));
    const real = await fetch(base);
    const recorded = securityHeaders(helmet());
    expect(recorded.size).toBeGreaterThan(5);
    for (const [name, value] of recorded) expect(real.headers.get(name), name).toBe(value);
    const ignore = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
    const realNames = [...real.headers.keys()].filter((name) => !ignore.has(name));
    expect(realNames.sort()).toEqual([...recorded.keys()].map((n) => n.toLowerCase()).sort());
  });

  it('refuses a middleware that does not finish at once', () => {
    expect(() => securityHeaders(() => {})).toThrow(/synchronously/);
  });
});

describe('KeyRing', () => {
  const request = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
  const ring = new KeyRing(['api-key-0123456789'], ['admin-key-0123456789']);

  it('names the configured key a request presents, and its fingerprint', () => {
    expect(ring.caller(request('Bearer api-key-0123456789'))).toEqual({ apiKey: 'api-key-0123456789', fingerprint: keyFingerprint('api-key-0123456789') });
    expect(ring.caller(request('Bearer admin-key-0123456789'))).toEqual({ adminKey: 'admin-key-0123456789', fingerprint: keyFingerprint('admin-key-0123456789') });
  });

  it('names nothing for a missing, malformed or unknown token', () => {
    expect(ring.caller(request())).toEqual({});
    expect(ring.caller(request('Basic api-key-0123456789'))).toEqual({});
    expect(ring.caller(request('Bearer api-key-012345678'))).toEqual({});
  });

  it('looks a request up once: the answer is kept for that request object', () => {
    const req = request('Bearer api-key-0123456789');
    const first = ring.caller(req);
    req.headers.authorization = 'Bearer admin-key-0123456789';
    expect(ring.caller(req)).toBe(first);
    expect(ring.caller(request('Bearer admin-key-0123456789')).adminKey).toBe('admin-key-0123456789');
  });
});

describe('GatewayError', () => {
  it('carries no stack frames (an expected outcome), and leaves the stack limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const error = new GatewayError('VALIDATION_FAILED', 'bad');
    expect(error.stack ?? '').not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('bug').stack).toMatch(/\n\s+at /);
  });
});
