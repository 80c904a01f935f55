/**
 * Read-your-writes across replicas against the KuCoin simulator (a process) and its live stream:
 * gateways A and B on one real redis-server, both serving lists from their own streams. Each write
 * through A is read through B at once.
 *
 * The simulator pushes a change on its stream as it makes it, before it answers the write, so here
 * B's stream has usually shown an order already when B reads: only the position read after a fill
 * tells the fence apart (B does not take its stream's word for another replica's fill before that
 * write's deadline). account-view-replicas.test.ts holds B's stream back to show the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { simControlAt } from '../support/sim-control.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { simulator, startGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../support/process.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';

const SIM_CREDENTIALS = { SIM_KEY: 'replicas-e2e-key', SIM_SECRET: 'replicas-e2e-secret-0123456789abcdef', SIM_PASSPHRASE: 'replicas-e2e-passphrase' };

let sim: GatewayProcess;
let redis: TestRedis;
let a: RunningGateway;
let b: RunningGateway;
const simControl = simControlAt(() => sim.baseUrl);
const on = (gateway: () => RunningGateway) => (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(gateway().baseUrl, method, path, init);
const callA = on(() => a);
const callB = on(() => b);
const ids = (res: { body: any }): string[] => res.body.data.items.map((o: { orderId: string }) => o.orderId);
const ethQty = (res: { body: any }): number => res.body.data.find((p: { symbol: string }) => p.symbol === 'ETHUSDTM')?.qty ?? 0;

async function untilStream(call: typeof callA, path: string): Promise<void> {
  const end = Date.now() + 10_000;
  while ((await call('GET', path)).headers.get('x-served-from') !== 'stream') {
    if (Date.now() > end) throw new Error(`${path} never came from the stream`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  [sim, redis] = await Promise.all([
    startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } }),
    startRedis(),
  ]);
  const env = { FEATURE_FUTURES: 'true', ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS), UPSTREAM_TIMEOUT_MS: '2000', RATE_LIMIT_MAX: '0', REDIS_URL: redis.url };
  [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
  await simControl('POST', '/sim/mark', { symbol: 'ETHUSDTM', price: 3000, hold: true });
}, 60_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await redis?.stop();
  await stopGatewayProcesses();
});

describe('read-your-writes across replicas, against the simulator', () => {
  it('shows each write through A to the read through B that follows it', async () => {
    await untilStream(callA, '/api/futures/orders');
    await untilStream(callB, '/api/futures/orders');
    await untilStream(callB, '/api/futures/positions');
    for (let i = 0; i < 5; i++) {
      const placed = await callA('POST', '/api/futures/orders', { json: { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 2800 + i } });
      expect(placed.status).toBe(201);
      expect(ids(await callB('GET', '/api/futures/orders'))).toContain(placed.body.data.orderId);
      expect((await callA('DELETE', `/api/futures/orders/${placed.body.data.orderId}`)).status).toBe(200);
      expect(ids(await callB('GET', '/api/futures/orders'))).not.toContain(placed.body.data.orderId);

      const qty = ethQty(await callB('GET', '/api/futures/positions'));
      expect((await callA('POST', '/api/futures/orders', { json: { symbol: 'ETHUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } })).status).toBe(201);
      const after = await callB('GET', '/api/futures/positions');
      expect(ethQty(after)).toBe(qty + 1);
      expect(after.headers.get('x-served-from')).toBe('upstream');
    }
    // Served from B's stream again once the writes are behind it.
    await untilStream(callB, '/api/futures/positions');
  }, 60_000);
});
