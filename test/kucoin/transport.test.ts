/**
 * The KuCoin client's wire (src/kucoin/transport.ts) against real loopback servers: what it kept of
 * fetch (redirects not followed, compressed answers decoded, "not sent" only when nothing was
 * dialled) and what it added (the answer's size cap), through the client's own errors.
 */
import { once } from 'node:events';
import { Agent as HttpAgent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KucoinClient } from '../../src/kucoin/client.js';
import { RateBudget } from '../../src/kucoin/rate-budget.js';
import { createTransport, MAX_ANSWER_BYTES } from '../../src/kucoin/transport.js';
import { createMetrics } from '../../src/observability/metrics.js';

const servers: Server[] = [];
const clients: KucoinClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ baseUrl: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function client(baseUrl: string, timeoutMs = 2_000): KucoinClient {
  const made = new KucoinClient({
    baseUrl,
    credentials: null,
    keyVersion: '3',
    timeoutMs,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    budget: new RateBudget({ limits: { futures: 2000, public: 2000 } }),
    readAttempts: 1,
  });
  clients.push(made);
  return made;
}

const envelope = (data: unknown) => JSON.stringify({ code: '200000', data });

describe('the KuCoin transport', () => {
  it('is node:https with an https agent for https base URLs, node:http for http ones', () => {
    const secure = createTransport('https://api-futures.kucoin.com');
    const plain = createTransport('http://127.0.0.1:4001');
    try {
      expect(secure.protocol).toBe('https:');
      expect(secure.agent).toBeInstanceOf(HttpsAgent);
      expect(plain.protocol).toBe('http:');
      expect(plain.agent).not.toBeInstanceOf(HttpsAgent);
      expect(plain.agent).toBeInstanceOf(HttpAgent);
      for (const { agent } of [secure, plain]) expect(agent).toMatchObject({ keepAlive: true, options: expect.objectContaining({ scheduling: 'lifo' }) });
    } finally {
      secure.close();
      plain.close();
    }
  });

  it('reuses one kept-alive connection for calls in turn', async () => {
    const sockets = new Set<unknown>();
    const { baseUrl } = await serve((req, res) => {
      sockets.add(req.socket);
      res.setHeader('content-type', 'application/json').end(envelope([]));
    });
    const kucoin = client(baseUrl);
    for (let i = 0; i < 3; i += 1) await expect(kucoin.call('contractsActive', { scope: null, context: 'x' })).resolves.toEqual([]);
    expect(sockets.size).toBe(1);
  });

  it('marks a refused connection not sent (nothing was dialled through)', async () => {
    const { baseUrl } = await serve(() => {});
    const server = servers.pop()!;
    await new Promise((done) => server.close(done));
    await expect(client(baseUrl).call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', options: { notSent: true } });
  });

  it('does not mark a connection reset after the request went out as not sent', async () => {
    const { baseUrl, hits } = await serve((req) => req.socket.destroy());
    await expect(client(baseUrl).call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', options: { notSent: false } });
    expect(hits).toEqual(['GET /api/v1/contracts/active']);
  });

  it('does not follow a redirect: 503 UPSTREAM_UNAVAILABLE, as fetch with redirect: error', async () => {
    const { baseUrl, hits } = await serve((req, res) => {
      if (req.url === '/elsewhere') res.end(envelope([]));
      else res.writeHead(302, { location: '/elsewhere' }).end();
    });
    await expect(client(baseUrl).call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503 });
    expect(hits).toEqual(['GET /api/v1/contracts/active']);
  });

  it('decodes a gzip answer', async () => {
    const { baseUrl } = await serve((req, res) => {
      expect(req.headers['accept-encoding']).toContain('gzip');
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(envelope([{ symbol: 'XBTUSDTM' }])));
    });
    await expect(client(baseUrl).call('contractsActive', { scope: null, context: 'x' })).resolves.toEqual([{ symbol: 'XBTUSDTM' }]);
  });

  it.each([
    ['declared too large', (res: ServerResponse) => res.writeHead(200, { 'content-length': String(MAX_ANSWER_BYTES + 1) }).end()],
    ['streamed too large', (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i <= MAX_ANSWER_BYTES / chunk.length; i += 1) res.write(chunk);
      res.end();
    }],
    ['too large once decoded', (res: ServerResponse) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(MAX_ANSWER_BYTES + 1, 0x20)))],
  ])('answers an answer %s with 502 UPSTREAM_BAD_RESPONSE, and keeps working', async (_name, answer) => {
    let first = true;
    const { baseUrl } = await serve((_req, res) => {
      if (first) answer(res);
      else res.end(envelope([]));
      first = false;
    });
    const kucoin = client(baseUrl);
    await expect(kucoin.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', status: 502, options: { upstream: { code: 'HTTP 200', message: 'answer too large' } } });
    await expect(kucoin.call('contractsActive', { scope: null, context: 'x' })).resolves.toEqual([]);
  });

  it('survives the server closing a kept-alive connection after its answer', async () => {
    const { baseUrl } = await serve((req, res) => {
      res.end(envelope([]));
      setTimeout(() => req.socket.destroy(), 20);
    });
    const kucoin = client(baseUrl);
    await expect(kucoin.call('contractsActive', { scope: null, context: 'x' })).resolves.toEqual([]);
    await new Promise((done) => setTimeout(done, 60));
    await expect(kucoin.call('contractsActive', { scope: null, context: 'x' })).resolves.toEqual([]);
  });

  it('times out an answer whose body never ends with 504 UPSTREAM_TIMEOUT', async () => {
    const { baseUrl } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"code":"200000",');
    });
    const kucoin = client(baseUrl, 150);
    await expect(kucoin.call('contractsActive', { scope: null, context: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504 });
  });
});
