/**
 * The lists served from the live feed, against the KuCoin simulator (a process): gateway A serves
 * them from the stream (the default), gateway B with READS_FROM_STREAM=false always asks KuCoin;
 * both trade one simulated account. A's answers must equal B's for every filter, A must make no
 * list call to KuCoin while its stream is current, and a read right after one of A's own writes
 * must show that write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { simControlAt } from '../support/sim-control.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { simulator, startGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../support/process.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';

const SIM_CREDENTIALS = { SIM_KEY: 'view-e2e-key', SIM_SECRET: 'view-e2e-secret-0123456789abcdef', SIM_PASSPHRASE: 'view-e2e-passphrase' };

let sim: GatewayProcess;
let a: RunningGateway;
let b: RunningGateway;
const simControl = simControlAt(() => sim.baseUrl);
const on = (gateway: () => RunningGateway) => (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(gateway().baseUrl, method, path, init);
const callA = on(() => a);
const callB = on(() => b);
const listCalls = async (): Promise<number> => {
  const { requests } = await simControl('GET', '/sim/usage');
  return (requests['GET /api/v1/positions'] ?? 0) + (requests['GET /api/v1/orders'] ?? 0);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A position's `updatedAt` is when KuCoin computed it: now for a REST read, the last push for the stream. */
const comparable = (data: any) => (Array.isArray(data) ? data.map(({ updatedAt: _updatedAt, ...rest }) => rest) : data);
const ids = (res: { body: any }) => res.body.data.items.map((o: { orderId: string }) => o.orderId);

async function untilStream(path: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await callA('GET', path)).headers.get('x-served-from') === 'stream') return;
    await sleep(20);
  }
  throw new Error(`${path} never came from the stream`);
}

beforeAll(async () => {
  sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } });
  const env = {
    FEATURE_FUTURES: 'true',
    ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS),
    UPSTREAM_TIMEOUT_MS: '2000',
    RATE_LIMIT_MAX: '0',
  };
  a = await startGateway(env);
  b = await startGateway({ ...env, READS_FROM_STREAM: 'false' });
  await simControl('POST', '/sim/mark', { symbol: 'ETHUSDTM', price: 3000, hold: true });
  await simControl('POST', '/sim/mark', { symbol: 'XBTUSDTM', price: 60000, hold: true });
  await simControl('POST', '/sim/mark', { symbol: 'SOLUSDTM', price: 150, hold: true });
  await callA('PUT', '/api/futures/leverage', { json: { symbol: 'ETHUSDTM', leverage: 5, marginMode: 'cross' } });
  const orders = [
    { symbol: 'ETHUSDTM', side: 'BUY', type: 'MARKET', qty: 2 },
    { symbol: 'XBTUSDTM', side: 'SELL', type: 'MARKET', qty: 1 },
    { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 2900 },
    { symbol: 'ETHUSDTM', side: 'SELL', type: 'LIMIT', qty: 1, price: 3100 },
    { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 2, price: 58000 },
    { symbol: 'SOLUSDTM', side: 'BUY', type: 'LIMIT', qty: 3, price: 145 },
    { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 4, price: 2950 },
  ];
  for (const order of orders) expect((await callA('POST', '/api/futures/orders', { json: order })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await stopGatewayProcesses();
});

describe('lists served from the stream, against the simulator', () => {
  it('answer exactly as the REST path for every filter, without a list call to KuCoin', async () => {
    await untilStream('/api/futures/orders');
    await untilStream('/api/futures/positions');
    const queries = [
      '/api/futures/positions',
      '/api/futures/positions?currency=USDT',
      '/api/futures/positions?currency=usdt',
      '/api/futures/positions?currency=XBT',
      '/api/futures/orders',
      '/api/futures/orders?symbol=ETHUSDTM',
      '/api/futures/orders?symbol=ETH-USDT',
      '/api/futures/orders?symbol=XBTUSDTM&side=BUY',
      '/api/futures/orders?side=SELL',
      '/api/futures/orders?symbol=SOLUSDTM&side=SELL',
      '/api/futures/orders?pageSize=2',
      '/api/futures/orders?page=2&pageSize=2',
      '/api/futures/orders?page=3&pageSize=2',
      '/api/futures/orders?page=9&pageSize=2',
    ];
    const before = await listCalls();
    for (const path of queries) {
      const [fromStream, fromKucoin] = [await callA('GET', path), await callB('GET', path)];
      expect(fromStream.headers.get('x-served-from'), path).toBe('stream');
      expect(fromKucoin.headers.get('x-served-from'), path).toBe('upstream');
      expect(fromStream.status, path).toBe(fromKucoin.status);
      expect(comparable(fromStream.body.data), path).toEqual(comparable(fromKucoin.body.data));
    }
    // Only B's reads reached KuCoin.
    expect((await listCalls()) - before).toBe(queries.length);
    expect((await callA('GET', '/api/futures/orders?symbol=NOPEUSDTM')).status).toBe((await callB('GET', '/api/futures/orders?symbol=NOPEUSDTM')).status);
  });

  it('shows each of its own writes to the read that follows it', async () => {
    await untilStream('/api/futures/orders');
    for (let i = 0; i < 5; i++) {
      const placed = await callA('POST', '/api/futures/orders', { json: { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 2800 + i } });
      expect(placed.status).toBe(201);
      expect(ids(await callA('GET', '/api/futures/orders'))).toContain(placed.body.data.orderId);
      expect((await callA('DELETE', `/api/futures/orders/${placed.body.data.orderId}`)).status).toBe(200);
      expect(ids(await callA('GET', '/api/futures/orders'))).not.toContain(placed.body.data.orderId);

      const qty = (await callA('GET', '/api/futures/positions')).body.data.find((p: { symbol: string }) => p.symbol === 'ETHUSDTM')?.qty ?? 0;
      expect((await callA('POST', '/api/futures/orders', { json: { symbol: 'ETHUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } })).status).toBe(201);
      expect((await callA('GET', '/api/futures/positions')).body.data.find((p: { symbol: string }) => p.symbol === 'ETHUSDTM')?.qty).toBe(qty + 1);
    }
    expect((await callA('DELETE', '/api/futures/positions/XBTUSDTM')).status).toBe(200);
    expect((await callA('GET', '/api/futures/positions')).body.data.map((p: { symbol: string }) => p.symbol)).not.toContain('XBTUSDTM');
    await untilStream('/api/futures/positions');
    expect(comparable((await callA('GET', '/api/futures/positions')).body.data)).toEqual(comparable((await callB('GET', '/api/futures/positions')).body.data));
  }, 30_000);
});
