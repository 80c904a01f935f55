import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request } from '../support/http-client.js';
import { assertServerMessage } from '../support/ws-contract.js';
import { startGateway, TEST_ADMIN_KEY, type RunningGateway } from '../support/gateway.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

let prefixes = 0;
/** Gateways of one test share REDIS_URL and a key prefix of their own, as replicas of one deployment. */
function replicas() {
  const env = { FEATURE_FUTURES: 'true', ADMIN_API_KEYS: TEST_ADMIN_KEY, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `rep${++prefixes}:` };
  return async (extra: Record<string, string> = {}) => {
    const gateway = await startGateway({ ...env, ...extra });
    running.push(gateway);
    return gateway;
  };
}

const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
const flip = (g: RunningGateway, enabled: boolean, reason: string) => request(g.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled, reason } });
const positions = async (g: RunningGateway) => (await request(g.baseUrl, 'GET', '/api/futures/positions')).status;
const metric = async (g: RunningGateway, name: string) => {
  const text = (await request(g.baseUrl, 'GET', '/metrics')).text;
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
};

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A /ws/futures client: resolves `greeted` on the first server message, `closed` with the close code and when it came. */
function socket(g: RunningGateway) {
  const ws = new WebSocket(`${g.wsUrl}/ws/futures`);
  const greeted = new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('error', reject);
  });
  ws.on('message', (data) => assertServerMessage(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; at: number }>((resolve) => ws.on('close', (code) => resolve({ code, at: performance.now() })));
  return { greeted, closed };
}

describe('the kill switch shared by replicas on one Redis', () => {
  it('a flip on A takes B\'s futures routes to 404 and closes B\'s sockets with 4404 within 100 ms', async () => {
    const start = replicas();
    const [a, b] = [await start(), await start()];
    expect(await positions(b)).toBe(401); // on: reaches the credentials check
    const clients = [socket(b), socket(b)];
    await Promise.all(clients.map((c) => c.greeted));
    // B subscribes to the flips asynchronously at start: an on flip shows it hears them.
    expect((await flip(a, true, 'warm-up')).status).toBe(200);
    await until(async () => (await request(b.baseUrl, 'GET', '/api/health')).body.data.futures.reason === 'warm-up');

    // When B applied the flip: its own listener (registered first, in createGateway) has by then
    // sent the 4404 close frames and every later request of B answers 404.
    let appliedOnB = Number.NaN;
    b.gateway.futuresSwitch.onChange((state) => {
      if (!state.enabled) appliedOnB = performance.now();
    });
    const sent = performance.now();
    const off = await flip(a, false, 'rollback from A');
    expect(off.status).toBe(200);
    expect(off.body.data).toMatchObject({ enabled: false, runtime: false, reason: 'rollback from A' });
    const closes = await Promise.all(clients.map((c) => c.closed));
    expect(appliedOnB - sent).toBeLessThan(100);
    for (const close of closes) {
      expect(close.code).toBe(4404);
      // As the client sees it, after the close handshake; the same process runs A, B and the
      // clients, so a loaded machine adds its scheduling delays here.
      expect(close.at - sent).toBeLessThan(250);
    }
    expect(await positions(b)).toBe(404);

    const bState = await request(b.baseUrl, 'GET', '/api/admin/futures-switch', { headers: admin });
    expect(bState.body.data).toMatchObject({ enabled: false, runtime: false, changedBy: off.body.data.changedBy, reason: 'rollback from A', closedSockets: 2 });
    expect(await metric(b, 'gateway_futures_switch_changes_heard_total')).toBe(2);
    expect(await metric(b, 'gateway_futures_switch_enabled')).toBe(0);
    expect(await metric(b, 'gateway_ws_closed_total')).toBe(2);

    // Every replica's flips in one history, newest first.
    const history = await request(b.baseUrl, 'GET', '/api/admin/futures-switch/history', { headers: admin });
    expect(history.body.data.map((f: { reason: string }) => f.reason)).toEqual(['rollback from A', 'warm-up']);

    // A new replica (or a restart) on the same Redis starts with the flipped state.
    const c = await start();
    expect(await positions(c)).toBe(404);
    expect((await request(c.baseUrl, 'GET', '/api/health')).body.data).toMatchObject({
      status: 'ok',
      redis: 'up',
      futures: { enabled: false, environment: true, runtime: false, reason: 'rollback from A' },
    });

    // And back on from B, everywhere.
    expect((await flip(b, true, 'recovered')).status).toBe(200);
    await until(async () => (await positions(a)) === 401 && (await positions(c)) === 401, 1_000);
  });

  it('Redis down: running replicas keep their state, a flip is 503 and changes nothing, health is degraded, errors are counted; a replica started meanwhile is off; back up, flips work again', async () => {
    const start = replicas();
    const a = await start();
    expect((await flip(a, true, 'known state')).status).toBe(200);

    await redis.kill();
    try {
      await until(async () => (await request(a.baseUrl, 'GET', '/api/health')).body.data.status === 'degraded');
      expect(await positions(a)).toBe(401); // still on, as last known

      const refused = await flip(a, false, 'while Redis is down');
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('SHARED_STATE_UNAVAILABLE');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await positions(a)).toBe(401); // nothing changed
      const history = await request(a.baseUrl, 'GET', '/api/admin/futures-switch/history', { headers: admin });
      expect(history.status).toBe(503);
      const health = await request(a.baseUrl, 'GET', '/api/health');
      expect(health.status).toBe(200);
      expect(health.body.data).toMatchObject({ status: 'degraded', redis: 'down', futures: { enabled: true, runtime: true, reason: 'known state' } });
      expect(await metric(a, 'gateway_redis_errors_total')).toBeGreaterThan(0);
      expect(await metric(a, 'gateway_redis_up')).toBe(0);

      // A replica that starts without Redis does not know the runtime switch: off.
      const late = await start();
      expect(await positions(late)).toBe(404);
      expect((await request(late.baseUrl, 'GET', '/api/health')).body.data).toMatchObject({ status: 'degraded', futures: { enabled: false, environment: true, runtime: null } });
      expect(await metric(late, 'gateway_futures_switch_runtime')).toBe(-1);
    } finally {
      await redis.restart();
    }

    // Redis back (empty: A writes its flip back); the late replica adopts it (its first read may come
    // before A's write, and finds "never flipped": the re-read a second later brings A's); flips work again.
    const late = running[1]!;
    await until(async () => (await request(late.baseUrl, 'GET', '/api/health')).body.data.futures.reason === 'known state');
    expect((await request(late.baseUrl, 'GET', '/api/health')).body.data).toMatchObject({ status: 'ok', futures: { enabled: true, runtime: true, reason: 'known state' } });
    expect(await positions(late)).toBe(401);
    const off = await flip(late, false, 'after the outage');
    expect(off.status).toBe(200);
    await until(async () => (await positions(a)) === 404, 1_000);
  });
});
