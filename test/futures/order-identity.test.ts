/**
 * Which order a clientOid names, against the KuCoin simulator (in process), under both readings of
 * KuCoin's clientOid memory: `forever` (every order holds its clientOid) and `active` (only open
 * orders do, and the lookup by clientOid sees only them: Kucoin/kucoin-api-docs #468, #287).
 * A fresh gateway against the same simulator is a restart (the idempotency store is in memory).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gatewayEnvForSimulator, loadSimConfig } from '../../src/simulator/config.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';

const SIM_ENV = { SIM_PORT: '0', SIM_KEY: 'identity-key', SIM_SECRET: 'identity-secret-0123456789abcdef', SIM_PASSPHRASE: 'identity-passphrase' };
const config = loadSimConfig(SIM_ENV);
let sim: RunningSimulator;
const gateways: RunningGateway[] = [];

/** A gateway process of its own (its own idempotency memory) against the one simulator. */
async function gateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const started = await startGateway({
    FEATURE_FUTURES: 'true',
    ...gatewayEnvForSimulator(sim.url, SIM_ENV),
    UPSTREAM_TIMEOUT_MS: '500',
    UPSTREAM_DEADLINE_MS: '6000',
    RATE_LIMIT_MAX: '0',
    READS_FROM_STREAM: 'false',
    ...env,
  });
  gateways.push(started);
  return started;
}

const post = (g: RunningGateway, body: Record<string, unknown>, key: string) =>
  request(g.baseUrl, 'POST', '/api/futures/orders', { json: body, headers: { 'idempotency-key': key } });
