/**
 * PUT /api/futures/leverage against the KuCoin simulator, which behaves as KuCoin documents
 * (https://www.kucoin.com/docs-new/api-3470264): a risk-limit level change cancels the symbol's open
 * orders and reports its outcome later, as the private push `position.adjustRiskLimit`, which can
 * fail. The simulator's control API sets the push's delay and failure, counts every request, and
 * shows the account's settings.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { simulator, startGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../support/process.js';
import { simControlAt } from '../support/sim-control.js';

const SIM_CREDENTIALS = { SIM_KEY: 'leverage-key', SIM_SECRET: 'leverage-secret-0123456789abcdef', SIM_PASSPHRASE: 'leverage-passphrase' };
const CHANGE = 'POST /api/v1/position/risk-limit-level/change';

let sim: GatewayProcess;
let gw: RunningGateway;
let stateDir: string;
const simControl = simControlAt(() => sim.baseUrl);
const env = () => ({ FEATURE_FUTURES: 'true', ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS), UPSTREAM_TIMEOUT_MS: '2000', RATE_LIMIT_MAX: '0', STATE_DIR: stateDir });
const call = (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(gw.baseUrl, method, path, init);
const putLeverage = (json: Record<string, unknown>, on: RunningGateway = gw) => request(on.baseUrl, 'PUT', '/api/futures/leverage', { json });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function requests(): Promise<Record<string, number>> {
  return (await simControl('GET', '/sim/usage')).requests;
}
/** Every write the simulator received, by endpoint. */
async function writes(): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await requests()).filter(([name]) => !name.startsWith('GET ')));
}
async function settings(symbol: string): Promise<{ marginMode: string; crossLeverage: number; riskLimitLevel: number }> {
  return (await simControl('GET', '/sim/state')).settings[symbol];
}
async function restingBuy(symbol = 'XBTUSDTM'): Promise<string> {
  const res = await call('POST', '/api/futures/orders', { json: { symbol, side: 'BUY', type: 'LIMIT', qty: 1, price: 1000, leverage: 5, marginMode: 'isolated' } });
  expect(res.status).toBe(201);
  return res.body.data.orderId as string;
}
/** The gateway's KuCoin stream is up and subscribed: a position list read was served from it. */
async function untilStream(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await call('GET', '/api/futures/positions')).headers.get('x-served-from') === 'stream') return;
    await sleep(20);
  }
  throw new Error('the position list never came from the stream');
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'leverage-state-'));
  sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } });
  gw = await startGateway(env());
});
afterEach(async () => {
  await simControl('POST', '/sim/reset');
});
afterAll(async () => {
  await gw?.stop();
  await stopGatewayProcesses();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('isolated leverage and the risk-limit level', () => {
  it('changes nothing at KuCoin when the current level already allows the leverage', async () => {
    const res = await putLeverage({ symbol: 'BTCUSDTM', leverage: 5, marginMode: 'isolated' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ symbol: 'XBTUSDTM', baseAsset: 'BTC', marginMode: 'isolated', leverage: 5, riskLimitLevel: 1, riskLimitLevelChanged: false, riskLimitStatus: 'unchanged' });
    expect(await writes()).toEqual({});
    expect((await settings('XBTUSDTM')).riskLimitLevel).toBe(1);
  });

  it('moves to the explicit level asked for, then to the allowed level nearest the current one (not the highest), waiting for the outcome', async () => {
    const explicit = await putLeverage({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'isolated', riskLimitLevel: 5 });
    expect(explicit.status).toBe(200);
    expect(explicit.body.data).toMatchObject({ riskLimitLevel: 5, riskLimitLevelChanged: true, riskLimitStatus: 'changed' });
    expect((await settings('XBTUSDTM')).riskLimitLevel).toBe(5);

    // XBTUSDTM: level 1 allows 125x, level 2 100x; from level 5, 100x needs level 2 or 1: 2 is nearer.
    const res = await putLeverage({ symbol: 'XBTUSDTM', leverage: 100, marginMode: 'isolated' });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ symbol: 'XBTUSDTM', leverage: 100, riskLimitLevel: 2, riskLimitLevelChanged: true, riskLimitStatus: 'changed' });
    expect((await settings('XBTUSDTM')).riskLimitLevel).toBe(2);
    expect((await requests())[CHANGE]).toBe(2);
  });

  it('refuses an explicit level whose maximum leverage is below the leverage, before any write', async () => {
    const res = await putLeverage({ symbol: 'XBTUSDTM', leverage: 100, marginMode: 'isolated', riskLimitLevel: 5 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('LEVERAGE_TOO_HIGH');
    expect(await writes()).toEqual({});
  });

  it('answers 409 RISK_LIMIT_CHANGE_CANCELS_ORDERS listing the open orders, changing nothing; cancelOpenOrders:true goes ahead and KuCoin cancels them', async () => {
    const orderId = await restingBuy();
    const refused = await putLeverage({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'isolated', riskLimitLevel: 3 });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('RISK_LIMIT_CHANGE_CANCELS_ORDERS');
    expect(refused.body.openOrders.map((o: { orderId: string }) => o.orderId)).toEqual([orderId]);
    expect((await requests())[CHANGE]).toBeUndefined();
    expect((await settings('XBTUSDTM')).riskLimitLevel).toBe(1);
    expect((await simControl('GET', '/sim/state')).orders.active.map((o: { id: string }) => o.id)).toEqual([orderId]);

    const res = await putLeverage({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'isolated', riskLimitLevel: 3, cancelOpenOrders: true });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ riskLimitLevel: 3, riskLimitLevelChanged: true });
    expect((await simControl('GET', '/sim/state')).orders.active).toEqual([]);
  });

  it('answers 422 UPSTREAM_REJECTED with KuCoin\'s message when the position.adjustRiskLimit push reports a failure', async () => {
    await untilStream();
    await simControl('POST', '/sim/risk-limit', { delayMs: 50, fail: 'Insufficient balance to adjust the risk limit' });
    const res = await putLeverage({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'isolated', riskLimitLevel: 4 });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UPSTREAM_REJECTED');
    expect(res.body.upstream).toEqual({ code: 'position.adjustRiskLimit', message: 'Insufficient balance to adjust the risk limit' });
    expect((await settings('XBTUSDTM')).riskLimitLevel).toBe(1);
  });

  it('waits for KuCoin\'s outcome on its own stream when nothing else holds one (READS_FROM_STREAM=false, no /ws/futures client): failure 422 with KuCoin\'s message, success 200 changed', async () => {
    // Without the stream, a failure is never seen (only the push carries it) and the answer was 202 pending.
    const alone = await startGateway({ ...env(), READS_FROM_STREAM: 'false' });
    try {
      await simControl('POST', '/sim/risk-limit', { delayMs: 300, fail: 'Insufficient balance to adjust the risk limit' });
      const failed = await putLeverage({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'isolated', riskLimitLevel: 4 }, alone);
      expect(failed.status).toBe(422);
      expect(failed.body.code).toBe('UPSTREAM_REJECTED');
      expect(failed.body.upstream).toEqual({ code: 'position.adjustRiskLimit', message: 'Insufficient balance to adjust the risk limit' });
      expect((await settings('XBTUSDTM')).riskLimitLevel).toBe(1);

      await simControl('POST', '/sim/risk-limit', { delayMs: 300, fail: null });
      const changed = await putLeverage({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'isolated', riskLimitLevel: 3 }, alone);
      expect(changed.status).toBe(200);
      expect(changed.body.data).toMatchObject({ riskLimitLevel: 3, riskLimitLevelChanged: true, riskLimitStatus: 'changed' });
      expect((await settings('XBTUSDTM')).riskLimitLevel).toBe(3);
    } finally {
      await alone.stop();
    }
  });

  it('answers 202 with riskLimitStatus pending and the level asked for when no outcome comes before the deadline', async () => {
    const hurried = await startGateway({ ...env(), UPSTREAM_DEADLINE_MS: '1500' });
    try {
      await simControl('POST', '/sim/risk-limit', { delayMs: 4000 });
      const res = await putLeverage({ symbol: 'XBTUSDTM', leverage: 5, marginMode: 'isolated', riskLimitLevel: 2 }, hurried);
      expect(res.status).toBe(202);
      expect(res.body.data).toMatchObject({ symbol: 'XBTUSDTM', riskLimitLevel: 2, riskLimitLevelChanged: false, riskLimitStatus: 'pending' });
    } finally {
      await hurried.stop();
    }
  });

  it('refuses a fractional leverage with 400 before any write', async () => {
    const before = await writes();
    for (const marginMode of ['isolated', 'cross']) {
      const res = await putLeverage({ symbol: 'ETHUSDTM', leverage: 2.5, marginMode });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('leverage');
    }
    expect(await writes()).toEqual(before);
    expect((await settings('ETHUSDTM')).marginMode).toBe('ISOLATED');
  });

  it('remembers the isolated leverage across a gateway restart (same STATE_DIR): a later order without leverage uses it', async () => {
    const first = await startGateway(env());
    expect((await putLeverage({ symbol: 'XBTUSDTM', leverage: 7, marginMode: 'isolated' }, first)).status).toBe(200);
    await first.stop();
    expect(JSON.parse(readFileSync(join(stateDir, 'leverage.json'), 'utf8'))).toMatchObject({ XBTUSDTM: 7 });

    const second = await startGateway(env());
    try {
      const placed = await request(second.baseUrl, 'POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 1000, marginMode: 'isolated' } });
      expect(placed.status).toBe(201);
      const [order] = (await simControl('GET', '/sim/state')).orders.active;
      expect(order).toMatchObject({ id: placed.body.data.orderId, leverage: '7' });
    } finally {
      await second.stop();
    }
  });
});

describe('cross leverage', () => {
  it('switches the margin mode back when the cross-leverage change fails after the switch, and says so', async () => {
    await simControl('POST', '/sim/faults', { match: { method: 'POST', path: '/api/v2/changeCrossUserLeverage' }, times: 1, action: { type: 'business', code: '300000', msg: 'request parameter illegal' } });
    const res = await putLeverage({ symbol: 'ETHUSDTM', leverage: 3, marginMode: 'cross' });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/switched back to isolated margin/);
    expect((await settings('ETHUSDTM')).marginMode).toBe('ISOLATED');
  });

  it('never answers 200 when KuCoin says data:false to the cross-leverage change', async () => {
    await simControl('POST', '/sim/faults', { match: { method: 'POST', path: '/api/v2/changeCrossUserLeverage' }, times: 1, action: { type: 'http', status: 200, body: { code: '200000', data: false } } });
    const res = await putLeverage({ symbol: 'ETHUSDTM', leverage: 3, marginMode: 'cross' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UPSTREAM_REJECTED');
    expect((await settings('ETHUSDTM')).marginMode).toBe('ISOLATED');
  });

  it('sends the cross leverage as a string holding an integer and answers 200', async () => {
    const res = await putLeverage({ symbol: 'ETHUSDTM', leverage: 8, marginMode: 'cross' });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ symbol: 'ETHUSDTM', marginMode: 'cross', leverage: 8, riskLimitLevel: null });
    expect(await settings('ETHUSDTM')).toMatchObject({ marginMode: 'CROSS', crossLeverage: 8 });
  });
});
