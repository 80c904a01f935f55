/**
 * Issue 15, row "idempotency": one record per Idempotency-Key across replicas.
 * Measured before (sharing nothing): the same key with qty 2 on another replica answered 201
 * claiming qty 2 while the real order is qty 1; 10 concurrent same-body requests across 3
 * replicas gave 3 first-time answers and spent weight 16 instead of 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { startReplicas, type ReplicaSet } from '../support/replicas.js';

let set: ReplicaSet;
beforeAll(async () => {
  // KuCoin may free a clientOid once its order is done (docs/kucoin.md; SIM_CLIENT_OID_SCOPE):
  // then only the gateway's own record stands between a repeated key and a second order.
  set = await startReplicas({ count: 3, simEnv: { SIM_CLIENT_OID_SCOPE: 'active' } });
}, 60_000);
afterAll(() => set?.stop(), 30_000);

const order = (qty: number) => ({ symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty });

/** The simulator's orders (active and done) placed under `clientOid`. */
async function simOrders(clientOid: string): Promise<any[]> {
  const state = await set.simControl('GET', '/sim/state');
  return [...state.orders.active, ...state.orders.done].filter((o: any) => o.clientOid === clientOid);
}

async function usage(): Promise<{ placed: number; futuresWeight: number }> {
  const u = await set.simControl('GET', '/sim/usage');
  return { placed: u.requests['POST /api/v1/orders'] ?? 0, futuresWeight: u.pools.futures.weight };
}

describe('replicas: one idempotency record per key', () => {
  it('the same key with another body on another replica is 409, and KuCoin holds the first order only', async () => {
    const key = `rep-conflict-${Date.now()}`;
    const first = await request(set.urls[0]!, 'POST', '/api/futures/orders', { headers: { 'idempotency-key': key }, json: order(1) });
    expect(first.status).toBe(201);
    const other = await request(set.urls[1]!, 'POST', '/api/futures/orders', { headers: { 'idempotency-key': key }, json: order(2) });
    expect(other.status, JSON.stringify(other.body)).toBe(409);
    expect(other.body.code).toBe('IDEMPOTENCY_CONFLICT');
    const held = await simOrders(key);
    expect(held).toHaveLength(1);
    // The same body on the third replica is a replay of the first answer.
    const replay = await request(set.urls[2]!, 'POST', '/api/futures/orders', { headers: { 'idempotency-key': key }, json: order(1) });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.data.orderId).toBe(first.body.data.orderId);
    expect(await simOrders(key)).toHaveLength(1);
  }, 30_000);

  it('10 concurrent same-body requests across 3 replicas: one placement, one first-time answer, one order', async () => {
    const key = `rep-concurrent-${Date.now()}`;
    const before = await usage();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => request(set.urls[i % 3]!, 'POST', '/api/futures/orders', { headers: { 'idempotency-key': key }, json: order(1) })),
    );
    const after = await usage();
    const statuses = answers.map((a) => a.status);
    expect(statuses, JSON.stringify(answers.map((a) => a.body))).toEqual(Array(10).fill(201));
    const firstTime = answers.filter((a) => a.headers.get('idempotent-replayed') !== 'true');
    expect(firstTime.map((a) => a.body.data.orderId), 'first-time answers').toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.data.orderId)).size).toBe(1);
    expect(await simOrders(key)).toHaveLength(1);
    expect(after.placed - before.placed, 'POST /api/v1/orders sent to KuCoin').toBe(1);
    // One placement is weight 2; margin-mode and contract reads may add a little, never one placement per replica.
    expect(after.futuresWeight - before.futuresWeight, 'Futures weight spent').toBeLessThanOrEqual(4);
  }, 30_000);
});
