/**
 * A small round-robin front for trying replicas locally (`npm run demo -- --replicas 3`): each
 * HTTP request and each WebSocket upgrade goes to the next replica in turn. Not a production load
 * balancer: no health checks beyond skipping a replica that refuses the connection.
 *
 * It adds `x-replica: <n>` (1-based) to every HTTP answer, naming the replica that served it.
 * It does NOT set X-Forwarded-For: the replicas see every client at the front's address, so
 * without gateway keys all clients share one inbound limit (TRUST_PROXY stays false, as it must
 * when nothing overwrites that header).
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export interface Front {
  server: Server;
  port: number;
  /** Requests and upgrades handed to each backend so far. */
  served: number[];
  close(): Promise<void>;
}

// RFC 9110 §7.6.1: these describe one connection, not the message; never forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set((String(headers.connection ?? '')).split(',').map((h) => h.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)));
}

// The front's own answer (no gateway answered), shaped like an RFC 9457 problem but with no gateway error code.
const BAD_GATEWAY = JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: 'no replica answered the demo front', success: false });

export function startFront(backends: Backend[], port: number, host = '127.0.0.1'): Promise<Front> {
  if (backends.length === 0) throw new Error('startFront: no backends');
  const agents = backends.map(() => new Agent({ keepAlive: true }));
  const served = backends.map(() => 0);
  const tunnels = new Set<Socket>();
  let next = 0;
  const pick = () => {
    const index = next;
    next = (next + 1) % backends.length;
    return index;
  };

  const server = createServer((req, res) => {
    // The body is buffered so a replica that refuses the connection can be skipped without losing it.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tryBackend = (index: number, left: number) => {
        const backend = backends[index]!;
        const upstream = request(
          { host: backend.host, port: backend.port, method: req.method, path: req.url, headers: { ...endToEnd(req.headers), 'content-length': String(body.length) }, agent: agents[index] },
          (answer: IncomingMessage) => {
            served[index]! += 1;
            res.writeHead(answer.statusCode ?? 502, { ...endToEnd(answer.headers), 'x-replica': String(index + 1) });
            answer.pipe(res);
            answer.on('error', () => res.destroy());
          },
        );
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          // Refused: nothing was sent, so the next replica may take it (a replica restarting).
          if (error.code === 'ECONNREFUSED' && left > 1) return tryBackend(pick(), left - 1);
          if (res.headersSent) return res.destroy();
          res.writeHead(502, { 'content-type': 'application/problem+json' }).end(BAD_GATEWAY);
        });
        upstream.end(body);
      };
      tryBackend(pick(), backends.length);
    });
  });

  // A WebSocket upgrade: the raw request goes to the next replica, then bytes flow both ways.
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const index = pick();
    const backend = backends[index]!;
    tunnels.add(client);
    client.once('close', () => tunnels.delete(client));
    const upstream = connect(backend.port, backend.host, () => {
      served[index]! += 1;
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', () => {
      if (client.writable && upstream.bytesRead === 0) client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else end();
    });
    client.on('error', end);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as { port: number };
      resolve({
        server,
        port: address.port,
        served,
        close: () =>
          new Promise<void>((done) => {
            agents.forEach((a) => a.destroy());
            server.close(() => done());
            server.closeAllConnections();
            tunnels.forEach((socket) => socket.destroy());
          }),
      });
    });
  });
}
