/** The `/sim/` control API and each fault type (src/simulator/rest/control.ts). */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { GatewayError } from '../../src/errors.js';
import { KucoinClient } from '../../src/kucoin/client.js';
import { RateBudget } from '../../src/kucoin/rate-budget.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { loadSimConfig } from '../../src/simulator/config.js';
import type { KucoinBullet } from '../../src/simulator/rest/routes.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';

const config = loadSimConfig({ SIM_PORT: '0', SIM_SEED: '9' });
let sim: RunningSimulator;
let client: KucoinClient;

beforeAll(async () => {
  sim = await startSimulator({ config, timers: false });
  client = new KucoinClient({
    baseUrl: sim.url,
    credentials: config.credentials,
    keyVersion: config.keyVersion,
    timeoutMs: 500,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    budget: new RateBudget({ limits: { futures: 2000, public: 2000 } }),
    readAttempts: 1,
    breaker: { consecutiveFailures: 1000, halfOpenAfterMs: 10 },
  });
});
afterAll(() => sim.close());
afterEach(async () => {
  await control('DELETE', '/sim/faults');
});

async function control(method: string, path: string, body?: unknown) {
  const response = await fetch(`${sim.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as any };
}

const addFaults = async (rules: unknown) => {
  const answer = await control('POST', '/sim/faults', rules);
  expect(answer.status).toBe(200);
  return answer.body;
};

describe('faults', () => {
  it('http: the status and body given, `times` times, then normal again', async () => {
    await addFaults([{ match: { method: 'GET', path: '/api/v1/contracts' }, times: 1, action: { type: 'http', status: 503, body: { code: '503000', msg: 'maintenance' } } }]);
    const first = await fetch(`${sim.url}/api/v1/contracts/active`);
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ code: '503000', msg: 'maintenance' });
    expect(first.headers.get('gw-ratelimit-limit')).toBe('2000');
    expect((await fetch(`${sim.url}/api/v1/contracts/active`)).status).toBe(200);
    expect((await control('GET', '/sim/faults')).body.faults).toEqual([]);
  });

  it('business: HTTP 200 with the code, which the gateway maps', async () => {
    await addFaults({ match: { path: '/api/v1/orders' }, action: { type: 'business', code: '300003', msg: 'Balance not enough' } });
    const error = await client.call('placeOrder', { body: { clientOid: 'f-b1', symbol: 'XBTUSDTM', side: 'buy', type: 'market', size: 1, leverage: 5 }, scope: null, context: 'placing' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_BALANCE', options: { upstream: { code: '300003' } } });
    expect(sim.engine.orderByClientOid('f-b1')).toBeNull();
  });

  it('rate-limit: 429000 with HTTP 429 and the reset given', async () => {
    await addFaults([{ match: { path: '/api/v1/timestamp' }, times: 1, action: { type: 'rate-limit', resetMs: 5_000 } }]);
    const response = await fetch(`${sim.url}/api/v1/timestamp`);
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({ code: '429000', msg: 'Too Many Requests' });
    expect([response.headers.get('gw-ratelimit-remaining'), response.headers.get('gw-ratelimit-reset')]).toEqual(['0', '5000']);
  });

  it('latency: the answer comes late but whole', async () => {
    await addFaults([{ match: { path: '/api/v1/status' }, times: 1, action: { type: 'latency', ms: 150 } }]);
    const started = Date.now();
    const response = await fetch(`${sim.url}/api/v1/status`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await response.json()).toEqual({ code: '200000', data: { status: 'open', msg: '' } });
  });

  it('latency beyond the client timeout is UPSTREAM_TIMEOUT', async () => {
    await addFaults([{ match: { path: '/api/v1/contracts/XBTUSDTM' }, times: 1, action: { type: 'latency', ms: 800 } }]);
    const error = await client.call('contract', { params: { symbol: 'XBTUSDTM' }, scope: null, context: 'reading' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });

  it('bad-body: HTTP 200 with text the gateway cannot read', async () => {
    await addFaults([{ match: { path: '/api/v1/contracts/ETHUSDTM' }, times: 1, action: { type: 'bad-body', body: '<html>oops' } }]);
    const response = await fetch(`${sim.url}/api/v1/contracts/ETHUSDTM`);
    expect([response.status, await response.text()]).toEqual([200, '<html>oops']);
    await addFaults([{ match: { path: '/api/v1/contracts/ETHUSDTM' }, times: 1, action: { type: 'bad-body', body: '{"code":"200000","da' } }]);
    const error = await client.call('contract', { params: { symbol: 'ETHUSDTM' }, scope: null, context: 'reading' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
  });

  it('drop: the socket closes without an answer', async () => {
    await addFaults([{ match: { path: '/api/v1/status' }, times: 1, action: { type: 'drop' } }]);
    await expect(fetch(`${sim.url}/api/v1/status`)).rejects.toThrow();
    expect((await fetch(`${sim.url}/api/v1/status`)).status).toBe(200);
  });

  it("phase 'after': the order is placed, then the answer is lost", async () => {
    await addFaults([{ match: { method: 'POST', path: '/api/v1/orders' }, times: 1, phase: 'after', action: { type: 'drop' } }]);
    const error = await client.call('placeOrder', { body: { clientOid: 'f-after-1', symbol: 'ETHUSDTM', side: 'buy', type: 'market', size: 1, leverage: 5 }, scope: null, context: 'placing' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(sim.engine.orderByClientOid('f-after-1')).toMatchObject({ status: 'done', filledSize: 1 });
  });

  it('without `times` a rule holds until cleared; rules are validated', async () => {
    const added = await addFaults([{ match: { path: '/api/v1/status' }, action: { type: 'http', status: 500 } }]);
    expect(added.added[0]).toMatchObject({ id: expect.any(Number), times: null, phase: 'before' });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${sim.url}/api/v1/status`);
      expect([response.status, await response.json()]).toEqual([500, { code: '500000', msg: 'Injected fault' }]);
    }
    expect(await control('DELETE', '/sim/faults')).toEqual({ status: 200, body: { cleared: 1 } });
    expect((await fetch(`${sim.url}/api/v1/status`)).status).toBe(200);
    const bad = await control('POST', '/sim/faults', [{ action: { type: 'explode' } }]);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/rule 0: action.type/);
  });
});

