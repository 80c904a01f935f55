/**
 * One benchmarked server, run as a child process of scripts/bench/own-overhead.ts (forked with IPC).
 *
 *   argv[2] = 'gateway' | 'floor' | 'stack'
 *
 * Protocol (process.send / 'message'):
 *   child → parent  { type: 'ready', port }          once listening on 127.0.0.1
 *   parent → child  { type: 'templates', templates } floor and stack only, before they listen
 *   parent → child  { type: 'cpu', id }              child answers { type: 'cpu', id, user, system } (µs, cumulative)
 *   parent → child  { type: 'stop' }                 child closes its server, flushes and exits 0
 *
 * The CPU figure is process.cpuUsage() of this process: the parent takes the delta over the
 * measured window, so only the server's own work (JS, GC, syscalls) is counted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export interface Template {
  status: number;
  contentType: string;
  /** The gateway's answer, parsed; `requestId` and `timestamp` are refreshed per request. */
  body: Record<string, unknown>;
  /** The gateway's other response headers (helmet's, RateLimit, WWW-Authenticate), replayed as sent. */
  headers?: Record<string, string>;
}
export interface FloorTemplates {
  health: Template;
  positions: Template;
  switchState: Template;
  orderInvalid: Template;
  orderValid: Template;
  /** GET /api/futures/orders answered from the live feed's cache (a gateway with credentials). */
  ordersFromStream: Template;
}

type ParentMessage = { type: 'cpu'; id: number } | { type: 'stop' } | { type: 'templates'; templates: FloorTemplates };

const kind = process.argv[2];
/**
 * Where the gateway's code is loaded from: the build (dist/src, what `npm start` runs; own-overhead.ts
 * builds it first) unless BENCH_FROM_SOURCE=1. Run from src/ through tsx, every function the gateway
 * creates gets tsx's name-keeping call and private fields its helpers, which the stack, mostly in
 * node_modules, does not pay: the ratio measured the loader, not the gateway.
 */
const code = process.env.BENCH_FROM_SOURCE === '1' ? '../../src' : '../../dist/src';
const send = (message: unknown) => process.send?.(message);

if (!process.send) {
  process.stderr.write('server-child.ts must be forked with an IPC channel\n');
  process.exit(2);
}

let stop: () => Promise<void> = async () => {};

process.on('message', (raw) => {
  const message = raw as ParentMessage;
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', id: message.id, user, system });
  } else if (message.type === 'stop') {
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  } else if (message.type === 'templates' && kind === 'floor') {
    startFloor(message.templates).catch(fail);
  } else if (message.type === 'templates' && kind === 'stack') {
    startStack(message.templates).catch(fail);
  }
});
// The parent gone means nobody will stop us: never outlive it.
process.on('disconnect', () => process.exit(0));

