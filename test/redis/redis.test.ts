import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

const until = async (check: () => boolean, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('SharedRedis against a real redis-server', () => {
  it('prefixes keys, reports up/down, fails fast while down and comes back with its subscriptions', async () => {
    const metrics = createMetrics();
    const shared = new SharedRedis({ url: redis.url, keyPrefix: 'test:', logger: pino({ level: 'silent' }), metrics });
    try {
      expect(shared.key('switch', 'state')).toBe('test:switch:state');
      expect(await shared.ready(3_000)).toBe(true);
      expect((await metrics.registry.getSingleMetric('gateway_redis_up')?.get())?.values[0]?.value).toBe(1);

      const received: string[] = [];
      shared.subscribe(shared.key('chan'), (message) => received.push(message));
      // The subscription is made asynchronously: publish until one arrives.
      await until(() => {
        void shared.client.publish(shared.key('chan'), 'one');
        return received.includes('one');
      });

      await redis.kill();
      await until(() => !shared.up);
      const started = Date.now();
      await expect(shared.client.set(shared.key('k'), 'v')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(600);
      shared.failed('switch', new Error('down'));
      expect((await metrics.registry.getSingleMetric('gateway_redis_errors_total')?.get())?.values).toEqual([
        expect.objectContaining({ value: 1, labels: { use: 'switch' } }),
      ]);

      await redis.restart();
      expect(await shared.ready(5_000)).toBe(true);
      await until(() => {
        void shared.client.publish(shared.key('chan'), 'two').catch(() => undefined);
        return received.includes('two');
      });
      expect(await shared.client.set(shared.key('k'), 'v')).toBe('OK');
      expect(await redis.command('GET', 'test:k')).toBe('v');

      // A command that timed out on a live connection (a silent Redis) makes its use unavailable for
      // a second, so that use's requests fall back at once instead of each waiting out the timeout;
      // the other uses and the connection's status are not affected, nor is anything by other errors.
      shared.failed('budget', new Error('Command timed out'));
      expect(shared.available('budget')).toBe(false);
      expect(shared.available('switch')).toBe(true);
      expect(shared.up).toBe(true);
      shared.failed('fences', new Error('NOSCRIPT No matching script'));
      expect(shared.available('fences')).toBe(true);
      const since = Date.now();
      await until(() => shared.available('budget'), 3_000);
      expect(Date.now() - since).toBeGreaterThanOrEqual(900);
    } finally {
      await shared.close();
    }
  });

  it('closes at once while Redis is down, subscriptions and all (a shutdown must not wait for Redis)', async () => {
    const shared = new SharedRedis({ url: redis.url, keyPrefix: 'close:', logger: pino({ level: 'silent' }), metrics: createMetrics() });
    expect(await shared.ready(3_000)).toBe(true);
    shared.subscribe(shared.key('chan'), () => undefined);
    await redis.kill();
    await until(() => !shared.up);
    const started = Date.now();
    await shared.close();
    expect(Date.now() - started).toBeLessThan(500);
    await redis.restart();
  });
});
