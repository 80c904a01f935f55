/**
 * The inbound limit across replicas: three in-process gateways on one real redis-server, one caller
 * (the loopback address). RATE_LIMIT_MAX is a total across them, HTTP requests and /ws/futures
 * upgrades in one window; with Redis killed each replica limits on its own (no 5xx); with Redis
 * back (empty), the window is shared again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request } from '../support/http-client.js';
import { assertResponseMatchesContract } from '../support/http-contract.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const MAX = 100;
let redis: TestRedis;
let replicas: RunningGateway[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const env = { FEATURE_FUTURES: 'true', REDIS_URL: redis.url, RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: '60000' };
  replicas = await Promise.all([startGateway(env), startGateway(env), startGateway(env)]);
  await allUp(true);
}, 30_000);
afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await redis?.stop();
});

async function allUp(up: boolean): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const values = await Promise.all(replicas.map(async (r) => (await r.gateway.metrics.redisUp.get()).values[0]?.value));
    if (values.every((value) => value === (up ? 1 : 0))) return;
    if (Date.now() > end) throw new Error(`redis_up never became ${up ? 1 : 0} on every replica: ${values.join(',')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An unknown route: the cheapest answer that still passes through the limiter (404, or 429). */
const hit = async (replica: RunningGateway): Promise<number> => (await request(replica.baseUrl, 'GET', '/api/no-such-route')).status;

/** Opens /ws/futures: 101 when accepted (closed at once), else the refusal's status, checked against the contract. */
function upgrade(replica: RunningGateway): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${replica.wsUrl}/ws/futures`);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        try {
          assertResponseMatchesContract({ method: 'GET', path: '/ws/futures', status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body });
          resolve(res.statusCode ?? 0);
        } catch (error) {
          reject(error);
        }
        ws.terminate();
      });
    });
    ws.on('open', () => {
      ws.once('close', () => resolve(101));
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

const inboundErrors = async (replica: RunningGateway) =>
  (await replica.gateway.metrics.redisErrors.get()).values.find((v) => v.labels.use === 'inbound_limit')?.value ?? 0;

describe('the inbound limit across three replicas on one Redis', () => {
  it(`admits ${MAX} per window in total, HTTP and upgrades together`, async () => {
    const statuses: number[] = [];
    // 90 requests and 10 upgrades, round robin: the whole budget.
    for (let i = 0; i < 90; i += 1) statuses.push(await hit(replicas[i % 3]!));
    for (let i = 0; i < 10; i += 1) statuses.push(await upgrade(replicas[i % 3]!));
    expect(tally(statuses)).toEqual({ 404: 90, 101: 10 });
    // Spent: every replica refuses, over HTTP and on upgrades.
    for (const replica of replicas) {
      expect(await hit(replica)).toBe(429);
      expect(await upgrade(replica)).toBe(429);
    }
    // 200 more across the three, as a client behind a balancer would send them: all refused.
    const more: number[] = [];
    for (let i = 0; i < 200; i += 1) more.push(await hit(replicas[i % 3]!));
    expect(tally(more)).toEqual({ 429: 200 });
  }, 30_000);

  it('limits per replica while Redis is down, with no 5xx, and shares the window again once Redis is back', async () => {
    await redis.kill();
    const down: number[][] = [];
    for (const replica of replicas) {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push(await upgrade(replica));
      for (let i = 0; i < MAX; i += 1) statuses.push(await hit(replica));
      statuses.push(await upgrade(replica));
      down.push(statuses);
    }
    // Each replica's own memory window, upgrades and requests together: MAX admitted, then refused, nothing else.
    for (const statuses of down) {
      expect(tally(statuses)).toEqual({ 101: 5, 404: MAX - 5, 429: 6 });
      expect(statuses.indexOf(429)).toBe(MAX);
    }
    for (const replica of replicas) expect(await inboundErrors(replica)).toBeGreaterThan(0);

    await redis.restart();
    await allUp(true);
    const back: number[] = [];
    for (let i = 0; i < MAX; i += 1) back.push(await hit(replicas[i % 3]!));
    expect(tally(back)).toEqual({ 404: MAX });
    for (const replica of replicas) expect(await hit(replica)).toBe(429);
    expect(Number(await redis.command('GET', 'kfg:inbound:ip:127.0.0.1'))).toBe(MAX + 3);
  }, 30_000);
});
