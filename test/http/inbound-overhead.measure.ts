/**
 * What the shared Redis adds to a request (not a test; run by hand):
 *
 *   npx tsx test/http/inbound-overhead.measure.ts
 *
 * Two in-process gateways, one with its inbound limit in memory, one on a real redis-server on
 * loopback (REDIS_URL); the same sequential requests to each (an unknown route: the limiter and the
 * cheapest answer), interleaved in rounds so both see the same machine load. Then the fence read a
 * list read served from the cache makes (ZRANGEBYSCORE), alone. First, what RATE_LIMIT_MAX=100
 * admits across three replicas behind a round-robin balancer, without and with REDIS_URL.
 */
import pino from 'pino';
import { startGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';

const ROUNDS = 10;
const PER_ROUND = 500;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((x, y) => x - y);
  const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
  return `mean ${(mean * 1000).toFixed(0)} µs, p50 ${(percentile(sorted, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(sorted, 99) * 1000).toFixed(0)} µs (n=${samples.length})`;
};

async function timed(times: number, run: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return samples;
}

const redis = await startRedis();

for (const withRedis of [false, true]) {
  const replicaEnv = { RATE_LIMIT_MAX: '100', RATE_LIMIT_WINDOW_MS: '60000', LOG_LEVEL: 'warn', ...(withRedis ? { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'replicas:' } : {}) };
  const replicas = await Promise.all([startGateway(replicaEnv), startGateway(replicaEnv), startGateway(replicaEnv)]);
  try {
    for (const replica of replicas) while (withRedis && (await replica.gateway.metrics.redisUp.get()).values[0]?.value !== 1) await new Promise((resolve) => setTimeout(resolve, 10));
    let admitted = 0;
    for (let i = 0; i < 450; i++) if ((await fetch(`${replicas[i % 3]!.baseUrl}/api/no-such-route`)).status === 404) admitted += 1;
    console.log(`RATE_LIMIT_MAX=100, 3 replicas, ${withRedis ? 'REDIS_URL set' : 'no REDIS_URL'}: ${admitted} of 450 requests admitted in one window`);
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
}
const env = { RATE_LIMIT_MAX: '100000000', RATE_LIMIT_WINDOW_MS: '60000', LOG_LEVEL: 'warn' };
const memory = await startGateway(env);
const shared = await startGateway({ ...env, REDIS_URL: redis.url });
const hit = (baseUrl: string) => async () => {
  const res = await fetch(`${baseUrl}/api/no-such-route`);
  await res.arrayBuffer();
  if (res.status !== 404) throw new Error(`unexpected ${res.status}`);
};
try {
  while ((await shared.gateway.metrics.redisUp.get()).values[0]?.value !== 1) await new Promise((resolve) => setTimeout(resolve, 10));
  await timed(300, hit(memory.baseUrl));
  await timed(300, hit(shared.baseUrl));
  const inMemory: number[] = [];
  const onRedis: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    inMemory.push(...(await timed(PER_ROUND, hit(memory.baseUrl))));
    onRedis.push(...(await timed(PER_ROUND, hit(shared.baseUrl))));
  }
  console.log(`inbound limit in memory: ${summary(inMemory)}`);
  console.log(`inbound limit on Redis:  ${summary(onRedis)}`);

  const client = new SharedRedis({ url: redis.url, keyPrefix: 'measure:', logger: pino({ level: 'silent' }), metrics: createMetrics() });
  await client.ready(3_000);
  const key = client.key('fences', 'account');
  const read = () => client.client.zrangebyscore(key, Date.now(), '+inf');
  await timed(300, read);
  console.log(`fence read, no write kept:   ${summary(await timed(5_000, read))}`);
  for (let i = 0; i < 10; i++) await client.client.zadd(key, Date.now() + 60_000, JSON.stringify({ r: 'other', n: i, until: Date.now() + 3_000, write: { kind: 'order', orderId: `9000000000000000${i}`, symbol: 'XBTUSDTM', type: 'LIMIT' } }));
  console.log(`fence read, 10 writes kept:  ${summary(await timed(5_000, read))}`);
  await client.close();
} finally {
  await memory.stop();
  await shared.stop();
  await redis.stop();
}
