import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { simControlAt } from '../support/sim-control.js';
import { assertServerMessage } from '../support/ws-contract.js';
import { builtGateway, simulator, startGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../support/process.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';

/**
 * The built gateway (`node dist/main.js`, as `npm start` runs it) and the simulator (`npm run sim`)
 * as two processes on free loopback ports, checked as the rollout playbook and a trader would.
 */
const ADMIN = 'e2e-admin-key-0123456789abcdef';
const SIM_CREDENTIALS = { SIM_KEY: 'e2e-key', SIM_SECRET: 'e2e-secret-0123456789abcdef', SIM_PASSPHRASE: 'e2e-passphrase' };

let sim: GatewayProcess;
let gateway: GatewayProcess;
let simUrl: string;

const admin = { authorization: `Bearer ${ADMIN}` };
const simControl = simControlAt(() => simUrl);
const call = (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(gateway.baseUrl, method, path, init);
const flip = (enabled: boolean) => call('PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled, reason: 'e2e' } });

function upgrade(url: string): Promise<{ status: number } | { first: any; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('message', (data) => resolve({ first: JSON.parse(String(data)), ws }));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } });
  simUrl = sim.baseUrl;
  gateway = await startGatewayProcess({
    args: builtGateway(),
    env: {
      // FEATURE_FUTURES=false could not be overridden at run time: the phases switch the runtime switch.
      FEATURE_FUTURES: 'true',
      ...gatewayEnvForSimulator(simUrl, SIM_CREDENTIALS),
      ADMIN_API_KEYS: ADMIN,
      UPSTREAM_TIMEOUT_MS: '800',
    },
  });
}, 30_000);
afterEach(async () => {
  await simControl('DELETE', '/sim/faults');
});
afterAll(async () => {
  await stopGatewayProcesses();
});

