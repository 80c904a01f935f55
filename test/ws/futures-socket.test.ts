import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request } from '../support/http-client.js';
import { assertResponseMatchesContract } from '../support/http-contract.js';
import { assertClientMessage, assertServerMessage } from '../support/ws-contract.js';
import { startGateway, TEST_ADMIN_KEY, TEST_API_KEY, type RunningGateway } from '../support/gateway.js';

let running: RunningGateway | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** A client that validates every server message against asyncapi.yaml as it arrives. */
function connect(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const messages: any[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    assertServerMessage(message);
    messages.push(message);
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return {
    ws,
    messages,
    closed,
    opened: new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    async next(count = messages.length + 1): Promise<any> {
      while (messages.length < count) await new Promise<void>((r) => waiters.push(r));
      return messages[count - 1];
    },
    /**
     * The greeting of a gateway without KuCoin credentials (every gateway in this file): the
     * futures_connected message and the upstream_status that says why no snapshots follow.
     */
    async greeted(): Promise<any> {
      const status = await this.next(2);
      if (messages[0]?.type !== 'futures_connected' || status.type !== 'upstream_status') throw new Error(`unexpected greeting ${JSON.stringify(messages)}`);
      return messages[0];
    },
    send(message: unknown) {
      if (typeof message === 'object' && message !== null && ['subscribe', 'unsubscribe', 'ping'].includes((message as any).type)) {
        try {
          assertClientMessage(message);
        } catch {
          /* deliberately invalid messages are sent too */
        }
      }
      ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
  };
}

/** `gateway_ws_closed_total{code}`, once the server side has seen the close. */
async function closedCount(gateway: RunningGateway, code: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 20));
  const metric = await gateway.gateway.metrics.wsClosed.get();
  return metric.values.find((v) => v.labels.code === String(code))?.value ?? 0;
}

const REFUSAL_CODES: Record<number, string> = { 404: 'NOT_FOUND', 401: 'UNAUTHORIZED', 429: 'RATE_LIMITED' };

/** The HTTP status of a refused upgrade, whose answer is checked against the contract like any other. */
async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return (await upgradeRefusal(url, headers)).status;
}

/** A refused upgrade's answer, checked against the contract like any other. */
function upgradeRefusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; problem: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        try {
          assertResponseMatchesContract({ method: 'GET', path: new URL(url).pathname, status, headers: res.headers as Record<string, string>, body });
          const problem = JSON.parse(body);
          if (problem.status !== status || problem.code !== REFUSAL_CODES[status]) throw new Error(`unexpected problem ${body}`);
          resolve({ status, headers: res.headers, problem });
        } catch (error) {
          reject(error);
        }
        ws.terminate();
      });
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('upgrade was accepted'));
    });
    ws.on('error', () => undefined);
  });
}

describe('/ws/futures upgrade', () => {
  it('is refused with HTTP 404 while the switch is off', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'false' });
    expect(await upgradeStatus(`${running.wsUrl}/ws/futures`)).toBe(404);
  });

  it('is refused with HTTP 404 on any other path', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    expect(await upgradeStatus(`${running.wsUrl}/ws/other`)).toBe(404);
    expect(await upgradeStatus(`${running.wsUrl}/ws/futures/extra`)).toBe(404);
  });

  it('needs a gateway key when keys are configured (401 without, open with)', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY });
    expect(await upgradeStatus(`${running.wsUrl}/ws/futures`)).toBe(401);
    expect(await upgradeStatus(`${running.wsUrl}/ws/futures`, { authorization: 'Bearer not-the-key-000000000' })).toBe(401);
    const client = connect(`${running.wsUrl}/ws/futures`, { authorization: `Bearer ${TEST_API_KEY}` });
    expect((await client.greeted()).type).toBe('futures_connected');
    client.ws.close();
  });
});

