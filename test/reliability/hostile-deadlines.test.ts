/**
 * One deadline per client request (UPSTREAM_DEADLINE_MS) against a KuCoin that hangs, breakers per
 * endpoint group, and a shutdown that waits for orders already sent.
 *
 * Settings: UPSTREAM_TIMEOUT_MS=600 and UPSTREAM_DEADLINE_MS=1000, so that the old behaviour (each
 * step its own 3 × 600 ms) is well past the bound asserted here, deadline + 500 ms: a correctness
 * bound (the answer comes by the deadline), with slack for a loaded machine, not a speed target.
 */
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';
import { logEntries, simulator, startGatewayProcess, stopGatewayProcesses } from '../support/process.js';
import { simControlAt } from '../support/sim-control.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';

const TIMEOUT_MS = 600;
const DEADLINE_MS = 1_000;
const BOUND_MS = DEADLINE_MS + 500;
const ORDER = { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000, marginMode: 'isolated' } as const;

const kucoin = mockKucoin();
let running: RunningGateway | undefined;
beforeAll(() => kucoin.listen());
afterEach(async () => {
  await running?.stop();
  running = undefined;
  kucoin.reset();
});
afterAll(() => kucoin.close());

const hang = () => new Promise<never>(() => {});

async function gateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  running = await startGateway({
    FEATURE_FUTURES: 'true',
    FUTURES_BASE_URL: KUCOIN,
    READS_FROM_STREAM: 'false',
    UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    UPSTREAM_DEADLINE_MS: String(DEADLINE_MS),
    ...TEST_CREDENTIALS,
    ...env,
  });
  return running;
}

async function timed(method: string, path: string, init?: Parameters<typeof request>[3]) {
  const started = Date.now();
  const res = await request(running!.baseUrl, method, path, init);
  return { res, ms: Date.now() - started };
}