describe('control API', () => {
  it('POST /sim/mark sets the mark and fills the resting orders it crosses', async () => {
    const { orderId } = sim.engine.placeOrder({ clientOid: 'c-mark-1', symbol: 'SOLUSDTM', side: 'sell', type: 'limit', price: '180', size: 2, leverage: 5 });
    const answer = await control('POST', '/sim/mark', { symbol: 'SOLUSDTM', price: 180.0004, hold: true });
    expect(answer.body).toEqual({ symbol: 'SOLUSDTM', markPrice: 180, indexPrice: 180, held: true });
    expect(sim.engine.order(orderId)).toMatchObject({ status: 'done', filledSize: 2 });
    await control('POST', '/sim/tick', { steps: 3 });
    expect(sim.engine.markPrice('SOLUSDTM').value).toBe(180);
    expect((await control('POST', '/sim/mark', { symbol: 'NOPE', price: 1 })).body).toMatchObject({ code: '100003' });
  });

  it('POST /sim/funding/settle settles every contract now', async () => {
    const answer = await control('POST', '/sim/funding/settle');
    expect(answer.body.settlements.map((s: { symbol: string }) => s.symbol)).toEqual(['XBTUSDTM', 'ETHUSDTM', 'SOLUSDTM', 'XBTUSDM']);
    const sol = answer.body.settlements.find((s: { symbol: string }) => s.symbol === 'SOLUSDTM');
    expect(sol.fundingFee).toBeLessThan(0); // a short receives a positive rate
  });

  it('GET /sim/state shows the account, positions, orders and requests by path', async () => {
    await fetch(`${sim.url}/api/v1/contracts/XBTUSDTM`);
    const { body } = await control('GET', '/sim/state');
    expect(Object.keys(body.accounts)).toEqual(['USDT', 'XBT']);
    expect(body.positions.map((p: { symbol: string }) => p.symbol)).toEqual(expect.arrayContaining(['SOLUSDTM', 'ETHUSDTM']));
    expect(body.orders.done.length).toBeGreaterThan(0);
    expect(body.requests['GET /api/v1/contracts/{symbol}']).toBeGreaterThan(0);
    expect(body.ws).toEqual({ connections: 0 });
  });

  it('POST /sim/reset starts a fresh account and clears the counters', async () => {
    expect((await control('POST', '/sim/reset', { seed: 9 })).body).toEqual({ seed: 9 });
    const { body } = await control('GET', '/sim/state');
    expect(body.positions).toEqual([]);
    expect(body.orders).toEqual({ active: [], done: [] });
    expect(body.requests).toEqual({});
    expect(body.accounts.USDT.availableBalance).toBe(10_000);
    expect((await control('POST', '/sim/reset', { seed: 'x' })).status).toBe(400);
    expect((await control('GET', '/sim/nothing')).status).toBe(404);
  });

  it('GET /sim/usage counts what each pool spent and refused, and every 429 sent; reset clears it', async () => {
    await control('POST', '/sim/reset', { seed: 9 });
    for (let i = 0; i < 3; i++) await client.call('positions', { scope: null, context: 'reading positions' });
    await fetch(`${sim.url}/api/v1/contracts/XBTUSDTM`);
    await addFaults([{ match: { path: '/api/v1/status' }, times: 1, action: { type: 'rate-limit', resetMs: 1_000 } }]);
    expect((await fetch(`${sim.url}/api/v1/status`)).status).toBe(429);
    const { body } = await control('GET', '/sim/usage');
    expect(body.pools.futures).toMatchObject({ limit: 2000, calls: 3, weight: 6, refused: 0, maxWindowWeight: 6 });
    expect(body.pools.futures.perSecond.reduce((sum: number, [, weight]: [number, number]) => sum + weight, 0)).toBe(6);
    // The contract read, and the clock read the client signs with.
    expect(body.pools.public.weight).toBeGreaterThanOrEqual(3);
    expect(body.rateLimited).toBe(1);
    expect(body.requests['GET /api/v1/positions']).toBe(3);
    await control('POST', '/sim/reset', { seed: 9 });
    expect((await control('GET', '/sim/usage')).body).toMatchObject({ pools: { futures: { calls: 0, weight: 0, perSecond: [] } }, rateLimited: 0, requests: {} });
  });

  it('bullet-public, then /sim/ws/drop and /sim/ws/expire-tokens', async () => {
    const response = await fetch(`${sim.url}/api/v1/bullet-public`, { method: 'POST' });
    const { data: bullet } = (await response.json()) as { data: KucoinBullet };
    expect(sim.tokens.check(bullet.token)).toBe('public');
    const socket = new WebSocket(`${bullet.instanceServers[0]!.endpoint}?token=${bullet.token}&connectId=c1`);
    const welcome = await new Promise<unknown>((resolve, reject) => {
      socket.once('message', (data) => resolve(JSON.parse(String(data))));
      socket.once('error', reject);
    });
    expect(welcome).toEqual({ id: 'c1', type: 'welcome' });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    expect((await control('POST', '/sim/ws/drop')).body).toEqual({ dropped: 1 });
    expect(await closed).toBe(1006);

    expect((await control('POST', '/sim/ws/expire-tokens')).body).toEqual({ expired: true });
    expect(sim.tokens.check(bullet.token)).toBe('expired');
  });
});
