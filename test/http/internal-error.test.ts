import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createFuturesServices } from '../../src/futures/services.js';
import { createApp } from '../../src/http/app.js';
import { KucoinClient } from '../../src/kucoin/client.js';
import { RateBudget } from '../../src/kucoin/rate-budget.js';
import { loadOpenApiDocument } from '../../src/contract/documents.js';
import type { HandlerDeps } from '../../src/http/handlers/context.js';
import { createOpenApiBackend } from '../../src/http/openapi-backend.js';
import { KeyRing } from '../../src/edge/security.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { FuturesSwitch } from '../../src/switch/futures-switch.js';
import { request } from '../support/http-client.js';
import { testConfig } from '../support/gateway.js';

/** A gateway whose docs page is broken, standing in for any bug in a handler. */
let server: Server;
let baseUrl: string;
const lines: string[] = [];

beforeAll(async () => {
  const openapi = loadOpenApiDocument();
  const deps: HandlerDeps = {
    config: testConfig(),
    logger: createLogger({
      level: 'info',
      secrets: [],
      destination: new Writable({ write: (chunk, _e, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) }),
    }),
    metrics: createMetrics(),
    futuresSwitch: new FuturesSwitch(false),
    keys: new KeyRing([], []),
    version: 'test',
    startedAt: Date.now(),
    documents: {
      openapi,
      asyncapi: {},
      get docsHtml(): string {
        throw new TypeError('docs template exploded at /work/secret/path.ts:12');
      },
    },
    futures: createFuturesServices(
      new KucoinClient({
        baseUrl: 'http://127.0.0.1:9',
        credentials: null,
        keyVersion: '3',
        timeoutMs: 1000,
        logger: pino({ level: 'silent' }),
        metrics: createMetrics(),
        budget: new RateBudget({ limits: { futures: 2000, public: 2000 } }),
      }),
      pino({ level: 'silent' }),
    ),
    closedSockets: () => 0,
  };
  const app = createApp(await createOpenApiBackend(openapi), deps);
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a bug in a handler', () => {
  it('answers a typed 500 INTERNAL_ERROR without the error or its stack', async () => {
    const res = await request(baseUrl, 'GET', '/api/docs', { headers: { 'x-request-id': 'bug-1' } });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'INTERNAL_ERROR', requestId: 'bug-1', success: false });
    expect(res.text).not.toContain('exploded');
    expect(res.text).not.toContain('/work/secret');
  });

  it('is logged at error level with the stack and the request id', async () => {
    const logged = lines.map((l) => JSON.parse(l));
    const bug = logged.find((l) => l.msg === 'unhandled error');
    expect(bug).toMatchObject({ level: 'error', requestId: 'bug-1' });
    expect(bug.err.stack).toContain('docs template exploded');
    expect(logged.find((l) => l.req?.id === 'bug-1' && l.res)).toMatchObject({ level: 'error', res: { statusCode: 500 } });
  });
});
