/**
 * Repeated shutdown signals to the built gateway (`node dist/main.js`; run `npm run build` first)
 * while orders wait for the simulator's answer (a 1.5 s latency fault on order placement):
 * the first SIGTERM/SIGINT starts the drain, a second is logged and changes nothing (every order
 * gets its 201, exit 0), a third exits at once with 128 + the signal's number.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { request, type HttpResponse } from '../support/http-client.js';
import { builtGateway, logEntries, simulator, startGatewayProcess, waitForLogEntry, type GatewayProcess } from '../support/process.js';
import { simControlAt } from '../support/sim-control.js';
import { SIM_CREDENTIALS } from '../reliability/stack.js';

const SYMBOL = 'ETHUSDTM';
const MARK = 3_000;
const ORDER_PRICE = 2_950;
const ORDERS = 4;
const LATENCY_MS = 1_500;

let sim: GatewayProcess;
const simControl = simControlAt(() => sim.baseUrl);
let gateway: GatewayProcess | undefined;

beforeAll(async () => {
  sim = await startGatewayProcess({
    args: simulator(),
    env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', SIM_FUTURES_QUOTA: '1000000', SIM_LOG_LEVEL: 'warn', ...SIM_CREDENTIALS },
  });
  await simControl('POST', '/sim/mark', { symbol: SYMBOL, price: MARK, hold: true });
});
afterAll(async () => {
  await sim?.stop(5_000);
});
afterEach(async () => {
  await simControl('DELETE', '/sim/faults');
  await gateway?.stop(5_000);
  gateway = undefined;
});

async function startGateway(): Promise<GatewayProcess> {
  gateway = await startGatewayProcess({
    args: builtGateway(),
    env: {
      FEATURE_FUTURES: 'true',
      ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS),
      RATE_LIMIT_MAX: '0',
      KUCOIN_FUTURES_POOL_QUOTA: '1000000',
      LOG_LEVEL: 'info',
      // Far longer than the orders take: the drain, not its timeout, is what ends the process.
      SHUTDOWN_TIMEOUT_MS: '5000',
    },
  });
  return gateway;
}

let oidSeq = 0;
/**
 * Places ORDERS orders whose placement KuCoin (the simulator) holds for LATENCY_MS, and resolves
 * once every one of them has reached it: from then on they are in flight at KuCoin.
 */
async function ordersInFlight(gw: GatewayProcess): Promise<Promise<HttpResponse | Error>[]> {
  const { added } = await simControl('POST', '/sim/faults', [{ match: { method: 'POST', path: '/api/v1/orders' }, times: ORDERS, action: { type: 'latency', ms: LATENCY_MS } }]);
  const faultId = (added as { id: number }[])[0]!.id;
  const answers = Array.from({ length: ORDERS }, () => {
    const clientOid = `sig-${process.pid}-${++oidSeq}`;
    const body = { symbol: SYMBOL, side: 'BUY', type: 'LIMIT', qty: 1, price: ORDER_PRICE, leverage: 5, marginMode: 'isolated', clientOid };
    return request(gw.baseUrl, 'POST', '/api/futures/orders', { json: body }).catch((error: unknown) => error as Error);
  });
  for (let i = 0; ; i++) {
    const { faults } = await simControl('GET', '/sim/faults');
    if (!(faults as { id: number }[]).some((f) => f.id === faultId)) break;
    if (i > 200) throw new Error('the orders did not reach the simulator within 4 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  return answers;
}

const events = (gw: GatewayProcess) => logEntries(gw).map((entry) => entry.event);

describe('a second shutdown signal while orders are in flight', { timeout: 30_000 }, () => {
  for (const [first, second] of [
    ['SIGTERM', 'SIGTERM'],
    ['SIGINT', 'SIGTERM'],
    ['SIGTERM', 'SIGINT'],
  ] as const) {
    it(`${first} then ${second}: logged, draining goes on, every order answered 201, exit 0`, async () => {
      const gw = await startGateway();
      const answers = await ordersInFlight(gw);
      gw.signal(first);
      await waitForLogEntry(gw, (entry) => entry.event === 'shutdown');
      gw.signal(second);

      const settled = await Promise.all(answers);
      for (const answer of settled) {
        expect(answer instanceof Error ? `no answer: ${answer.message}` : answer.status).toBe(201);
      }
      expect(await gw.exited).toEqual({ code: 0, signal: null });
      expect(logEntries(gw).find((entry) => entry.event === 'signal_ignored')).toMatchObject({ signal: second });
      expect(events(gw)).toEqual(expect.arrayContaining(['signal', 'shutdown', 'signal_ignored', 'stopped']));
      expect(events(gw)).not.toContain('shutdown_timeout');
      expect(events(gw)).not.toContain('signal_forced_exit');
    });
  }
});

describe('a third shutdown signal', { timeout: 30_000 }, () => {
  it('exits at once with 128 + the signal number (SIGTERM: 143), cutting the in-flight orders off', async () => {
    const gw = await startGateway();
    const answers = await ordersInFlight(gw);
    gw.signal('SIGTERM');
    await waitForLogEntry(gw, (entry) => entry.event === 'shutdown');
    gw.signal('SIGINT');
    await waitForLogEntry(gw, (entry) => entry.event === 'signal_ignored');
    gw.signal('SIGTERM');

    expect(await gw.exited).toEqual({ code: 143, signal: null });
    // The process is gone while KuCoin still holds the orders: none got an answer.
    for (const answer of await Promise.all(answers)) expect(answer).toBeInstanceOf(Error);
    const forced = logEntries(gw).find((entry) => entry.event === 'signal_forced_exit');
    expect(forced).toMatchObject({ signal: 'SIGTERM', code: 143 });
    expect(events(gw)).not.toContain('stopped');
  });
});