describe('one deadline per client request, KuCoin hanging', () => {
  it('a read (clock and contracts warm) answers a typed 504 by its deadline', async () => {
    await gateway();
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/account-overview`, () => json(fixture('account-overview').data ?? fixture('account-overview'))));
    await request(running!.baseUrl, 'GET', '/api/futures/account'); // syncs the clock
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/account-overview`, hang));

    const { res, ms } = await timed('GET', '/api/futures/account');
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('UPSTREAM_TIMEOUT');
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('a cold read (contract list, clock sync and the call all hanging) answers a typed 504 by its deadline', async () => {
    await gateway();
    kucoin.server.use(http.all(`${KUCOIN}/*`, hang));

    for (const path of ['/api/futures/positions/XBTUSDTM', '/api/futures/account']) {
      const { res, ms } = await timed('GET', path);
      expect(res.status, path).toBe(504);
      expect(res.body.code).toBe('UPSTREAM_TIMEOUT');
      expect(ms, path).toBeLessThan(BOUND_MS);
    }
  });

  it('an order whose POST and lookup hang: 502 ORDER_UNCONFIRMED (or 504) by its deadline, one POST, the lookup made', async () => {
    await gateway();
    kucoin.server.use(http.post(`${KUCOIN}/api/v1/orders`, hang), http.get(`${KUCOIN}/api/v1/orders/byClientOid`, hang));

    const { res, ms } = await timed('POST', '/api/futures/orders', { headers: { 'idempotency-key': 'hang-1' }, json: ORDER });
    expect([502, 504]).toContain(res.status);
    expect(['ORDER_UNCONFIRMED', 'UPSTREAM_TIMEOUT']).toContain(res.body.code);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(kucoin.calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/orders')).toHaveLength(1);
    // The POST left room for its reconciliation: the lookup by clientOid was sent.
    expect(kucoin.calls.filter((c) => c.path === '/api/v1/orders/byClientOid')).toHaveLength(1);
    expect(res.body.code).toBe('ORDER_UNCONFIRMED');
    expect(res.body.clientOid).toBe('hang-1');
  });
});

describe('breakers per endpoint group', () => {
  it('failing position reads open their breaker only: a cancel and an order still reach KuCoin', async () => {
    await gateway({ UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_BREAKER_OPEN_MS: '30000' });
    kucoin.server.use(
      http.get(`${KUCOIN}/api/v1/positions`, () => HttpResponse.json({ code: '500000', msg: 'down' }, { status: 500 })),
      http.delete(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => json({ cancelledOrderIds: [params.orderId] })),
      http.post(`${KUCOIN}/api/v1/orders`, () => json({ orderId: 'o-after', clientOid: 'after-1' })),
    );
    // Its two tries open the breaker: KuCoin's 502; then the breaker's 503, nothing sent.
    const first = await request(running!.baseUrl, 'GET', '/api/futures/positions');
    expect(first.status).toBe(502);
    const blocked = await request(running!.baseUrl, 'GET', '/api/futures/positions');
    expect(blocked.status).toBe(503);
    expect(kucoin.calls.filter((c) => c.path === '/api/v1/positions')).toHaveLength(2);

    const cancel = await request(running!.baseUrl, 'DELETE', '/api/futures/orders/234125150956625920');
    expect(cancel.status).toBe(200);
    const order = await request(running!.baseUrl, 'POST', '/api/futures/orders', { headers: { 'idempotency-key': 'after-1' }, json: ORDER });
    expect(order.status).toBe(201);
    expect(kucoin.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    expect(kucoin.calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/orders')).toHaveLength(1);
    const metrics = await request(running!.baseUrl, 'GET', '/metrics');
    expect(metrics.text).toMatch(/^gateway_upstream_breaker_open\{group="account"\} 1$/m);
    expect(metrics.text).toMatch(/^gateway_upstream_breaker_open\{group="order-writes"\} 0$/m);
  });
});

describe('shutdown with an order in flight at a slow KuCoin', { timeout: 30_000 }, () => {
  afterEach(stopGatewayProcesses);

  it('answers the order (201) before the process exits, though KuCoin is slower than SHUTDOWN_TIMEOUT_MS', async () => {
    const credentials = { SIM_KEY: 'dl-key', SIM_SECRET: 'dl-secret-0123456789abcdef', SIM_PASSPHRASE: 'dl-passphrase' };
    const sim = await startGatewayProcess({
      args: simulator(),
      env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', SIM_LOG_LEVEL: 'warn', ...credentials },
    });
    const gw = await startGatewayProcess({
      env: {
        FEATURE_FUTURES: 'true',
        ...gatewayEnvForSimulator(sim.baseUrl, credentials),
        READS_FROM_STREAM: 'false',
        SHUTDOWN_TIMEOUT_MS: '300',
        UPSTREAM_TIMEOUT_MS: '3000',
        UPSTREAM_DEADLINE_MS: '4000',
      },
    });
    const simControl = simControlAt(() => sim.baseUrl);
    // Warm the contract list and the clock, so the order's only slow step is its POST.
    expect((await request(gw.baseUrl, 'GET', '/api/futures/contracts')).status).toBe(200);
    await simControl('POST', '/sim/faults', { match: { method: 'POST', path: '/api/v1/orders' }, action: { type: 'latency', ms: 1_500 } });

    const answer = request(gw.baseUrl, 'POST', '/api/futures/orders', { json: { ...ORDER, type: 'MARKET', price: undefined } }).then(
      (res) => ({ res, at: Date.now() }),
      (error: unknown) => ({ error: String(error), at: Date.now() }),
    );
    const postSeen = async () => ((await simControl('GET', '/sim/usage')).requests['POST /api/v1/orders'] ?? 0) >= 1;
    for (let i = 0; i < 200 && !(await postSeen()); i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(await postSeen()).toBe(true);

    gw.signal('SIGTERM');
    const outcome = await answer;
    const exit = await gw.exited;
    expect('res' in outcome ? outcome.res.status : outcome.error).toBe(201);
    expect(exit.code).toBe(0);
    expect(logEntries(gw).map((entry) => entry.event)).not.toContain('shutdown_timeout');
    await sim.stop(2_000);
  });
});
