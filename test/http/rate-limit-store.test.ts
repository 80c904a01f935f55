/**
 * The inbound limit's store: the same cases against this process's MemoryStore and against the
 * shared one (src/http/inbound-store.ts) on a real redis-server, then what the shared one does when
 * Redis goes away, comes back empty, or is not there at start.
 */
import { MemoryStore, type Options, type Store } from 'express-rate-limit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedInboundStore } from '../../src/http/inbound-store.js';
import { LocalWindows } from '../../src/http/local-windows.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
const opened: SharedRedis[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((shared) => shared.close()));
  await redis.stop();
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function sharedRedis(prefix: string, metrics: Metrics = createMetrics()): SharedRedis {
  const shared = new SharedRedis({ url: redis.url, keyPrefix: prefix, logger: pino({ level: 'silent' }), metrics });
  opened.push(shared);
  return shared;
}

const inboundErrors = async (metrics: Metrics) =>
  (await metrics.registry.getSingleMetric('gateway_redis_errors_total')?.get())?.values.find((v) => v.labels.use === 'inbound_limit')?.value ?? 0;

let stores = 0;
const implementations: [string, (windowMs: number) => Promise<Store>][] = [
  [
    'memory',
    async (windowMs) => {
      const store = new MemoryStore();
      store.init({ windowMs } as Options);
      return store;
    },
  ],
  ['local (synchronous)', async (windowMs) => new LocalWindows(windowMs)],
  [
    'redis',
    async (windowMs) => {
      const shared = sharedRedis(`t${++stores}:`);
      expect(await shared.ready(3_000)).toBe(true);
      const store = new SharedInboundStore(shared);
      store.init({ windowMs } as Options);
      return store;
    },
  ],
];