function fail(error: unknown): never {
  process.stderr.write(`bench ${kind} failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
}

if (kind === 'gateway') startGateway().catch(fail);
else if (kind !== 'floor' && kind !== 'stack') fail(new Error(`unknown server kind ${kind}`));

async function startGateway(): Promise<void> {
  const { loadConfig } = await import(`${code}/config/config.js`) as typeof import('../../src/config/config.js');
  const { createGateway } = await import(`${code}/gateway.js`) as typeof import('../../src/gateway.js');
  const config = loadConfig({
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      FEATURE_FUTURES: 'true',
      LOG_LEVEL: 'info',
      // Nothing listens on port 9: no path measured here may reach KuCoin. The feed-backed gateway
      // (own-overhead.ts, the list served from the stream) is given a simulator and its credentials.
      FUTURES_BASE_URL: 'http://127.0.0.1:9',
      ...(JSON.parse(process.env.BENCH_GATEWAY_UPSTREAM ?? '{}') as Record<string, string>),
      // The limiter stays in the pipeline (its cost is part of the gateway's), with a ceiling the
      // benchmark cannot reach, so every request gets its real answer instead of a 429.
      RATE_LIMIT_MAX: '1000000000',
      ADMIN_API_KEYS: process.env.BENCH_ADMIN_KEY ?? '',
      // The replicas' mode (own-overhead.ts BENCH_REDIS=1): the same gateway with a Redis to share state in.
      ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
      // Diagnostics only (e.g. '{"LOG_LEVEL":"silent"}' to see what logging costs); own-overhead.ts flags such runs.
      ...(JSON.parse(process.env.BENCH_GATEWAY_ENV ?? '{}') as Record<string, string>),
    },
    envFile: false,
  });
  const logFile = process.env.BENCH_LOG_FILE ?? '/dev/null';
  const destination = pino.destination({ dest: logFile, sync: false });
  const gateway = await createGateway({ config, logDestination: destination });
  const address = await new Promise<{ port: number }>((resolve, reject) => {
    gateway.server.once('error', reject);
    gateway.server.listen(0, '127.0.0.1', () => resolve(gateway.server.address() as { port: number }));
  });
  stop = async () => {
    await gateway.shutdown();
    destination.flushSync();
  };
  send({ type: 'ready', port: address.port });
}

/** OrderRequest from openapi.yaml, compiled the way the floor needs: ajv 2020 + formats, refs resolved. */
function compileOrderValidator() {
  const root = join(import.meta.dirname, '..', '..');
  const doc = parseYaml(readFileSync(join(root, 'openapi.yaml'), 'utf8')) as { components: unknown };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'https://bench.local/openapi.json', components: doc.components });
  const validate = ajv.getSchema('https://bench.local/openapi.json#/components/schemas/OrderRequest');
  if (!validate) throw new Error('OrderRequest not found in openapi.yaml');
  return validate;
}

/** The gateway's captured answer, with a fresh requestId and timestamp. */
function reply(res: ServerResponse, template: Template): void {
  const requestId = randomUUID();
  const body = { ...template.body };
  if ('requestId' in body) body.requestId = requestId;
  if ('timestamp' in body) body.timestamp = Date.now();
  const bytes = JSON.stringify(body);
  res.writeHead(template.status, {
    ...template.headers,
    'Content-Type': template.contentType,
    'Content-Length': Buffer.byteLength(bytes),
    'X-Request-Id': requestId,
  });
  res.end(bytes);
}

/**
 * The floor: bare node:http, no framework, no logging. Same status, headers and JSON bytes as the
 * gateway (its captured answers, with a fresh requestId and timestamp per request), and the order
 * body read, parsed and validated with the contract's OrderRequest schema.
 */
async function startFloor(templates: FloorTemplates): Promise<void> {
  const validateOrder = compileOrderValidator();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/api/health') return reply(res, templates.health);
    if (req.method === 'GET' && path === '/api/futures/positions') return reply(res, templates.positions);
    if (req.method === 'GET' && path === '/api/admin/futures-switch') return reply(res, templates.switchState);
    if (req.method === 'GET' && path === '/api/futures/orders') return reply(res, templates.ordersFromStream);
    if (req.method === 'POST' && path === '/api/futures/orders') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return reply(res, templates.orderInvalid);
        }
        reply(res, validateOrder(body) ? templates.orderValid : templates.orderInvalid);
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  send({ type: 'ready', port: (server.address() as { port: number }).port });
}

/**
 * The chosen stack with nothing of the gateway on it: Express 5 (on the gateway's request and
 * response classes, express-server.ts), pino-http logging every request to a file, express.json,
 * and openapi-backend routing and validating against openapi.yaml as the gateway sets it up
 * (openapi-backend.ts). Each operation answers the gateway's captured bytes, like the floor: no
 * limiter, metrics, helmet, kill switch, key ring or problem rendering. What this costs over the
 * floor is the least any gateway built on the chosen stack can cost (benchmark 1's third row).
 */
async function startStack(templates: FloorTemplates): Promise<void> {
  const { default: express } = await import('express');
  const { pinoHttp } = await import('pino-http');
  const { loadOpenApiDocument } = await import(`${code}/contract/documents.js`) as typeof import('../../src/contract/documents.js');
  const { createOpenApiBackend } = await import(`${code}/http/openapi-backend.js`) as typeof import('../../src/http/openapi-backend.js');
  const { expressServerClasses } = await import(`${code}/http/express-server.js`) as typeof import('../../src/http/express-server.js');
  const { ACCESS_LINE } = await import(`${code}/http/app.js`) as typeof import('../../src/http/app.js');
  const adminKey = process.env.BENCH_ADMIN_KEY ?? '';
  const api = await createOpenApiBackend(loadOpenApiDocument());
  type Res = ServerResponse;
  api.register({
    getHealth: (_c: unknown, _req: unknown, res: Res) => reply(res, templates.health),
    listPositions: (_c: unknown, _req: unknown, res: Res) => reply(res, templates.positions),
    getFuturesSwitch: (_c: unknown, _req: unknown, res: Res) => reply(res, templates.switchState),
    listOrders: (_c: unknown, _req: unknown, res: Res) => reply(res, templates.ordersFromStream),
    createOrder: (_c: unknown, _req: unknown, res: Res) => reply(res, templates.orderValid),
    validationFail: (_c: unknown, _req: unknown, res: Res) => reply(res, templates.orderInvalid),
    unauthorizedHandler: (_c: unknown, _req: unknown, res: Res) => reply(res, templates.positions),
    notFound: (_c: unknown, _req: unknown, res: Res) => void res.writeHead(404).end(),
    notImplemented: (_c: unknown, _req: unknown, res: Res) => void res.writeHead(501).end(),
  });
  api.registerSecurityHandler('gatewayApiKey', () => true);
  api.registerSecurityHandler('adminApiKey', (_c: unknown, req: IncomingMessage) => req.headers.authorization === `Bearer ${adminKey}`);

  const app = express();
  const logFile = process.env.BENCH_LOG_FILE ?? '/dev/null';
  const destination = pino.destination({ dest: logFile, sync: false });
  // The gateway's own access line (app.ts ACCESS_LINE): the same request fields and the status.
  app.use(pinoHttp({ logger: pino({ level: 'info' }, destination), ...ACCESS_LINE }));
  app.use(express.json());
  app.use((req, res) =>
    api.handleRequest({ method: req.method, path: req.path, query: (req.url.split('?')[1] ?? ''), headers: req.headers as Record<string, string>, body: req.body }, req, res),
  );
  const server = createServer(expressServerClasses(app), app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        destination.flushSync();
        resolve();
      });
      server.closeAllConnections();
    });
  send({ type: 'ready', port: (server.address() as { port: number }).port });
}