describe('/ws/futures upgrade limits', () => {
  /** `gateway_ws_upgrades_refused_total{reason}`. */
  const refusedCount = async (gateway: RunningGateway, reason: string) =>
    (await gateway.gateway.metrics.wsUpgradesRefused.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it("count against the caller's inbound limit, in the same window as its HTTP requests", async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
    for (let i = 0; i < 3; i += 1) expect((await request(running.baseUrl, 'GET', '/api/openapi.json')).status).toBe(200);
    const clients = [connect(`${running.wsUrl}/ws/futures`), connect(`${running.wsUrl}/ws/futures`)];
    await Promise.all(clients.map((c) => c.greeted()));
    // The sixth request of the window, and an upgrade: refused like an HTTP request would be.
    const refused = await upgradeRefusal(`${running.wsUrl}/ws/futures`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.problem.retryAfterSeconds).toBe(Number(refused.headers['retry-after']));
    expect((await request(running.baseUrl, 'GET', '/api/openapi.json')).status).toBe(429);
    expect(await refusedCount(running, 'rate_limited')).toBe(1);
    for (const c of clients) c.ws.close();
  });

  it('cap the open sockets of one caller at WS_MAX_CONNECTIONS_PER_CLIENT', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', WS_MAX_CONNECTIONS_PER_CLIENT: '2' });
    const clients = [connect(`${running.wsUrl}/ws/futures`), connect(`${running.wsUrl}/ws/futures`)];
    await Promise.all(clients.map((c) => c.greeted()));
    const refused = await upgradeRefusal(`${running.wsUrl}/ws/futures`);
    expect(refused.status).toBe(429);
    expect(refused.problem.detail).toMatch(/at most 2 per client/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await refusedCount(running, 'too_many_connections')).toBe(1);
    // A socket that closes frees its place.
    clients[0]!.ws.close();
    await clients[0]!.closed;
    // The server side sees the close a moment later (its TCP socket's close frees the place first).
    for (let i = 0; i < 200 && (await running.gateway.metrics.wsClients.get()).values[0]?.value !== 1; i += 1) await new Promise((r) => setTimeout(r, 10));
    const again = connect(`${running.wsUrl}/ws/futures`);
    expect((await again.greeted()).type).toBe('futures_connected');
    again.ws.close();
    clients[1]!.ws.close();
  });
});

