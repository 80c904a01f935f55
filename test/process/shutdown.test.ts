/**
 * Graceful shutdown of src/main.ts on SIGTERM and SIGINT (src/gateway.ts `shutdown`): no new
 * connections, in-flight requests finish, `/ws/futures` sockets close with 1001, exit 0.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request } from '../support/http-client.js';
import { assertResponseMatchesContract } from '../support/http-contract.js';
import { logEntries, startGatewayProcess, stopGatewayProcesses, waitForLogEntry, type GatewayProcess } from '../support/process.js';
import { assertServerMessage } from '../support/ws-contract.js';

afterEach(stopGatewayProcesses);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LEVERAGE_BODY = JSON.stringify({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'cross' });

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  at: number;
}

/**
 * `PUT /api/futures/leverage` with a `content-length` for the whole body but only its first half
 * written, so the server holds an unfinished request; `finish()` writes the rest.
 */
function halfSentLeverageRequest(gateway: GatewayProcess, agent: http.Agent | false) {
  const req = http.request({
    host: '127.0.0.1',
    port: gateway.port,
    method: 'PUT',
    path: '/api/futures/leverage',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(LEVERAGE_BODY) },
  });
  const half = Math.floor(LEVERAGE_BODY.length / 2);
  const response = new Promise<RawResponse>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, at: Date.now() }));
      res.once('error', reject);
    });
  });
  const connected = new Promise<void>((resolve) => req.once('socket', (socket) => socket.once('connect', () => resolve())));
  req.write(LEVERAGE_BODY.slice(0, half));
  return { response, connected, finish: () => req.end(LEVERAGE_BODY.slice(half)) };
}

/** The contract check `request` does, for a response read with node:http. */
function assertLeverageResponseDocumented(res: RawResponse): void {
  assertResponseMatchesContract({ method: 'PUT', path: '/api/futures/leverage', status: res.status, headers: res.headers, body: res.text });
}

function connectFuturesSocket(gateway: GatewayProcess) {
  const ws = new WebSocket(`${gateway.wsUrl}/ws/futures`);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const greeting = new Promise<unknown>((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.once('error', reject);
  });
  return { ws, closed, greeting };
}

describe('SIGTERM with a request in flight', { timeout: 30_000 }, () => {
  it('answers the request, refuses new connections and exits 0', async () => {
    const gateway = await startGatewayProcess({ env: { FEATURE_FUTURES: 'true' } });
    // agent false: `Connection: close`, so the in-flight request is the only thing shutdown waits for.
    const inFlight = halfSentLeverageRequest(gateway, false);
    await inFlight.connected;
    await sleep(150); // the server has parsed the headers and waits for the body

    gateway.signal('SIGTERM');
    await waitForLogEntry(gateway, (entry) => entry.event === 'shutdown');
    const refused = await request(gateway.baseUrl, 'GET', '/api/health').then(
      (res) => `answered ${res.status}`,
      (error: { cause?: { code?: string } }) => error.cause?.code,
    );
    expect(refused).toBe('ECONNREFUSED');

    inFlight.finish();
    const res = await inFlight.response;
    assertLeverageResponseDocumented(res);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'CREDENTIALS_MISSING' });

    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - res.at).toBeLessThan(3_000);
    // Order is not asserted: lines written just before exit can come out of order (see the report).
    const entries = logEntries(gateway);
    expect(entries).toContainEqual(expect.objectContaining({ req: expect.objectContaining({ method: 'PUT' }), res: { statusCode: 401 } }));
    expect(entries.map((entry) => entry.event)).toEqual(expect.arrayContaining(['shutdown', 'stopped']));
    expect(entries.map((entry) => entry.event)).not.toContain('shutdown_timeout');
  });

  // A keep-alive connection busy at SIGTERM must not go on serving: its answer says
  // `Connection: close`, and the process exits without waiting for SHUTDOWN_TIMEOUT_MS.
  it('closes a keep-alive connection once its in-flight response is sent', async () => {
    const gateway = await startGatewayProcess({ env: { FEATURE_FUTURES: 'true' } });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const inFlight = halfSentLeverageRequest(gateway, agent);
      await inFlight.connected;
      await sleep(150);
      gateway.signal('SIGTERM');
      await waitForLogEntry(gateway, (entry) => entry.event === 'shutdown');
      inFlight.finish();
      const res = await inFlight.response;
      assertLeverageResponseDocumented(res);
      expect(res.status).toBe(401);
      expect(res.headers.connection).toBe('close');
      const exit = await Promise.race([gateway.exited, sleep(2_000).then(() => 'still running')]);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      agent.destroy();
    }
  });
});

describe('a signal with a /ws/futures client open', { timeout: 30_000 }, () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: futures_connected, then close 1001, then exit 0', async (signal) => {
    const gateway = await startGatewayProcess({ env: { FEATURE_FUTURES: 'true' } });
    const client = connectFuturesSocket(gateway);
    const greeting = await client.greeting;
    assertServerMessage(greeting);
    expect(greeting.type).toBe('futures_connected');

    gateway.signal(signal);
    expect((await client.closed).code).toBe(1001);
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(logEntries(gateway)).toContainEqual(expect.objectContaining({ event: 'signal', signal }));
  });
});

describe('a signal with nothing in flight', { timeout: 30_000 }, () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: exit 0 within 5 s', async (signal) => {
    const gateway = await startGatewayProcess();
    // One finished keep-alive request first (fetch keeps its connection), so there is an idle connection to close.
    expect((await request(gateway.baseUrl, 'GET', '/api/health')).status).toBe(200);

    const started = Date.now();
    gateway.signal(signal);
    const exit = await gateway.exited;
    const elapsed = Date.now() - started;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsed).toBeLessThan(5_000);
    const events = logEntries(gateway).map((entry) => entry.event);
    expect(events).toEqual(expect.arrayContaining(['signal', 'shutdown', 'stopped']));
    expect(events).not.toContain('shutdown_timeout');
  });
});
