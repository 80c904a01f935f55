import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createTransport, type Transport } from '../../src/kucoin/transport.js';

/**
 * What the benchmark proxies (proxy-floor.ts, proxy-stack.ts) share: the upstream they forward to,
 * the 502 of a failed forward, the relay of the upstream's answer, and the server's life.
 */

export interface Upstream {
  transport: Transport;
  hostname: string;
  port: number;
}

/** The simulator's base URL from `variable` (http: only), with a keep-alive agent made by the gateway's own transport; exits 1 when it is missing or not http:. */
export function upstreamFromEnv(variable: string): Upstream {
  const upstream = process.env[variable];
  if (upstream === undefined || upstream === '') {
    console.error(`${variable} is required (the simulator base URL)`);
    process.exit(1);
  }
  const target = new URL(upstream);
  if (target.protocol !== 'http:') {
    console.error(`${variable} must be http: (the simulator), not ${target.protocol}`);
    process.exit(1);
  }
  return { transport: createTransport(upstream), hostname: target.hostname, port: Number(target.port || 80) };
}

/** A failed forward: the reason to stderr (named by `what`) and a 502 with it, unless an answer was begun. */
export function failer(res: ServerResponse, what: string): (why: string) => void {
  return (why: string) => {
    console.error(`${what}: ${why}`);
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(why);
  };
}

/** Reads the upstream's whole answer and writes it back with its status and content-type; `fail` on a stream error. */
export function relayAnswer(answer: IncomingMessage, res: ServerResponse, fail: (why: string) => void): void {
  const parts: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => parts.push(chunk));
  answer.on('error', (error) => fail(error.message));
  answer.on('end', () => {
    const text = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const type = answer.headers['content-type'];
    res.writeHead(answer.statusCode ?? 502, { ...(type === undefined ? {} : { 'content-type': type }), 'content-length': String(text.length) });
    res.end(text);
  });
}

/**
 * Listens on PORT/HOST (0 / 127.0.0.1), printing `{"event":"listening","port":N}` (what
 * test/support/process.ts waits for), and on SIGTERM closes the agent and the server and exits 0.
 */
export function serveUntilSigterm(server: Server, transport: Transport): void {
  server.keepAliveTimeout = 5_000;
  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
    console.log(JSON.stringify({ event: 'listening', port: (server.address() as { port: number }).port }));
  });
  process.once('SIGTERM', () => {
    transport.close();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
