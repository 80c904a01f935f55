/**
 * Clients that hang up rudely: a TCP reset (SO_LINGER 0) right after the request, while the
 * gateway is still answering it. Whatever the gateway was writing (an upgrade refusal, node's 400
 * to a malformed request, an HTTP answer, a WebSocket greeting), the write fails on a reset socket
 * and that failure must stay with the socket: the process goes on answering everyone else.
 *
 * Against the built gateway in a child process: an uncaught socket error ends the process, and in
 * the test's own process it would end the vitest worker instead of failing a test.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { TEST_API_KEY } from '../support/gateway.js';
import { builtGateway, startGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../support/process.js';

let gateway: GatewayProcess;
let exitedEarly: string | undefined;

beforeAll(async () => {
  gateway = await startGatewayProcess({
    args: builtGateway(),
    // No inbound limit and room for every socket: these clients must reach the code that answers
    // them (a 404, a 401, a greeting), not a 429.
    env: { FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY, RATE_LIMIT_MAX: '0', WS_MAX_CONNECTIONS_PER_CLIENT: '100000' },
  });
  void gateway.exited.then(({ code, signal }) => {
    exitedEarly = `exited with code ${code}, signal ${signal}; stderr:\n${gateway.stderrLines().slice(-20).join('\n')}`;
  });
}, 30_000);
afterAll(stopGatewayProcesses);

/** A WebSocket upgrade request for `path`, as a client library writes it. */
function upgradeRequest(path: string, headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${gateway.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Writes `payload` and resets the connection (RST, not FIN) once `resetWhen` says so: at once by
 * default, so the answer meets a connection the client has already torn down.
 */
function sendAndReset(payload: string, resetWhen: (socket: Socket) => Promise<void> = async () => undefined): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect(gateway.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
    socket.once('connect', () => {
      socket.write(payload);
      void resetWhen(socket).then(() => socket.resetAndDestroy());
    });
  });
}

/** Runs `attempt` `total` times, `concurrency` at a time. */
async function repeat(total: number, concurrency: number, attempt: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total && exitedEarly === undefined) await attempt(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function expectAlive(): Promise<void> {
  expect(exitedEarly).toBeUndefined();
  const health = await request(gateway.baseUrl, 'GET', '/api/health');
  expect(health.status).toBe(200);
  expect(exitedEarly).toBeUndefined();
}

describe('clients that reset their connection while the gateway answers', () => {
  it('2,000 refused upgrades (404, then 401), each reset at once, leave /api/health answering 200', async () => {
    await repeat(2_000, 20, (i) =>
      sendAndReset(i % 2 === 0 ? upgradeRequest('/api/health') : upgradeRequest('/ws/futures')),
    );
    await expectAlive();
  }, 60_000);

  it('malformed requests (node answers 400 on clientError), each reset at once', async () => {
    await repeat(500, 20, (i) => sendAndReset(i % 2 === 0 ? 'NOT HTTP AT ALL\r\n\r\n' : `GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n`));
    await expectAlive();
  }, 60_000);

  it('plain HTTP requests, each reset before the answer is read', async () => {
    await repeat(500, 20, (i) => sendAndReset(`GET ${i % 2 === 0 ? '/api/health' : '/api/openapi.json'} HTTP/1.1\r\nHost: x\r\n\r\n`));
    await expectAlive();
  }, 60_000);

  it('accepted upgrades reset while the greeting is being sent', async () => {
    const accepted = upgradeRequest('/ws/futures', { Authorization: `Bearer ${TEST_API_KEY}` });
    // Half reset at once, half once the 101 has arrived (the greeting is then on its way).
    await repeat(500, 20, (i) =>
      sendAndReset(accepted, i % 2 === 0 ? undefined : (socket) => new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.once('close', () => resolve());
      })),
    );
    await expectAlive();
  }, 60_000);
});
