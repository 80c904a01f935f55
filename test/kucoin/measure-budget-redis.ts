/**
 * What one reserve + settle costs in the shared budget (Redis on loopback) against the in-process
 * one. Not a test: run `npx tsx test/kucoin/measure-budget-redis.ts` (needs redis-server on PATH).
 * Sequential pairs give the latency a call adds; 32 callers at once give the throughput.
 */
import { pino } from 'pino';
import { RateBudget } from '../../src/kucoin/rate-budget.js';
import { RedisRateBudget } from '../../src/kucoin/rate-budget-redis.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';
import { startRedis } from '../support/redis.js';

const PAIRS = 5_000;
const CONCURRENCY = 32;
const HUGE = 1_000_000_000; // never refuses: the cost of the checks, not of refusals

const redis = await startRedis();
const shared = new SharedRedis({ url: redis.url, keyPrefix: 'measure:', logger: pino({ level: 'silent' }), metrics: createMetrics() });
await shared.ready(5_000);
try {
  const store = new RedisRateBudget({ client: shared.client, key: (...parts) => shared.key(...parts), account: 'acct', limits: { futures: HUGE, public: HUGE } });
  const local = new RateBudget({ limits: { futures: HUGE, public: HUGE } });
  const pair = async (i: number) => {
    const r = await store.reserve('futures', 2, 'measure', { caller: `ip:${i % 50}`, spend: i % 5 === 0 ? 'write' : 'read' });
    await r.settle({ remaining: HUGE - 10, resetMs: 30_000 });
  };
  for (let i = 0; i < 500; i++) await pair(i); // warm-up: scripts loaded, JIT
  const samples: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const t = process.hrtime.bigint();
    await pair(i);
    samples.push(Number(process.hrtime.bigint() - t) / 1_000);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(0);
  console.log(`Redis reserve+settle, sequential, ${PAIRS} pairs: p50 ${at(0.5)} µs, p90 ${at(0.9)} µs, p99 ${at(0.99)} µs`);

  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next < PAIRS) await pair(next++); }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`Redis reserve+settle, ${CONCURRENCY} at once: ${(PAIRS / seconds).toFixed(0)} pairs/s`);

  const t = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) local.reserve('futures', 2, 'measure', { caller: `ip:${i % 50}`, spend: i % 5 === 0 ? 'write' : 'read' }).settle({ remaining: HUGE - 10, resetMs: 30_000 });
  console.log(`in-process reserve+settle: ${(Number(process.hrtime.bigint() - t) / 1_000 / PAIRS).toFixed(2)} µs a pair`);
} finally {
  await shared.close();
  await redis.stop();
}
