/**
 * Upstream weight per order: what one order placed through the gateway costs of KuCoin's Futures
 * pool in steady state, and so how many orders one account can place per 30 s at a quota.
 *
 *   npx tsx scripts/bench/order-weight.ts
 *   BENCH_ORDER_WEIGHT_ORDERS=3 BENCH_SKIP_BUILD=1 npx tsx scripts/bench/order-weight.ts   (smoke)
 *
 * Environment: BENCH_ORDER_WEIGHT_ORDERS (40), BENCH_ORDER_WEIGHT_QUOTA (2000: KuCoin's Futures
 * pool per 30 s at VIP0), BENCH_SKIP_BUILD=1 (use dist/ as it is, else `npm run build` first),
 * BENCH_ORDER_WEIGHT_OUTPUT (default bench-results/order-weight.json).
 *
 * A fresh simulator and the built gateway run as child processes on loopback. Steady state is the
 * gateway as it runs with a /ws/futures client connected: the KuCoin stream is up (the symbol's
 * margin mode is known from `/contract/marginMode` and each order's feed entry is made from its
 * push), the contract catalog is read, and one warm-up order has read the symbol's margin mode. Then
 * the orders are placed one at a time, each waited for on the socket (`order_update` open), and
 * the weight the simulator counted for the Futures pool over them (GET /sim/usage, its own count,
 * as KuCoin would) is divided by their number. KuCoin charges the order POST itself weight 2
 * (https://www.kucoin.com/docs-new/api-3470235). Orders per 30 s is the quota divided by that
 * weight: the most the pool allows, before any other call the account makes. The orders are
 * cancelled afterwards, outside the count. Exit 0 whatever the figures; non-zero only when broken.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { builtGateway, simulator, startGatewayProcess, startQuietGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../../test/support/process.js';
import { benchRoot, buildGateway, figure, figuresTable, writeReport, type Figure } from './figures.js';
import { integerAtLeast } from './settings.js';

const ORDERS = integerAtLeast('BENCH_ORDER_WEIGHT_ORDERS', 40);
const QUOTA = integerAtLeast('BENCH_ORDER_WEIGHT_QUOTA', 2000);
const OUTPUT = resolve(benchRoot, process.env.BENCH_ORDER_WEIGHT_OUTPUT ?? 'bench-results/order-weight.json');
const SIM = { SIM_KEY: 'bench-key', SIM_SECRET: 'bench-secret-0123456789abcdef', SIM_PASSPHRASE: 'bench-passphrase' };
const SYMBOL = 'XBTUSDTM';
/** The weight per order before the steady-state work (margin mode read and feed read-back per order). */
const BEFORE = 9;
const WAIT_MS = 10_000;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopGatewayProcesses().finally(() => process.exit(130)));
}

