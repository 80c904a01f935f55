/**
 * The simulator's two readings of KuCoin's clientOid memory (forever / active only:
 * Kucoin/kucoin-api-docs #468, #287) and the lag of its order queries, engine and control API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSimConfig, SimConfigError } from '../../src/simulator/config.js';
import { SimEngine, SimError } from '../../src/simulator/engine/engine.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';
import { simControlAt } from '../support/sim-control.js';

const clock = { t: 1_731_916_800_000 };
const engine = (clientOidScope: 'forever' | 'active', lookupLagMs = 0) =>
  new SimEngine({ seed: 7, now: () => clock.t, markIntervalMs: 1_000, fundingIntervalMs: 60_000, orderQueries: { clientOidScope, lookupLagMs } });
const market = (clientOid: string) => ({ clientOid, symbol: 'XBTUSDTM', side: 'buy', type: 'market', size: 1, leverage: 5 });
const refusal = (call: () => unknown) => {
  try {
    call();
  } catch (error) {
    if (error instanceof SimError) return error.code;
    throw error;
  }
  return undefined;
};

describe('clientOid scope', () => {
  it('forever: a filled order keeps its clientOid (300018) and is found by it', () => {
    const e = engine('forever');
    const { orderId } = e.placeOrder(market('m1'));
    expect(refusal(() => e.placeOrder(market('m1')))).toBe('300018');
    expect(e.orderByClientOid('m1')?.id).toBe(orderId);
  });

  it('active: a filled order frees its clientOid and is not found by it, but stays in the done list', () => {
    const e = engine('active');
    const { orderId } = e.placeOrder(market('m1'));
    expect(e.orderByClientOid('m1')).toBeNull();
    expect(e.listOrders({ status: 'done' }).items.map((o) => o.id)).toEqual([orderId]);
    const second = e.placeOrder(market('m1'));
    expect(second.orderId).not.toBe(orderId);
  });

  it('active: an open order still holds its clientOid', () => {
    const e = engine('active');
    e.placeOrder({ ...market('l1'), type: 'limit', price: '50000' });
    expect(refusal(() => e.placeOrder({ ...market('l1'), type: 'limit', price: '50000' }))).toBe('300018');
    expect(e.orderByClientOid('l1')?.clientOid).toBe('l1');
  });
});

describe('lookup lag', () => {
  it('hides a just-placed order from the lookup and a just-done one from the done list, until the lag has passed', () => {
    const e = engine('forever', 500);
    const { orderId } = e.placeOrder(market('lag1'));
    expect(e.orderByClientOid('lag1')).toBeNull();
    expect(e.listOrders({ status: 'done' }).items).toEqual([]);
    // The matching engine does not lag: the clientOid is refused at once.
    expect(refusal(() => e.placeOrder(market('lag1')))).toBe('300018');
    clock.t += 500;
    expect(e.orderByClientOid('lag1')?.id).toBe(orderId);
    expect(e.listOrders({ status: 'done' }).items.map((o) => o.id)).toEqual([orderId]);
  });

  it('refuses a bad setting', () => {
    expect(refusal(() => engine('forever').setOrderQueries({ lookupLagMs: -1 }))).toBe('100001');
  });
});

describe('configuration and control API', () => {
  let sim: RunningSimulator;
  const control = simControlAt(() => sim.url);
  beforeAll(async () => {
    sim = await startSimulator({ config: loadSimConfig({ SIM_PORT: '0', SIM_CLIENT_OID_SCOPE: 'active', SIM_LOOKUP_LAG_MS: '250' }), timers: false });
  });
  afterAll(() => sim.close());

  it('starts with the configured behaviour, changes it, and a reset restores it', async () => {
    expect((await control('GET', '/sim/state')).orderQueries).toEqual({ clientOidScope: 'active', lookupLagMs: 250 });
    expect(await control('POST', '/sim/orders/behaviour', { clientOidScope: 'forever' })).toEqual({ clientOidScope: 'forever', lookupLagMs: 250 });
    await control('POST', '/sim/reset');
    expect((await control('GET', '/sim/state')).orderQueries).toEqual({ clientOidScope: 'active', lookupLagMs: 250 });
    await expect(control('POST', '/sim/orders/behaviour', { clientOidScope: 'sometimes' })).rejects.toThrow(/400/);
  });

  it('refuses a bad SIM_CLIENT_OID_SCOPE', () => {
    expect(() => loadSimConfig({ SIM_CLIENT_OID_SCOPE: 'never' })).toThrow(SimConfigError);
  });
});
