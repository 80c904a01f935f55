import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KucoinClient } from '../../src/kucoin/client.js';
import { RateBudget } from '../../src/kucoin/rate-budget.js';
import { UpstreamSupervisor, type UpstreamState } from '../../src/kucoin/stream/supervisor.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { attachSimWebSocket } from '../../src/simulator/ws/server.js';
import { TokenRegistry } from '../../src/simulator/ws/tokens.js';
import { allowLoopback } from '../support/http-client.js';

// The real KucoinClient asks for the token (msw stands in for KuCoin's REST); the socket is the
// simulator's, since msw does not intercept the `ws` package.
const BASE = 'https://kucoin.test';
const rest = setupServer();
beforeAll(() => rest.listen({ onUnhandledRequest: allowLoopback }));
afterEach(() => rest.resetHandlers());
afterAll(() => rest.close());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startSim() {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const tokens = new TokenRegistry({ now: Date.now, lifetimeMs: 86_400_000 });
  const socket = attachSimWebSocket(server, { engine: new EventEmitter(), tokens, pingIntervalMs: 5_000, pingTimeoutMs: 5_000, sessionMs: 600_000, now: Date.now });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await socket.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { tokens, endpoint: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws` };
}

function supervisorWithRealClient() {
  const metrics = createMetrics();
  const logger = pino({ level: 'silent' });
  const client = new KucoinClient({
    baseUrl: BASE,
    credentials: { key: 'kc-key-1', secret: 'kc-secret-1', passphrase: 'kc-pass-1' },
    keyVersion: '3',
    timeoutMs: 500,
    logger,
    metrics,
    budget: new RateBudget({ limits: { futures: 2000, public: 2000 } }),
    breaker: { consecutiveFailures: 50, halfOpenAfterMs: 100 },
  });
  const supervisor = new UpstreamSupervisor({ client, logger, metrics, backoff: { initialMs: 10, maxMs: 40 }, random: () => 0.5 });
  const states: UpstreamState[] = [];
  supervisor.on('state', (state) => states.push(state));
  cleanups.push(() => supervisor.close());
  return { supervisor, states };
}

const waitFor = async (what: string, condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 3_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('with the real KucoinClient', () => {
  it('asks bullet-private (signed, POST) for every connection and recovers after it refused the key', async () => {
    const sim = await startSim();
    const requests: Request[] = [];
    let refusals = 1;
    rest.use(
      http.get(`${BASE}/api/v1/timestamp`, () => HttpResponse.json({ code: '200000', data: Date.now() })),
      http.post(`${BASE}/api/v1/bullet-private`, ({ request }) => {
        requests.push(request.clone());
        if (refusals > 0) {
          refusals -= 1;
          return HttpResponse.json({ code: '400003', msg: 'KC-API-KEY not exists' }, { status: 401 });
        }
        return HttpResponse.json({
          code: '200000',
          data: { token: sim.tokens.issue('private'), instanceServers: [{ endpoint: sim.endpoint, encrypt: false, protocol: 'websocket', pingInterval: 18_000, pingTimeout: 10_000 }] },
        });
      }),
    );
    const { supervisor, states } = supervisorWithRealClient();
    supervisor.setTopics(['/contractMarket/tradeOrders', '/contract/positionAll']);
    let resubscribed = 0;
    supervisor.on('resubscribed', () => (resubscribed += 1));
    supervisor.acquire();
    await waitFor('resubscribed', () => resubscribed === 1);
    expect(states).toEqual(['connecting', 'reconnecting', 'up']);
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(request.method).toBe('POST');
      expect(request.headers.get('KC-API-SIGN')).toBeTruthy();
      expect(request.headers.get('KC-API-KEY')).toBe('kc-key-1');
    }
  });
});
