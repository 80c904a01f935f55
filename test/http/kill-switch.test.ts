import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { listOperations } from '../support/http-contract.js';
import { futuresOperationIds, sampleRequests } from '../support/samples.js';
import { startGateway, startGatewayWith, testConfig, TEST_ADMIN_KEY, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';

let running: RunningGateway | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** The parts of a 404 that legitimately differ between two requests. */
function comparable(body: Record<string, unknown>, path: string) {
  const { requestId, timestamp, detail, instance, ...rest } = body;
  expect(typeof requestId).toBe('string');
  expect(typeof timestamp).toBe('number');
  return { ...rest, detail: String(detail).replace(path, '<path>'), instance: String(instance).replace(path, '<path>') };
}

const credentialOps = new Set(
  listOperations()
    .filter((op) => op.pathTemplate.startsWith('/api/futures'))
    .map((op) => op.operationId)
    .filter((id) => !['getFundingRate', 'listContracts', 'getContract'].includes(id)),
);

describe('kill switch off (FEATURE_FUTURES=false)', () => {
  it('the sample table covers every operation in the contract', () => {
    expect(Object.keys(sampleRequests).sort()).toEqual(listOperations().map((op) => op.operationId).sort());
  });

  it.each(futuresOperationIds)('%s answers exactly what an unknown route answers', async (operationId) => {
    running = await startGateway({ FEATURE_FUTURES: 'false' });
    const sample = sampleRequests[operationId]!;
    const disabled = await request(running.baseUrl, sample.method, sample.path, sample.json ? { json: sample.json } : {});
    const unknownPath = sample.path.replace('/api/futures', '/api/futurez');
    const unknown = await request(running.baseUrl, sample.method, unknownPath, sample.json ? { json: sample.json } : {});

    expect(disabled.status).toBe(404);
    expect(unknown.status).toBe(404);
    const bare = (p: string) => p.split('?')[0]!;
    expect(comparable(disabled.body, bare(sample.path))).toEqual(comparable(unknown.body, bare(unknownPath)));
    const headerNames = (h: Headers) => [...h.keys()].filter((k) => k !== 'date').sort();
    expect(headerNames(disabled.headers)).toEqual(headerNames(unknown.headers));
    expect(disabled.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
  });

  it('answers 404, not 405 or 401, for a wrong method or a missing key on a futures path', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'false' });
    const wrongMethod = await request(running.baseUrl, 'PATCH', '/api/futures/positions');
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body.code).toBe('NOT_FOUND');
    const badBody = await request(running.baseUrl, 'POST', '/api/futures/orders', { body: '{not json', headers: { 'content-type': 'application/json' } });
    expect(badBody.status).toBe(404);
  });

  it('keeps /api/health at 200 and reports the switch off', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'false' });
    const health = await request(running.baseUrl, 'GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body.data.futures.enabled).toBe(false);
  });
});

describe('kill switch on (FEATURE_FUTURES=true)', () => {
  it.each(futuresOperationIds)('%s without KuCoin credentials: 401 CREDENTIALS_MISSING when it needs them', async (operationId) => {
    running = await startGateway({ FEATURE_FUTURES: 'true', FUTURES_BASE_URL: 'http://127.0.0.1:9' });
    const sample = sampleRequests[operationId]!;
    const res = await request(running.baseUrl, sample.method, sample.path, sample.json ? { json: sample.json } : {});
    if (credentialOps.has(operationId)) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('CREDENTIALS_MISSING');
    } else {
      // Public KuCoin endpoints need no credentials: these get as far as KuCoin, unreachable here.
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('UPSTREAM_UNAVAILABLE');
    }
  });

  it.each(futuresOperationIds)('%s with credentials but KuCoin unreachable: a typed 503, never a 500', async (operationId) => {
    // Port 9 (discard) on loopback: nothing listens, so every call is refused at once.
    running = await startGateway({ FEATURE_FUTURES: 'true', FUTURES_BASE_URL: 'http://127.0.0.1:9', ...TEST_CREDENTIALS });
    const sample = sampleRequests[operationId]!;
    const res = await request(running.baseUrl, sample.method, sample.path, sample.json ? { json: sample.json } : {});
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', success: false, status: 503 });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('validates before checking credentials: the playbook invalid order (qty 0) is 400 naming qty', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const res = await request(running.baseUrl, 'POST', '/api/futures/orders', {
      json: { symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty: 0 },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors).toContainEqual({ location: 'body', field: 'qty', message: 'must be > 0' });
    expect(res.body.detail).toContain('qty');
  });
});

