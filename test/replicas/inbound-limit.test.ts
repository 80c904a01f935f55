/**
 * Issue 15, row "inbound limit": RATE_LIMIT_MAX is one client's allowance per window across every
 * replica, not per replica. Measured before (sharing nothing): RATE_LIMIT_MAX=100 let 300 through
 * per window across 3 replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { startReplicas, type ReplicaSet } from '../support/replicas.js';

const MAX = 100;
let set: ReplicaSet;
beforeAll(async () => {
  // A window far longer than the test, so every request below falls in one.
  set = await startReplicas({ count: 3, env: { RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: '600000' } });
}, 60_000);
afterAll(() => set?.stop(), 30_000);

describe('replicas: one inbound limit per client', () => {
  it(`RATE_LIMIT_MAX=${MAX}: one client spreading 330 requests over 3 replicas gets at most ${MAX} through`, async () => {
    const statuses: number[] = [];
    // 10 at a time, round robin, as a load balancer would spread one client.
    for (let batch = 0; batch < 33; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => request(set.urls[(batch * 10 + i) % 3]!, 'GET', '/api/futures/contracts')));
      statuses.push(...answers.map((a) => a.status));
    }
    const count = (status: number) => statuses.filter((s) => s === status).length;
    expect(count(200) + count(429), `statuses: ${JSON.stringify(Object.fromEntries([...new Set(statuses)].map((s) => [s, count(s)])))}`).toBe(330);
    // Exactly the allowance: not three of them, and not less (the count is one atomic counter).
    expect(count(200), 'answered 200 across the replicas').toBe(MAX);
  }, 60_000);
});