describe('playbook', () => {
  it('phase 1 (switch off): futures routes and the socket are 404, health is 200', async () => {
    expect((await flip(false)).status).toBe(200);
    expect((await call('GET', '/api/futures/positions')).status).toBe(404);
    const health = await call('GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body.data.futures.enabled).toBe(false);
    expect(await upgrade(`${gateway.wsUrl}/ws/futures`)).toEqual({ status: 404 });
    const state = await simControl('GET', '/sim/state');
    expect(Object.keys(state.requests).filter((k) => !k.includes('/timestamp'))).toEqual([]);
  });

  it('phase 2 (switch on): positions envelope, leverage for BTCUSDTM reaches KuCoin as XBTUSDTM, funding, invalid order 400, WS greeting', async () => {
    expect((await flip(true)).status).toBe(200);
    const positions = await call('GET', '/api/futures/positions');
    expect(positions.status).toBe(200);
    expect(positions.body).toMatchObject({ success: true, data: expect.any(Array) });

    const leverage = await call('PUT', '/api/futures/leverage', { json: { symbol: 'BTCUSDTM', leverage: 5, marginMode: 'cross' } });
    expect(leverage.status).toBe(200);
    expect(leverage.body.data).toMatchObject({ symbol: 'XBTUSDTM', marginMode: 'cross', leverage: 5 });
    const state = await simControl('GET', '/sim/state');
    expect(JSON.stringify(state.settings)).toContain('XBTUSDTM');
    expect(state.requests['POST /api/v2/changeCrossUserLeverage']).toBe(1);

    const funding = await call('GET', '/api/futures/funding/BTCUSDTM');
    expect(funding.status).toBe(200);
    expect(funding.body.data).toMatchObject({ symbol: 'XBTUSDTM', baseAsset: 'BTC', fundingRateSymbol: '.XBTUSDTMFPI8H' });

    const invalid = await call('POST', '/api/futures/orders', { json: { symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty: 0 } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toContainEqual(expect.objectContaining({ field: 'qty' }));

    const ws = await upgrade(`${gateway.wsUrl}/ws/futures`);
    expect('first' in ws && ws.first.type).toBe('futures_connected');
    if ('first' in ws) {
      assertServerMessage(ws.first);
      ws.ws.close();
    }
  });

  it('a full order lifecycle: rest, list, cancel, fill on a mark move, position, close', async () => {
    await flip(true);
    await call('PUT', '/api/futures/leverage', { json: { symbol: 'ETHUSDTM', leverage: 5, marginMode: 'cross' } });
    const mark = (await simControl('POST', '/sim/mark', { symbol: 'ETHUSDTM', price: 3000, hold: true })).markPrice as number;

    const resting = await call('POST', '/api/futures/orders', { json: { symbol: 'ETH-USDT', side: 'BUY', type: 'LIMIT', qty: 3, price: mark - 100 } });
    expect(resting.status).toBe(201);
    const open = await call('GET', '/api/futures/orders?symbol=ETHUSDTM');
    expect(open.body.data.items.map((o: { orderId: string }) => o.orderId)).toContain(resting.body.data.orderId);
    const one = await call('GET', `/api/futures/orders/${resting.body.data.orderId}`);
    expect(one.body.data).toMatchObject({ status: 'open', qty: 3, filledQty: 0, side: 'BUY', type: 'LIMIT' });
    const cancel = await call('DELETE', `/api/futures/orders/${resting.body.data.orderId}`);
    expect(cancel.body.data.cancelledOrderIds).toEqual([resting.body.data.orderId]);
    expect((await call('GET', `/api/futures/orders/${resting.body.data.orderId}`)).body.data.status).toBe('canceled');
    expect((await call('DELETE', `/api/futures/orders/${resting.body.data.orderId}`)).status).toBe(409);

    const toFill = await call('POST', '/api/futures/orders', { json: { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 2, price: mark - 50 } });
    expect(toFill.status).toBe(201);
    await simControl('POST', '/sim/mark', { symbol: 'ETHUSDTM', price: mark - 60, hold: true });
    expect((await call('GET', `/api/futures/orders/${toFill.body.data.orderId}`)).body.data).toMatchObject({ status: 'filled', filledQty: 2 });
    const position = await call('GET', '/api/futures/positions/ETHUSDTM');
    expect(position.body.data).toMatchObject({ symbol: 'ETHUSDTM', side: 'LONG', qty: 2, marginMode: 'cross' });

    const close = await call('DELETE', '/api/futures/positions/ETHUSDTM', { headers: { 'idempotency-key': 'e2e-close-eth' } });
    expect(close.status).toBe(200);
    const again = await call('DELETE', '/api/futures/positions/ETHUSDTM', { headers: { 'idempotency-key': 'e2e-close-eth' } });
    expect(again.body.data).toMatchObject({ orderId: close.body.data.orderId, replayed: true });
    const list = await call('GET', '/api/futures/positions');
    expect(list.body.data.filter((p: { symbol: string; qty: number }) => p.symbol === 'ETHUSDTM' && p.qty !== 0)).toEqual([]);
    expect((await call('DELETE', '/api/futures/positions/ETHUSDTM')).status).toBe(404);
  });

  it('phase 4 (production enable): switch on under traffic, and the metrics the monitor reads stay clean', async () => {
    expect((await flip(true)).status).toBe(200);
    for (let i = 0; i < 10; i += 1) {
      expect((await call('GET', '/api/futures/positions')).status).toBe(200);
      expect((await call('GET', '/api/futures/orders')).status).toBe(200);
    }
    const metrics = (await call('GET', '/metrics')).text;
    expect(metrics).toMatch(/^gateway_futures_switch_enabled 1$/m);
    expect(metrics).not.toMatch(/^gateway_http_requests_total\{[^}]*status="5\d\d"\}/m);
    expect(metrics).not.toMatch(/^gateway_rate_limit_hits_total\{side="upstream"\} [1-9]/m);
    expect(metrics).toMatch(/^gateway_upstream_calls_total\{endpoint="GET \/api\/v1\/positions",outcome="ok"\} \d+$/m);
  });

  it('phase 6 (rollback): the run-time switch makes every futures route 404 within a second', async () => {
    await flip(true);
    const started = performance.now();
    expect((await flip(false)).status).toBe(200);
    const res = await call('GET', '/api/futures/positions');
    const elapsed = performance.now() - started;
    expect(res.status).toBe(404);
    expect(elapsed).toBeLessThan(1_000);
    expect(await upgrade(`${gateway.wsUrl}/ws/futures`)).toEqual({ status: 404 });
  });
});

describe('faults at KuCoin become typed answers, never a 500', () => {
  beforeAll(async () => {
    await flip(true);
  });

  it.each([
    ['a 5xx', 502, 'UPSTREAM_ERROR', { type: 'http', status: 500, body: { code: '500000', msg: 'Internal Server Error' } }],
    ['429000', 429, 'UPSTREAM_RATE_LIMITED', { type: 'rate-limit', resetMs: 1000 }],
    ['latency past the timeout', 504, 'UPSTREAM_TIMEOUT', { type: 'latency', ms: 2_000 }],
    ['bad JSON', 502, 'UPSTREAM_BAD_RESPONSE', { type: 'bad-body', body: '{"code":"200000","data":[' }],
  ] as const)('%s on the account read → %i %s', async (_name, status, code, action) => {
    // times: 3 covers the gateway's retries of a read; the breaker needs 5 failures in a row to open.
    // The account, not the position list: that list is served from the live feed once it is up.
    await simControl('POST', '/sim/faults', [{ match: { method: 'GET', path: '/api/v1/account-overview' }, times: 3, action }]);
    const res = await call('GET', '/api/futures/account');
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    if (status === 429) {
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 1_100));
    }
    await simControl('DELETE', '/sim/faults');
    expect((await call('GET', '/api/futures/account')).status).toBe(200);
  });

  it('an order whose answer is lost is found by clientOid: one order at KuCoin, a success for the caller', async () => {
    await simControl('POST', '/sim/faults', [{ match: { method: 'POST', path: '/api/v1/orders' }, times: 1, phase: 'after', action: { type: 'drop' } }]);
    const res = await call('POST', '/api/futures/orders', { json: { symbol: 'SOLUSDTM', side: 'BUY', type: 'MARKET', qty: 1, marginMode: 'isolated', clientOid: 'e2e-lost-answer' } });
    expect(res.status).toBe(201);
    expect(res.body.data.clientOid).toBe('e2e-lost-answer');
    const state = await simControl('GET', '/sim/state');
    const orders = [...state.orders.active, ...state.orders.done].filter((o: { clientOid: string }) => o.clientOid === 'e2e-lost-answer');
    expect(orders).toHaveLength(1);
    expect(state.requests['POST /api/v1/orders']).toBeGreaterThanOrEqual(1);
  });

  it('an order refused before KuCoin saw it is reported unconfirmed with its clientOid, and not retried', async () => {
    await simControl('POST', '/sim/faults', [{ match: { method: 'POST', path: '/api/v1/orders' }, times: 1, action: { type: 'http', status: 502, body: 'bad gateway' } }]);
    const before = (await simControl('GET', '/sim/state')).requests['POST /api/v1/orders'] ?? 0;
    const res = await call('POST', '/api/futures/orders', { json: { symbol: 'SOLUSDTM', side: 'BUY', type: 'MARKET', qty: 1, marginMode: 'isolated', clientOid: 'e2e-unconfirmed' } });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'ORDER_UNCONFIRMED', clientOid: 'e2e-unconfirmed' });
    expect((await simControl('GET', '/sim/state')).requests['POST /api/v1/orders']).toBe(before + 1);
  });

  it('business refusals keep KuCoin’s code', async () => {
    const res = await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 100000, marginMode: 'cross' } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'INSUFFICIENT_BALANCE', upstream: { code: '300003' } });
  });
});
