/**
 * Issue 15, row "kill switch": three replicas sharing one Redis share one switch. Flipped off on
 * replica 1, replicas 2 and 3 answer the unknown route's 404 and close their sockets with 4404
 * within the bound; a replica restarted with FEATURE_FUTURES=true still reads it off; flipped on
 * from another replica, all serve again.
 * Measured before (sharing nothing): 2 and 3 kept serving for 3 s of polling; a restart forgot it.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { adminHeaders, pollUntil, startReplicas, type ReplicaSet } from '../support/replicas.js';

/** The issue asks for 100 ms; the test allows 1 s so a loaded CI box does not flake, and the benchmark reports the p99. */
const PROPAGATION_BOUND_MS = 1_000;

let set: ReplicaSet;
beforeAll(async () => {
  set = await startReplicas({ count: 3 });
}, 60_000);
afterAll(() => set?.stop(), 30_000);

const positionsStatus = async (baseUrl: string) => (await request(baseUrl, 'GET', '/api/futures/positions')).status;

function openSocket(wsUrl: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(`${wsUrl}/ws/futures`);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve({ ws, closed })); // futures_connected
    ws.once('error', reject);
  });
}

/** The HTTP status the upgrade was answered with (101 when it opened). */
function upgradeStatus(wsUrl: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsUrl}/ws/futures`);
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', () => resolve(0));
  });
}

describe('replicas: one kill switch', () => {
  it('a flip on replica 1 reaches replicas 2 and 3 (404, sockets closed 4404) and outlives a restart', async () => {
    const [r1, r2, r3] = [set.replicas[0]!, set.replicas[1]!, set.replicas[2]!];
    for (const r of set.replicas) expect(await positionsStatus(r.baseUrl)).toBe(200);
    const sockets = await Promise.all([openSocket(r2.wsUrl), openSocket(r3.wsUrl)]);
    const closeCodes: number[] = [];
    sockets.forEach((s) => void s.closed.then((code) => closeCodes.push(code)));

    const off = await request(r1.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: adminHeaders, json: { enabled: false, reason: 'replicas test' } });
    expect(off.status).toBe(200);
    let statuses: number[] = [];
    const elapsed = await pollUntil(
      () => `every replica 404 and both sockets closed (positions answered ${statuses.join(', ')} on replicas 1, 2, 3; sockets closed with [${closeCodes.join(', ')}])`,
      async () => (statuses = await Promise.all(set.replicas.map((r) => positionsStatus(r.baseUrl)))).every((s) => s === 404) && closeCodes.length === 2,
      PROPAGATION_BOUND_MS,
    );
    expect(closeCodes).toEqual([4404, 4404]);
    expect(elapsed).toBeLessThanOrEqual(PROPAGATION_BOUND_MS);
    expect(await upgradeStatus(r3.wsUrl)).toBe(404);
    for (const r of set.replicas) expect((await request(r.baseUrl, 'GET', '/api/health')).body.data.futures.enabled).toBe(false);

    // A restart with FEATURE_FUTURES=true (what the replica's environment says) does not forget the flip.
    await set.restartReplica(1, { FEATURE_FUTURES: 'true' });
    expect(await positionsStatus(r2.baseUrl)).toBe(404);
    expect((await request(r2.baseUrl, 'GET', '/api/health')).body.data.futures.enabled).toBe(false);

    const on = await request(r3.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: adminHeaders, json: { enabled: true, reason: 'replicas test' } });
    expect(on.status).toBe(200);
    await pollUntil('every replica 200 again', async () => (await Promise.all(set.replicas.map((r) => positionsStatus(r.baseUrl)))).every((s) => s === 200), PROPAGATION_BOUND_MS);
    expect(await upgradeStatus(r1.wsUrl)).toBe(101);
  }, 60_000);
});