const ordersWith = (clientOid: string) => sim.engine.snapshot().state.orders.filter((o) => o.clientOid === clientOid);
const orderCount = () => sim.engine.snapshot().state.orders.length;
const posts = () => sim.app.counters.get('POST /api/v1/orders') ?? 0;
const lookups = () => sim.app.counters.get('GET /api/v1/orders/byClientOid') ?? 0;
/** The next order POST is handled by the account, then its answer is lost (the connection cut). */
const loseNextAnswer = (phase: 'before' | 'after' = 'after') =>
  sim.app.faults.add({ match: { method: 'POST', path: '/api/v1/orders' }, times: 1, phase, action: { type: 'drop' } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rests below a mark of 3000: stays open. */
const RESTING = { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 2990, leverage: 5 };

beforeAll(async () => {
  sim = await startSimulator({ config, timers: false });
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
});
afterAll(() => sim.close());

describe.each(['forever', 'active'] as const)('clientOid scope %s', (scope) => {
  beforeEach(() => {
    sim.engine.reset();
    sim.app.faults.clear();
    sim.app.counters.clear();
    sim.engine.setOrderQueries({ clientOidScope: scope, lookupLagMs: 0 });
    sim.engine.setMark('ETHUSDTM', 3000, true);
    sim.engine.setMark('XBTUSDTM', 60000, true);
  });

  it('300018 for the same order after a restart: 201 with the existing order, replayed, nothing new placed', async () => {
    const first = await post(await gateway(), RESTING, `same-${scope}`);
    expect(first.status).toBe(201);
    const restarted = await post(await gateway(), RESTING, `same-${scope}`);
    expect(restarted.status).toBe(201);
    expect(restarted.headers.get('idempotent-replayed')).toBe('true');
    expect(restarted.body.data).toEqual({ ...first.body.data, replayed: true });
    expect(ordersWith(`same-${scope}`)).toHaveLength(1);
    expect(posts()).toBe(2);
  });

  it.each([
    ['size', RESTING, { ...RESTING, qty: 3 }],
    ['price', RESTING, { ...RESTING, price: 2980 }],
    ['side', RESTING, { ...RESTING, side: 'SELL', price: 3010 }],
    ['symbol and side', { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 59000, leverage: 5 }, { symbol: 'ETHUSDTM', side: 'SELL', type: 'LIMIT', qty: 7, price: 3010, leverage: 5 }],
    ['type', RESTING, { ...RESTING, type: 'MARKET', price: undefined }],
  ])('300018 for another order (%s) after a restart: 409 IDEMPOTENCY_CONFLICT carrying the existing order', async (_what, original, asked) => {
    const key = `other-${scope}-${_what.replaceAll(' ', '-')}`;
    const first = await post(await gateway(), original, key);
    expect(first.status).toBe(201);
    const before = orderCount();

    const res = await post(await gateway(), asked, key);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      clientOid: key,
      existingOrder: { orderId: first.body.data.orderId, clientOid: key, symbol: original.symbol, side: original.side, type: 'LIMIT', qty: original.qty, price: original.price },
    });
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(orderCount()).toBe(before);
  });

  it('a position close under a key that names another order: 409 with that order, nothing closed', async () => {
    const g = await gateway();
    expect((await post(g, { symbol: 'ETHUSDTM', side: 'BUY', type: 'MARKET', qty: 2, leverage: 5 }, `open-${scope}`)).status).toBe(201);
    const limit = await post(g, RESTING, `close-key-${scope}`);
    expect(limit.status).toBe(201);

    const res = await request((await gateway()).baseUrl, 'DELETE', '/api/futures/positions/ETHUSDTM', { headers: { 'idempotency-key': `close-key-${scope}` } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', existingOrder: { orderId: limit.body.data.orderId, closeOrder: false } });
    expect(sim.engine.position('ETHUSDTM').currentQty).toBe(2);
  });

  it('a 300018 whose order cannot be found yet is not kept: the same request later gets the order', async () => {
    const first = await post(await gateway(), RESTING, `dup-${scope}`);
    expect(first.status).toBe(201);
    sim.engine.setOrderQueries({ lookupLagMs: 600_000 });
    const restarted = await gateway({ UPSTREAM_DEADLINE_MS: '1500' });
    const hidden = await post(restarted, RESTING, `dup-${scope}`);
    expect(hidden.status).toBe(409);
    expect(hidden.body.code).toBe('DUPLICATE_CLIENT_OID');

    sim.engine.setOrderQueries({ lookupLagMs: 0 });
    const again = await post(restarted, RESTING, `dup-${scope}`);
    expect(again.status).toBe(201);
    expect(again.body.data).toMatchObject({ orderId: first.body.data.orderId, replayed: true });
    expect(ordersWith(`dup-${scope}`)).toHaveLength(1);
  });

  it('a lost answer while the lookups lag: reconciled by repeating them, not ORDER_UNCONFIRMED', async () => {
    sim.engine.setOrderQueries({ lookupLagMs: 300 });
    loseNextAnswer();
    const res = await post(await gateway(), RESTING, `lag-${scope}`);
    expect(res.status).toBe(201);
    const [order] = ordersWith(`lag-${scope}`);
    expect(res.body.data).toMatchObject({ orderId: order!.id, qty: 1, price: 2990, replayed: false });
    expect(posts()).toBe(1);
    expect(lookups()).toBeGreaterThan(1);
  });

  it('a filled MARKET order whose answer was lost: found among the done orders, exactly one order', async () => {
    loseNextAnswer();
    const g = await gateway();
    const market = { symbol: 'ETHUSDTM', side: 'BUY', type: 'MARKET', qty: 2, leverage: 5 };
    const res = await post(g, market, `filled-${scope}`);
    expect(res.status).toBe(201);
    const orders = ordersWith(`filled-${scope}`);
    expect(orders).toHaveLength(1);
    expect(orders[0]!.status).toBe('done');
    expect(res.body.data).toMatchObject({ orderId: orders[0]!.id, type: 'MARKET', qty: 2, price: null });
    const again = await post(g, market, `filled-${scope}`);
    expect(again.body.data).toMatchObject({ orderId: orders[0]!.id, replayed: true });
    expect(ordersWith(`filled-${scope}`)).toHaveLength(1);
    expect(posts()).toBe(1);
  });

  it('ORDER_UNCONFIRMED, then a retry with the same key: reconciled first, no second POST', async () => {
    sim.engine.setOrderQueries({ lookupLagMs: 600_000 });
    loseNextAnswer();
    const g = await gateway();
    const lost = await post(g, RESTING, `unconfirmed-${scope}`);
    expect(lost.status).toBe(502);
    expect(lost.body).toMatchObject({ code: 'ORDER_UNCONFIRMED', clientOid: `unconfirmed-${scope}` });
    expect(lost.body.detail).not.toMatch(/retry with it/i);
    expect(posts()).toBe(1);

    const lookupsBefore = lookups();
    const early = await post(g, RESTING, `unconfirmed-${scope}`);
    expect(early.status).toBe(502);
    expect(early.body.code).toBe('ORDER_UNCONFIRMED');
    expect(posts()).toBe(1);
    expect(lookups()).toBeGreaterThan(lookupsBefore);

    sim.engine.setOrderQueries({ lookupLagMs: 0 });
    const settled = await post(g, RESTING, `unconfirmed-${scope}`);
    expect(settled.status).toBe(201);
    expect(settled.headers.get('idempotent-replayed')).toBe('true');
    expect(settled.body.data).toMatchObject({ orderId: ordersWith(`unconfirmed-${scope}`)[0]!.id, replayed: true });
    expect(posts()).toBe(1);
    expect(ordersWith(`unconfirmed-${scope}`)).toHaveLength(1);
  });

  it('ORDER_UNCONFIRMED for a POST that never reached the account: the same key places it once nothing is found after the settling time', async () => {
    loseNextAnswer('before');
    const g = await gateway({ UPSTREAM_DEADLINE_MS: '1500' });
    const lost = await post(g, RESTING, `never-${scope}`);
    expect(lost.status).toBe(502);
    expect(lost.body.code).toBe('ORDER_UNCONFIRMED');
    expect(ordersWith(`never-${scope}`)).toHaveLength(0);
    // Conclusive from the first request's deadline plus one try (1.5 s + 0.5 s after it began).
    await sleep(2_100);
    const retry = await post(g, RESTING, `never-${scope}`);
    expect(retry.status).toBe(201);
    expect(retry.body.data).toMatchObject({ orderId: ordersWith(`never-${scope}`)[0]!.id, replayed: false });
    expect(posts()).toBe(2);
  });
});