describe.each(implementations)('the inbound window store (%s)', (_name, make) => {
  it('counts each key on its own, with the reset time a window ahead', async () => {
    const store = await make(60_000);
    const before = Date.now();
    const first = await store.increment('ip:1');
    expect(first.totalHits).toBe(1);
    expect(first.resetTime!.getTime()).toBeGreaterThanOrEqual(before + 59_000);
    expect(first.resetTime!.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    expect((await store.increment('ip:1')).totalHits).toBe(2);
    expect((await store.increment('ip:1')).totalHits).toBe(3);
    expect((await store.increment('key:other')).totalHits).toBe(1);
    expect((await store.get!('ip:1'))?.totalHits).toBe(3);
  });

  it('decrements and resets one key without touching another', async () => {
    const store = await make(60_000);
    await store.increment('a');
    await store.increment('a');
    await store.increment('b');
    await store.decrement('a');
    expect((await store.increment('a')).totalHits).toBe(2);
    await store.resetKey('a');
    expect((await store.increment('a')).totalHits).toBe(1);
    expect((await store.increment('b')).totalHits).toBe(2);
  });

  it('starts a new window once the old one has passed', async () => {
    const store = await make(200);
    await store.increment('w');
    expect((await store.increment('w')).totalHits).toBe(2);
    await until(async () => (await store.increment('w')).totalHits === 1, 3_000);
  });
});

describe('the synchronous local windows (no REDIS_URL)', () => {
  it('counts in the same tick, as MemoryStore would over its await', () => {
    const local = new LocalWindows(60_000);
    expect(local.hit('k').totalHits).toBe(1);
    expect(local.hit('k').totalHits).toBe(2);
    expect(local.hit('other').totalHits).toBe(1);
  });

  it('drops the keys not seen for a whole window, so a flood of new callers does not stay in memory', async () => {
    const local = new LocalWindows(100);
    for (let i = 0; i < 1_000; i++) local.hit(`ip:${i}`);
    expect(local.size).toBe(1_000);
    await new Promise((resolve) => setTimeout(resolve, 120));
    local.hit('ip:0'); // rotates: the first window's keys become the previous generation, ip:0 moves on
    expect(local.size).toBe(1_000);
    await new Promise((resolve) => setTimeout(resolve, 120));
    local.hit('ip:0'); // rotates again: the 999 idle keys are dropped
    expect(local.size).toBe(1);
    expect((await local.get('ip:0'))?.totalHits).toBe(1);
  });
});

describe('the shared inbound store when Redis goes away', () => {
  it('falls back to memory while Redis is down (counted), and shares again after a restart that emptied it', async () => {
    const metrics = createMetrics();
    const shared = sharedRedis('fb:', metrics);
    expect(await shared.ready(3_000)).toBe(true);
    const store = new SharedInboundStore(shared);
    store.init({ windowMs: 60_000 } as Options);

    expect((await store.increment('c')).totalHits).toBe(1);
    expect((await store.increment('c')).totalHits).toBe(2);
    expect(await redis.command('GET', 'fb:inbound:c')).toBe('2');

    await redis.kill();
    // Commands fail at once whether or not the connection has noticed yet: memory answers.
    expect((await store.increment('c')).totalHits).toBe(1);
    expect((await store.increment('c')).totalHits).toBe(2);
    await until(() => !shared.up);
    expect((await store.increment('c')).totalHits).toBe(3);
    expect(await inboundErrors(metrics)).toBeGreaterThanOrEqual(3);

    // Restarted empty: the scripts are gone (NOSCRIPT) and so are the counts.
    await redis.restart();
    expect(await shared.ready(5_000)).toBe(true);
    const errors = await inboundErrors(metrics);
    expect((await store.increment('c')).totalHits).toBe(1);
    expect((await store.increment('c')).totalHits).toBe(2);
    expect(await redis.command('GET', 'fb:inbound:c')).toBe('2');
    expect(await inboundErrors(metrics)).toBe(errors);
  });

  it('recovers when Redis restarted empty before any failure was seen (rate-limit-redis reloads on NOSCRIPT)', async () => {
    const shared = sharedRedis('ns:');
    expect(await shared.ready(3_000)).toBe(true);
    const store = new SharedInboundStore(shared);
    store.init({ windowMs: 60_000 } as Options);
    expect((await store.increment('n')).totalHits).toBe(1);
    // SCRIPT FLUSH is what an empty restart looks like to a connection that never dropped.
    expect(await redis.command('SCRIPT', 'FLUSH')).toBe('+OK');
    expect((await store.increment('n')).totalHits).toBe(2);
    expect(await redis.command('GET', 'ns:inbound:n')).toBe('2');
  });

  it('asks a Redis that stopped answering (connected, silent) once a second, not on every request', async () => {
    const metrics = createMetrics();
    const shared = sharedRedis('slow:', metrics);
    expect(await shared.ready(3_000)).toBe(true);
    const store = new SharedInboundStore(shared);
    store.init({ windowMs: 60_000 } as Options);
    expect((await store.increment('s')).totalHits).toBe(1);
    process.kill(redis.pid!, 'SIGSTOP');
    try {
      const started = Date.now();
      const hits: number[] = [];
      for (let i = 0; i < 20; i++) hits.push((await store.increment('s')).totalHits);
      // The first waits out the 500 ms command timeout; the rest count in memory at once.
      expect(hits).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(Date.now() - started).toBeLessThan(900);
      expect(await inboundErrors(metrics)).toBe(20);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    // Answering again: back on Redis within about a second.
    await until(async () => {
      await store.increment('s');
      return Number(await redis.command('GET', 'slow:inbound:s')) > 2;
    });
  });

  it('uses Redis once it comes up when it was unreachable at start', async () => {
    await redis.kill();
    const metrics = createMetrics();
    const shared = sharedRedis('late:', metrics);
    const store = new SharedInboundStore(shared);
    store.init({ windowMs: 60_000 } as Options);
    expect((await store.increment('l')).totalHits).toBe(1);
    expect(await inboundErrors(metrics)).toBe(1);
    await redis.restart();
    expect(await shared.ready(5_000)).toBe(true);
    expect((await store.increment('l')).totalHits).toBe(1);
    expect((await store.increment('l')).totalHits).toBe(2);
    expect(await redis.command('GET', 'late:inbound:l')).toBe('2');
  });
});
