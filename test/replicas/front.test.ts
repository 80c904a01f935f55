/**
 * The demo's round-robin front (scripts/replicas/front.ts) against plain node:http backends: turns,
 * bodies and statuses passed through, hop-by-hop headers not forwarded, a backend that refuses
 * the connection skipped, and a 502 only when none answers. The backends are not the gateway, so
 * these answers are not checked against openapi.yaml (the demo test checks the gateway's).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFront, type Front } from '../../scripts/replicas/front.js';
import { freePort } from '../support/process.js';

const servers: Server[] = [];
let front: Front | undefined;
afterEach(async () => {
  await front?.close();
  front = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A backend answering 200 with its name, the method, path, body and the headers it received. */
async function backend(name: string): Promise<number> {
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      res.writeHead(name === 'teapot' ? 418 : 200, { 'content-type': 'application/json', 'keep-alive': 'timeout=99' });
      res.end(JSON.stringify({ name, method: req.method, url: req.url, body, headers: req.headers }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** node:http rather than fetch: fetch may not send a Connection header naming others. */
function hit(port: number, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; replica: string | undefined; keepAlive: string | undefined; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/x?y=1', method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, replica: res.headers['x-replica'] as string | undefined, keepAlive: res.headers['keep-alive'] as string | undefined, body: res.statusCode === 502 ? text : JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('the demo front', () => {
  it('takes the backends in turn and passes method, path, body and status through', async () => {
    const ports = [await backend('a'), await backend('b'), await backend('teapot')];
    front = await startFront(ports.map((port) => ({ host: '127.0.0.1', port })), 0);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await hit(front.port, { method: 'POST', body: `n=${i}`, headers: { connection: 'keep-alive, x-private', 'x-private': 'hop', 'x-end': 'kept' } }));
    expect(answers.map((a) => a.replica)).toEqual(['1', '2', '3', '1']);
    expect(answers.map((a) => a.body.name)).toEqual(['a', 'b', 'teapot', 'a']);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 418, 200]);
    expect(answers[1]!.body).toMatchObject({ method: 'POST', url: '/api/x?y=1', body: 'n=1' });
    expect(answers[1]!.body.headers['x-end']).toBe('kept');
    expect(answers[1]!.body.headers['x-private']).toBeUndefined(); // named by Connection: hop-by-hop
    expect(answers[1]!.body.headers['x-forwarded-for']).toBeUndefined();
    expect(answers[1]!.keepAlive).not.toBe('timeout=99'); // the backend's, not forwarded
    expect(front.served).toEqual([2, 1, 1]);
  });

  it('skips a backend that refuses the connection, and answers 502 when none answers', async () => {
    const live = await backend('live');
    const dead = await freePort();
    front = await startFront([{ host: '127.0.0.1', port: dead }, { host: '127.0.0.1', port: live }], 0);
    for (let i = 0; i < 3; i++) expect(await hit(front.port)).toMatchObject({ status: 200, replica: '2' });
    await front.close();
    front = await startFront([{ host: '127.0.0.1', port: dead }], 0);
    const none = await hit(front.port);
    expect(none.status).toBe(502);
    expect(JSON.parse(none.body)).toMatchObject({ status: 502, detail: 'no replica answered the demo front' });
  });
});
