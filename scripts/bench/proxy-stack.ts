/**
 * The chosen stack alone as a proxy, for scripts/bench/proxied-latency.ts: what a proxied call costs
 * on Express 5 + pino-http + openapi-backend with nothing of the gateway on it. It sits between the
 * bare node:http proxy (proxy-floor.ts: one more HTTP hop, nothing else) and the gateway, as
 * benchmark 1's "stack alone" sits between its floor and the gateway.
 *
 * It receives the GATEWAY's request (`POST /api/futures/orders` with the gateway's order body,
 * `GET /api/futures/orders/{orderId}`), set up as the gateway sets up its stack: Express on the
 * gateway's request and response classes (src/http/express-server.ts), pino-http with the
 * gateway's access-line serializers at the gateway's level in that benchmark (warn), express.json,
 * and openapi-backend routing and validating the request against openapi.yaml
 * (src/http/openapi-backend.ts). The operation handler then forwards the DIRECT call the load
 * generator signed (the KC-API-* headers as they came; an order's upstream body from the
 * `x-bench-upstream-body` header, as the load generator cannot sign what it does not send) to the
 * simulator on the agent of src/kucoin/transport.ts, and writes KuCoin's answer back unchanged.
 * Not done here, as it is the gateway's own work: keys, the limiter, metrics, security headers, the
 * kill switch, signing, the upstream budget, idempotency, the mapping of KuCoin's answer.
 *
 *   PROXY_STACK_UPSTREAM=http://127.0.0.1:PORT PORT=0 HOST=127.0.0.1 node --import tsx scripts/bench/proxy-stack.ts
 *
 * Prints one JSON line `{"event":"listening","port":N}` once it listens (what
 * test/support/process.ts's startGatewayProcess waits for); a failed forward answers 502 and writes
 * the reason to stderr. Exits on SIGTERM.
 */
import { createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import express from 'express';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Context } from 'openapi-backend';
import { loadOpenApiDocument } from '../../src/contract/documents.js';
import { ACCESS_LINE } from '../../src/http/app.js';
import { expressServerClasses } from '../../src/http/express-server.js';
import { createOpenApiBackend } from '../../src/http/openapi-backend.js';
import { failer, relayAnswer, serveUntilSigterm, upstreamFromEnv } from './proxy-relay.js';

const { transport, hostname, port } = upstreamFromEnv('PROXY_STACK_UPSTREAM');

/** The signed call's own headers, forwarded as they came. */
const SIGNED = ['kc-api-key', 'kc-api-sign', 'kc-api-timestamp', 'kc-api-passphrase', 'kc-api-key-version'];

function forward(req: IncomingMessage, res: ServerResponse, method: string, path: string, body: string | undefined): void {
  const fail = failer(res, `proxy-stack: ${method} ${path}`);
  const headers: OutgoingHttpHeaders = {};
  for (const name of SIGNED) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const out = request({ agent: transport.agent, hostname, port, method, path, headers }, (answer) => relayAnswer(answer, res, fail));
  out.on('error', (error) => fail(error.message));
  out.end(body);
}

const api = await createOpenApiBackend(loadOpenApiDocument());
api.register({
  createOrder: (_c: Context, req: IncomingMessage, res: ServerResponse) => {
    const body = req.headers['x-bench-upstream-body'];
    if (typeof body !== 'string') return void res.writeHead(400).end('x-bench-upstream-body missing');
    forward(req, res, 'POST', '/api/v1/orders', body);
  },
  getOrder: (c: Context, req: IncomingMessage, res: ServerResponse) => forward(req, res, 'GET', `/api/v1/orders/${String(c.request.params.orderId)}`, undefined),
  validationFail: (c: Context, _req: IncomingMessage, res: ServerResponse) => void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(c.validation.errors)),
  notFound: (_c: Context, _req: IncomingMessage, res: ServerResponse) => void res.writeHead(404).end(),
  notImplemented: (_c: Context, _req: IncomingMessage, res: ServerResponse) => void res.writeHead(501).end(),
});
api.registerSecurityHandler('gatewayApiKey', () => true);
api.registerSecurityHandler('adminApiKey', () => false);

const app = express();
// The gateway in proxied-latency logs at warn (its access lines are info): the same here.
app.use(pinoHttp({ logger: pino({ level: 'warn' }, pino.destination({ dest: '/dev/null', sync: false })), ...ACCESS_LINE }));
app.use(express.json());
app.use((req, res) =>
  api.handleRequest({ method: req.method, path: req.path, query: req.url.split('?')[1] ?? '', headers: req.headers as Record<string, string>, body: req.body }, req, res),
);
const server = createServer(expressServerClasses(app), app);
serveUntilSigterm(server, transport);