describe('run-time flip by the admin operation', () => {
  const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

  it('takes effect on the next request, both ways, and is logged and counted', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const { baseUrl } = running;
    expect((await request(baseUrl, 'GET', '/api/futures/positions')).status).toBe(401);

    const off = await request(baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: false, reason: 'rollback' } });
    expect(off.status).toBe(200);
    expect(off.body.data).toMatchObject({ enabled: false, environment: true, runtime: false, previous: true, reason: 'rollback', closedSockets: 0 });
    expect(off.body.data.changedBy).toMatch(/^admin:[0-9a-f]{8}$/);
    expect(off.body.data.replica).toBe(`${hostname()}:${process.pid}`);
    expect((await request(baseUrl, 'GET', '/api/futures/positions')).status).toBe(404);

    const read = await request(baseUrl, 'GET', '/api/admin/futures-switch', { headers: admin });
    expect(read.body.data).toMatchObject({ enabled: false, runtime: false });
    expect((await request(baseUrl, 'GET', '/api/health')).body.data).toMatchObject({
      status: 'ok',
      redis: 'unused',
      futures: { enabled: false, environment: true, runtime: false, changedBy: off.body.data.changedBy, reason: 'rollback' },
    });

    const on = await request(baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: true, reason: 'phase 4' } });
    expect(on.body.data).toMatchObject({ enabled: true, runtime: true, previous: false });
    expect((await request(baseUrl, 'GET', '/api/futures/positions')).status).toBe(401);

    const history = await request(baseUrl, 'GET', '/api/admin/futures-switch/history', { headers: admin });
    expect(history.status).toBe(200);
    expect(history.body.data.map((f: { enabled: boolean; reason: string }) => [f.enabled, f.reason])).toEqual([[true, 'phase 4'], [false, 'rollback']]);

    const metrics = await request(baseUrl, 'GET', '/metrics');
    expect(metrics.text).toMatch(/^gateway_futures_switch_enabled 1$/m);
    expect(metrics.text).toMatch(/^gateway_futures_switch_runtime 1$/m);
    expect(metrics.text).toMatch(/^gateway_futures_switch_environment 1$/m);
    expect(metrics.text).toMatch(/^gateway_futures_switch_flips_total\{to="on"\} 1$/m);
    expect(metrics.text).toMatch(/^gateway_futures_switch_flips_total\{to="off"\} 1$/m);

    const flips = running.logLines().map((l) => JSON.parse(l)).filter((l) => l.event === 'futures_switch_flip');
    expect(flips).toHaveLength(2);
    expect(flips[0]).toMatchObject({ from: true, to: false, reason: 'rollback', by: off.body.data.changedBy });
    expect(typeof flips[0].time).toBe('string');
  });

  it('FEATURE_FUTURES=false holds futures off: turning the runtime switch on is 409 FUTURES_OFF_BY_ENVIRONMENT, off is recorded', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'false', ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const { baseUrl } = running;
    const on = await request(baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: true, reason: 'override' } });
    expect(on.status).toBe(409);
    expect(on.body.code).toBe('FUTURES_OFF_BY_ENVIRONMENT');
    expect(on.body.detail).toContain('FEATURE_FUTURES=false');
    expect(running.gateway.futuresSwitch.state()).toMatchObject({ enabled: false, environment: false, runtime: true, changedAt: null });
    expect((await request(baseUrl, 'GET', '/api/futures/positions')).status).toBe(404);

    const off = await request(baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: false, reason: 'rollback' } });
    expect(off.status).toBe(200);
    expect(off.body.data).toMatchObject({ enabled: false, environment: false, runtime: false });
  });

  it('without Redis the runtime switch is kept in STATE_DIR/switch.json: a restart with the same STATE_DIR keeps it off', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'switch-state-'));
    try {
      const env = { FEATURE_FUTURES: 'true', ADMIN_API_KEYS: TEST_ADMIN_KEY, STATE_DIR: stateDir };
      running = await startGateway(env);
      const off = await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: false, reason: 'incident 42' } });
      expect(off.status).toBe(200);
      await running.stop();

      running = await startGateway(env);
      expect((await request(running.baseUrl, 'GET', '/api/futures/positions')).status).toBe(404);
      const health = await request(running.baseUrl, 'GET', '/api/health');
      expect(health.body.data.futures).toMatchObject({ enabled: false, environment: true, runtime: false, reason: 'incident 42', changedBy: off.body.data.changedBy, changedAt: off.body.data.changedAt });
      expect(JSON.parse(readFileSync(join(stateDir, 'switch.json'), 'utf8')).state).toMatchObject({ enabled: false, reason: 'incident 42' });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses without a key (401), with a wrong key (401), and with no admin keys configured (403)', async () => {
    running = await startGateway({ ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const none = await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', { json: { enabled: true } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await request(running.baseUrl, 'GET', '/api/admin/futures-switch', { headers: { authorization: 'Bearer wrong-key-000000000000000' } });
    expect(wrong.status).toBe(401);
    expect(running.gateway.futuresSwitch.enabled).toBe(false);
    await running.stop();

    running = await startGateway({});
    const disabled = await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: true } });
    expect(disabled.status).toBe(403);
    expect(disabled.body.code).toBe('FORBIDDEN');
  });

  it('rejects an invalid change body with 400 naming the field', async () => {
    running = await startGateway({ ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const res = await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: 'yes' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual(expect.objectContaining({ location: 'body', field: 'enabled' }));
  });

  it('refuses to turn futures on while configured beyond loopback without gateway keys (409 UNSAFE_EXPOSURE)', async () => {
    // Configured for 0.0.0.0 but, as every test, actually listening on 127.0.0.1.
    running = await startGatewayWith(testConfig({ HOST: '0.0.0.0', FEATURE_FUTURES: 'false', ADMIN_API_KEYS: TEST_ADMIN_KEY }));
    const res = await request(running.baseUrl, 'PUT', '/api/admin/futures-switch', { headers: admin, json: { enabled: true } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('UNSAFE_EXPOSURE');
    expect(running.gateway.futuresSwitch.enabled).toBe(false);
  });
});
