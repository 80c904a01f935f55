/**
 * The floor of scripts/bench/proxied-latency.ts: the least work any proxy does, on bare `node:http`.
 * It receives the direct path's signed request (`POST /api/v1/orders`, `GET /api/v1/orders/{id}`,
 * the KC-API-* headers) and forwards it unchanged (method, path, headers but the hop-by-hop ones,
 * body) to the upstream on a keep-alive agent made by the gateway's own transport
 * (`createTransport(upstream).agent`, src/kucoin/transport.ts: the same agent settings), reads the
 * whole answer and writes it back (status, content-type, body). One more HTTP server side and one
 * more HTTP client side than the direct call, two more loopback writes; no validation, no logging,
 * no routing, no signing.
 *
 *   PROXY_FLOOR_UPSTREAM=http://127.0.0.1:PORT PORT=0 HOST=127.0.0.1 node --import tsx scripts/bench/proxy-floor.ts
 *
 * Prints one JSON line `{"event":"listening","port":N}` once it listens (what
 * test/support/process.ts's startGatewayProcess waits for), nothing else unless a forward fails:
 * then it answers 502 and writes the reason to stderr. Exits on SIGTERM.
 */
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { failer, relayAnswer, serveUntilSigterm, upstreamFromEnv } from './proxy-relay.js';

const { transport, hostname, port } = upstreamFromEnv('PROXY_FLOOR_UPSTREAM');

/** Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), and the host, which the upstream request sets. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);
function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) if (!HOP.has(name)) out[name] = headers[name];
  return out;
}

const server = createServer((req, res) => {
  const fail = failer(res, `proxy-floor: ${req.method} ${req.url}`);
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('error', (error) => fail(error.message));
  req.on('end', () => {
    const body = chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const headers = forwardable(req.headers);
    if (body !== undefined) headers['content-length'] = String(body.length);
    const out = request({ agent: transport.agent, hostname, port, method: req.method, path: req.url, headers }, (answer) => relayAnswer(answer, res, fail));
    out.on('error', (error) => fail(error.message));
    out.end(body);
  });
});

serveUntilSigterm(server, transport);
