/**
 * What the shared idempotency record costs an order: keyed orders and their replays through one
 * gateway, first with the in-process store (REDIS_URL unset), then with the Redis one (a local
 * redis-server), against the KuCoin simulator; all in this process, on loopback.
 *
 *   npx tsx scripts/bench/idempotency-redis.ts
 *
 * Environment: BENCH_IDEM_ORDERS (100 per store, after 50 unmeasured). Prints the median and 95th percentile of a first
 * order (claim, POST, outcome write) and of a replay (one claim script) for each store, each
 * measured twice, alternating. Exit 0
 * whatever the figures.
 */
import { gatewayEnvForSimulator, loadSimConfig } from '../../src/simulator/config.js';
import { startSimulator } from '../../src/simulator/rest/server.js';
import { startGateway } from '../../test/support/gateway.js';
import { startRedis } from '../../test/support/redis.js';
import { integerAtLeast } from './settings.js';

const ORDERS = integerAtLeast('BENCH_IDEM_ORDERS', 100);
if (ORDERS > 140) throw new Error('BENCH_IDEM_ORDERS must be at most 140 (100 open orders per symbol, warm-up included)');
/** Orders placed (and replayed) before the measured ones, so the first store measured is not the one that warms the JIT up. */
const WARMUP = 50;
const SIM_ENV = { SIM_PORT: '0', SIM_KEY: 'bench-idem-key', SIM_SECRET: 'bench-idem-secret-0123456789abcdef', SIM_PASSPHRASE: 'bench-idem-passphrase' };
/** Rest far below the mark: one open order per request, nothing filled; two symbols, since KuCoin allows 100 open orders per symbol. */
const ORDERS_BY_SYMBOL = [
  { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 1000, leverage: 5, marginMode: 'isolated' },
  { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 100, leverage: 5, marginMode: 'isolated' },
];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function timed(url: string, key: string, order: Record<string, unknown>): Promise<{ ms: number; status: number; replayed: string | null }> {
  const started = performance.now();
  const res = await fetch(`${url}/api/futures/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(order) });
  await res.arrayBuffer();
  return { ms: performance.now() - started, status: res.status, replayed: res.headers.get('idempotent-replayed') };
}

const sim = await startSimulator({ config: loadSimConfig(SIM_ENV), timers: false });
const redis = await startRedis();
try {
  const rows: string[] = [];
  const stores = [
    ['in-process', {}],
    ['redis', { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'bench-idem:' }],
  ] as const;
  // Each store twice, alternating: the machine's own drift shows as the difference between passes.
  for (const [pass, [store, extra]] of [...stores, ...stores].entries()) {
    sim.engine.reset();
    const gw = await startGateway({ FEATURE_FUTURES: 'true', ...gatewayEnvForSimulator(sim.url, SIM_ENV), RATE_LIMIT_MAX: '0', READS_FROM_STREAM: 'false', LOG_LEVEL: 'warn', ...extra });
    try {
      for (let i = 0; i < WARMUP; i++) {
        const order = ORDERS_BY_SYMBOL[i % 2]!;
        await timed(gw.baseUrl, `${store}-${pass}-warmup-${i}`, order);
        await timed(gw.baseUrl, `${store}-${pass}-warmup-${i}`, order);
      }
      const first: number[] = [];
      const replay: number[] = [];
      for (let i = 0; i < ORDERS; i++) {
        const key = `${store}-${pass}-${i}`;
        const order = ORDERS_BY_SYMBOL[i % 2]!;
        const placed = await timed(gw.baseUrl, key, order);
        const again = await timed(gw.baseUrl, key, order);
        if (placed.status !== 201 || placed.replayed !== 'false' || again.status !== 201 || again.replayed !== 'true') {
          throw new Error(`${store} order ${i}: ${placed.status}/${placed.replayed}, replay ${again.status}/${again.replayed}`);
        }
        first.push(placed.ms);
        replay.push(again.ms);
      }
      first.sort((a, b) => a - b);
      replay.sort((a, b) => a - b);
      rows.push(`| ${store} (pass ${pass < 2 ? 1 : 2}) | ${ms(percentile(first, 50))} | ${ms(percentile(first, 95))} | ${ms(percentile(replay, 50))} | ${ms(percentile(replay, 95))} |`);
    } finally {
      await gw.stop();
    }
  }
  console.log(`${ORDERS} keyed orders and their replays, one at a time, per store`);
  console.log('| store | first order p50 | p95 | replay p50 | p95 |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  await sim.close();
  await redis.stop();
}