describe('/ws/futures messages', () => {
  it('greets with futures_connected (seq 1) watching WS_DEFAULT_SYMBOLS and answers ping with pong', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    const hello = await client.next(1);
    expect(hello).toMatchObject({ type: 'futures_connected', message: 'Connected to futures channel', seq: 1, symbols: ['XBTUSDTM', 'ETHUSDTM'] });
    // No KuCoin credentials, so no live feed: the client is told so instead of waiting for snapshots.
    expect(await client.next(2)).toMatchObject({ type: 'upstream_status', status: 'down', reason: expect.stringContaining('credentials'), seq: 2 });
    client.send({ type: 'ping', id: 'p-1' });
    expect(await client.next(3)).toMatchObject({ type: 'pong', requestId: 'p-1', seq: 3 });
    client.ws.close();
  });

  it('greets with the configured WS_DEFAULT_SYMBOLS, canonicalised', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', WS_DEFAULT_SYMBOLS: 'sol-usdt,BTCUSDTM' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    expect((await client.greeted()).symbols).toEqual(['SOLUSDTM', 'XBTUSDTM']);
    client.ws.close();
  });

  it('subscribes and unsubscribes with canonical symbols', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    client.send({ type: 'subscribe', symbols: ['BTCUSDTM', 'ETH-USDT', 'SOL/USDT:USDT'], id: 's1' });
    expect(await client.next()).toMatchObject({ type: 'subscriptions', symbols: ['ETHUSDTM', 'SOLUSDTM', 'XBTUSDTM'], requestId: 's1' });
    client.send({ type: 'unsubscribe', symbols: ['XBTUSDTM'] });
    expect((await client.next()).symbols).toEqual(['ETHUSDTM', 'SOLUSDTM']);
    client.ws.close();
  });

  it.each([
    ['not JSON', 'hello', 'INVALID_MESSAGE'],
    ['an unknown type', { type: 'teleport' }, 'UNKNOWN_TYPE'],
    ['an empty symbol list', { type: 'subscribe', symbols: [] }, 'INVALID_MESSAGE'],
    ['an extra member', { type: 'ping', extra: 1 }, 'INVALID_MESSAGE'],
    ['an unmappable symbol', { type: 'subscribe', symbols: ['NOPE'] }, 'UNKNOWN_SYMBOL'],
  ])('answers %s with a typed error and keeps the connection', async (_name, message, code) => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    client.send(message);
    expect(await client.next()).toMatchObject({ type: 'error', code });
    client.send({ type: 'ping' });
    expect((await client.next()).type).toBe('pong');
    client.ws.close();
  });

  it('caps the watched symbols at 50', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    // The two default symbols and 48 more.
    const symbols = Array.from({ length: 48 }, (_, i) => `COIN${i}USDTM`);
    client.send({ type: 'subscribe', symbols });
    expect((await client.next()).symbols).toHaveLength(50);
    client.send({ type: 'subscribe', symbols: ['SOLUSDTM'] });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'TOO_MANY_SYMBOLS' });
    client.ws.close();
  });

  it('closes with 1008 after repeated invalid messages', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' }, { ws: { maxInvalidMessages: 3 } });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    for (let i = 0; i < 3; i += 1) client.send('garbage');
    expect((await client.closed).code).toBe(1008);
    expect(client.messages.filter((m) => m.type === 'error')).toHaveLength(3);
  });

  it('answers a flood with one RATE_LIMITED error and drops the excess', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' }, { ws: { maxMessagesPerSecond: 5 } });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    for (let i = 0; i < 12; i += 1) client.send({ type: 'ping', id: String(i) });
    client.send({ type: 'ping', id: 'last' });
    await client.next(8); // hello + upstream_status + 5 pongs + 1 error
    await new Promise((r) => setTimeout(r, 100));
    const types = client.messages.map((m) => m.type);
    expect(types.filter((t) => t === 'pong')).toHaveLength(5);
    expect(client.messages.filter((m) => m.type === 'error')).toEqual([expect.objectContaining({ code: 'RATE_LIMITED' })]);
    client.ws.close();
  });

  it('closes a frame over WS_MAX_PAYLOAD_BYTES with 1009', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', WS_MAX_PAYLOAD_BYTES: '256' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    client.send({ type: 'subscribe', symbols: Array.from({ length: 40 }, () => 'XBTUSDTM') });
    expect((await client.closed).code).toBe(1009);
    expect(await closedCount(running, 1009)).toBe(1);
  });

  it('closes a text frame that is not UTF-8 with 1007, and counts it', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await client.closed).code).toBe(1007);
    expect(await closedCount(running, 1007)).toBe(1);
  });

  it('closes an unmasked client frame (an RFC 6455 breach) with 1002, and counts it', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    client.ws.send(JSON.stringify({ type: 'ping' }), { mask: false });
    expect((await client.closed).code).toBe(1002);
    expect(await closedCount(running, 1002)).toBe(1);
    expect(client.messages.map((m) => m.type)).toEqual(['futures_connected', 'upstream_status']);
  });

  it('terminates a client that stops answering heartbeat pings', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' }, { ws: { heartbeatIntervalMs: 50 } });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    // ws answers pings automatically; silence the socket's pong so the client looks dead.
    (client.ws as any).pong = () => undefined;
    const { code } = await client.closed;
    expect(code).toBe(1006); // terminated without a close frame
    await new Promise((r) => setTimeout(r, 20));
    const gauge = await running.gateway.metrics.wsClients.get();
    expect(gauge.values[0]?.value).toBe(0);
  });
});

describe('the kill switch and the socket', () => {
  it('a flip to off closes open sockets with 4404 and refuses new upgrades', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const clients = [connect(`${running.wsUrl}/ws/futures`), connect(`${running.wsUrl}/ws/futures`)];
    await Promise.all(clients.map((c) => c.greeted()));
    const res = await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      json: { enabled: false, reason: 'test' },
    });
    expect(res.body.data.closedSockets).toBe(2);
    for (const c of clients) expect((await c.closed).code).toBe(4404);
    expect(await upgradeStatus(`${running.wsUrl}/ws/futures`)).toBe(404);
    const metrics = await request(running.baseUrl, 'GET', '/metrics');
    expect(metrics.text).toMatch(/^gateway_ws_closed_total\{code="4404"\} 2$/m);
  });

  it('shutdown closes open sockets with 1001', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const client = connect(`${running.wsUrl}/ws/futures`);
    await client.greeted();
    const stopping = running.stop();
    expect((await client.closed).code).toBe(1001);
    await stopping;
    running = undefined;
  });
});
