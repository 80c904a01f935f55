/**
 * REDIS_URL may carry a password. It must reach no log line, error, metric or response: not while
 * Redis answers, not when it goes away, not when the password is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const PASSWORD = 'redis-pass-7f3c9a1e5b';
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
});
afterAll(() => redis.stop());

const until = async (check: () => boolean, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('a REDIS_URL password is never shown', () => {
  it('in logs, health and metrics, with Redis up, down, and with a wrong password', async () => {
    const wrong = redis.url.replace(encodeURIComponent(PASSWORD), 'wrong-pass-0a1b2c3d4e');
    const gateways: RunningGateway[] = [];
    try {
      const good = await startGateway({ REDIS_URL: redis.url });
      gateways.push(good);
      const bad = await startGateway({ REDIS_URL: wrong });
      gateways.push(bad);

      const health = await request(good.baseUrl, 'GET', '/api/health');
      // Connecting takes a moment: poll until the gauge says up.
      let metrics = await request(good.baseUrl, 'GET', '/metrics');
      for (let i = 0; i < 100 && !/^gateway_redis_up 1$/m.test(metrics.text); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        metrics = await request(good.baseUrl, 'GET', '/metrics');
      }
      expect(metrics.text).toMatch(/^gateway_redis_up 1$/m);
      await until(() => bad.logLines().some((line) => line.includes('redis_unreachable')));
      const badMetrics = await request(bad.baseUrl, 'GET', '/metrics');
      expect(badMetrics.text).toMatch(/^gateway_redis_up 0$/m);

      await redis.kill();
      await until(() => good.logLines().some((line) => line.includes('redis_unreachable')));
      const downMetrics = await request(good.baseUrl, 'GET', '/metrics');
      expect(downMetrics.text).toMatch(/^gateway_redis_up 0$/m);
      await redis.restart();
      await until(() => good.logLines().some((line) => line.includes('redis_reachable')));

      const everything = [health.text, metrics.text, badMetrics.text, downMetrics.text, ...good.logLines(), ...bad.logLines()].join('\n');
      expect(everything).not.toContain(PASSWORD);
      expect(everything).not.toContain('wrong-pass-0a1b2c3d4e');
    } finally {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
    }
  });
});