async function json(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** A /ws/futures client that remembers every message and can wait for one. */
async function feedClient(url: string): Promise<{ waitFor(match: (m: any) => boolean): Promise<any>; close(): void }> {
  const ws = new WebSocket(url);
  const messages: any[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (raw) => {
    messages.push(JSON.parse(String(raw)));
    wake?.();
  });
  await new Promise<void>((done, fail) => {
    ws.once('open', () => done());
    ws.once('error', fail);
  });
  let seen = 0;
  return {
    async waitFor(match) {
      const until = Date.now() + WAIT_MS;
      for (;;) {
        while (seen < messages.length) {
          const message = messages[seen++];
          if (match(message)) return message;
        }
        const left = until - Date.now();
        if (left <= 0) throw new Error('no matching /ws/futures message within 10 s');
        await new Promise<void>((done) => {
          wake = done;
          setTimeout(done, left).unref();
        });
      }
    },
    close: () => ws.close(),
  };
}

interface Result {
  orders: number;
  weight: number;
  weightPerOrder: number;
  ordersPer30s: number;
  requestsPerOrder: Record<string, number>;
  problems: string[];
}

async function measure(): Promise<Result> {
  const problems: string[] = [];
  let sim: GatewayProcess | undefined;
  let gateway: GatewayProcess | undefined;
  try {
    sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_LOG_LEVEL: 'warn', SIM_FUTURES_QUOTA: String(QUOTA), SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM } });
    gateway = await startQuietGatewayProcess({
      args: builtGateway(),
      env: { FEATURE_FUTURES: 'true', ...gatewayEnvForSimulator(sim.baseUrl, SIM), RATE_LIMIT_MAX: '0', LOG_LEVEL: 'warn', KUCOIN_FUTURES_POOL_QUOTA: String(QUOTA) },
    });
    const client = await feedClient(`${gateway.wsUrl}/ws/futures`);
    const usage = async () => (await json('GET', `${sim!.baseUrl}/sim/usage`)).body as { pools: { futures: { weight: number } }; requests: Record<string, number> };
    try {
      await client.waitFor((m) => m.type === 'order_update' && m.snapshot === true);
      const mark = (await json('GET', `${gateway.baseUrl}/api/futures/contracts`)).body.data.find((c: { symbol: string }) => c.symbol === SYMBOL) as { markPrice: number; tickSize: number };
      const ids: string[] = [];
      // Resting post-only buys just under the mark, inside the simulator's ±5 % price band.
      const place = async (i: number): Promise<void> => {
        const price = Math.round((mark.markPrice * 0.97) / mark.tickSize) * mark.tickSize - i * mark.tickSize;
        const placed = await json('POST', `${gateway!.baseUrl}/api/futures/orders`, { symbol: SYMBOL, side: 'BUY', type: 'LIMIT', qty: 1, price, postOnly: true });
        if (placed.status !== 201) throw new Error(`order ${i}: ${placed.status} ${JSON.stringify(placed.body).slice(0, 300)}`);
        const orderId = placed.body.data.orderId as string;
        ids.push(orderId);
        await client.waitFor((m) => m.type === 'order_update' && !m.snapshot && m.data?.[0]?.orderId === orderId);
      };
      await place(0); // warm-up: the first order of a symbol reads its margin mode
      const before = await usage();
      for (let i = 1; i <= ORDERS; i += 1) await place(i);
      const after = await usage();
      for (const id of ids) await json('DELETE', `${gateway.baseUrl}/api/futures/orders/${id}`);
      const weight = after.pools.futures.weight - before.pools.futures.weight;
      const requestsPerOrder = Object.fromEntries(
        Object.entries(after.requests)
          .map(([name, n]) => [name, (n - (before.requests[name] ?? 0)) / ORDERS] as const)
          .filter(([, n]) => n > 0),
      );
      return { orders: ORDERS, weight, weightPerOrder: weight / ORDERS, ordersPer30s: Math.floor(QUOTA / (weight / ORDERS)), requestsPerOrder, problems };
    } finally {
      client.close();
    }
  } finally {
    await gateway?.stop(10_000);
    await sim?.stop(10_000);
    await stopGatewayProcesses();
  }
}

function figuresOf(r: Result): Figure[] {
  const calls = Object.entries(r.requestsPerOrder).map(([name, n]) => `${name} × ${n}`).join(', ');
  return [
    figure('orders placed (steady state, each followed on /ws/futures)', r.orders, 'orders', null),
    figure('upstream weight per order, Futures pool', r.weightPerOrder, 'weight', { op: '<=', value: 3 }, { note: `${r.weight} over ${r.orders} orders (simulator's count); KuCoin requests per order: ${calls}; was ${BEFORE}` }),
    figure(`orders per 30 s one account can place at quota ${QUOTA}`, r.ordersPer30s, 'orders', null, { note: `${QUOTA} / weight per order; was ${Math.floor(QUOTA / BEFORE)} at weight ${BEFORE}` }),
  ];
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  if (!buildGateway()) return 1;
  console.log(`run: ${ORDERS} orders on ${SYMBOL}, one at a time, quota ${QUOTA}...`);
  let result: Result | undefined;
  const problems: string[] = [];
  try {
    result = await measure();
    problems.push(...result.problems);
    console.log(figuresTable(figuresOf(result)));
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    console.error(`run failed: ${problems.at(-1)}`);
  }
  const output = writeReport(
    {
      benchmark: 'order-weight',
      title: 'Upstream weight per order in steady state, and orders per 30 s at the quota',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: { orders: ORDERS, quota: QUOTA, symbol: SYMBOL, machine: { cpus: cpus().length, node: process.version } },
      figures: result ? figuresOf(result) : [],
      problems,
      ...(result ? { run: result } : {}),
    },
    OUTPUT,
  );
  console.log(`report: ${output}`);
  if (problems.length > 0) console.error(`problems:\n- ${problems.join('\n- ')}`);
  return problems.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
