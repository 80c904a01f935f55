/**
 * New KuCoin private-stream connections, paced for the whole account (issue 15 §5). KuCoin allows 30
 * new connections a minute per user; each replica holds its own connection. Before, nothing counted
 * them together: while tokens were refused, 3 replicas made 21 attempts in 60 s with the production
 * backoff, and with the tests' short backoff here three supervisors make hundreds a second.
 * These tests use a short window (points per 1 s) so the arithmetic of the production one (4 per
 * 10 s: at most 28 in any 60 s) is checked in seconds: a span of L s holds at most
 * points × (L / d + 1) attempts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { ConnectPacer } from '../../src/kucoin/stream/pacing.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { closeSharedRedis, connectShared, startRedis, type TestRedis } from '../support/redis.js';
import { cleanUp, fakeClient, metric, sleep, startRaw, supervise, waitFor, type Answer } from './stream-supervisor-harness.js';

let redis: TestRedis;
let accounts = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(cleanUp);
afterAll(async () => {
  await closeSharedRedis();
  await redis?.stop();
});

const connect = (url = redis.url, metrics: Metrics = createMetrics()) => connectShared(url, { metrics });

/** The most timestamps in any span of `spanMs`. */
function busiest(times: number[], spanMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= spanMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('ConnectPacer', () => {
  it('holds three replicas together to the account’s points per window', async () => {
    const account = `acct${(accounts += 1)}`;
    const pacers = await Promise.all([0, 1, 2].map(async () => new ConnectPacer({ shared: await connect(), account, points: 2, durationSeconds: 1 })));
    const admitted: number[] = [];
    const until = Date.now() + 2_200;
    await Promise.all(
      pacers.map(async (pacer) => {
        while (Date.now() < until) {
          const verdict = await pacer.take();
          if (verdict.admitted) admitted.push(Date.now());
          else await sleep(Math.min(verdict.retryInMs, Math.max(1, until - Date.now())));
        }
      }),
    );
    // 2.2 s touches at most 4 one-second windows: 8; any 1 s span at most 2 windows: 4.
    expect(admitted.length).toBeGreaterThanOrEqual(4);
    expect(admitted.length).toBeLessThanOrEqual(8);
    expect(busiest(admitted, 1_000)).toBeLessThanOrEqual(4);
  });

  it("falls back to the replica's own, smaller allowance while Redis is down, counted", async () => {
    const own = await startRedis();
    try {
      const metrics = createMetrics();
      const shared = await connect(own.url, metrics);
      const pacer = new ConnectPacer({ shared, account: 'acct-fallback', points: 5, durationSeconds: 10, fallbackPoints: 1 });
      expect(await pacer.take()).toEqual({ admitted: true, limiter: 'shared' });
      await own.kill();
      await waitFor('Redis down', () => !shared.up);
      expect(await pacer.take()).toEqual({ admitted: true, limiter: 'local' });
      const refused = await pacer.take();
      expect(refused).toMatchObject({ admitted: false, limiter: 'local' });
      expect(refused.admitted === false && refused.retryInMs).toBeGreaterThan(9_000);
      expect(await metric(metrics, 'gateway_redis_errors_total', { use: 'stream_pacing' })).toBeGreaterThanOrEqual(2);
    } finally {
      await own.stop();
    }
  });

  it('paces one process alone without Redis, with the full allowance', async () => {
    const pacer = new ConnectPacer({ account: 'alone', points: 3, durationSeconds: 10 });
    const verdicts = [await pacer.take(), await pacer.take(), await pacer.take(), await pacer.take()];
    expect(verdicts.map((v) => v.admitted)).toEqual([true, true, true, false]);
  });

  it('refuses points or a window that are not whole and positive', () => {
    expect(() => new ConnectPacer({ account: 'x', points: 0 })).toThrow(RangeError);
    expect(() => new ConnectPacer({ account: 'x', durationSeconds: 0.5 })).toThrow(RangeError);
  });
});

describe('three supervisors whose tokens are refused', () => {
  it('make no more new connection attempts together than the shared pacing allows, and say so', async () => {
    const raw = await startRaw(() => ({}));
    const account = `acct${(accounts += 1)}`;
    const refusedToken = (): Answer[] => Array.from({ length: 10_000 }, () => new GatewayError('UPSTREAM_UNAVAILABLE', 'KuCoin refused the token'));
    const runs = await Promise.all(
      [0, 1, 2].map(async () => {
        const bullet = fakeClient(raw.endpoint, () => 'never', { script: refusedToken() });
        const pacing = new ConnectPacer({ shared: await connect(), account, points: 3, durationSeconds: 1 });
        return { bullet, ...supervise(bullet.client, { backoff: { initialMs: 5, maxMs: 20 }, pacing }) };
      }),
    );
    const started = Date.now();
    for (const run of runs) run.supervisor.acquire();
    await sleep(2_200);
    for (const run of runs) await run.supervisor.close();
    const attempts = runs.flatMap((run) => run.bullet.callTimes);
    const stoppedAt = attempts.length;
    // 2.2 s touches at most 4 one-second windows of 3: 12; any 1 s span at most 6. Unpaced, the
    // three made an attempt every ~10 ms each.
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(12);
    expect(busiest(attempts, 1_000)).toBeLessThanOrEqual(6);
    expect(Math.max(...attempts) - started).toBeLessThan(2_300);
    let paced = 0;
    for (const run of runs) paced += await metric(run.metrics, 'gateway_upstream_ws_paced_total', { limiter: 'shared' });
    expect(paced).toBeGreaterThan(0);
    expect(runs.some((run) => run.logs.some((line) => line.event === 'upstream_ws_paced' && typeof line.delayMs === 'number'))).toBe(true);
    // Closed while waiting for the pacing: nothing more is attempted.
    await sleep(1_100);
    expect(runs.flatMap((run) => run.bullet.callTimes)).toHaveLength(stoppedAt);
  });
});
