/**
 * Benchmark 2 of issue 6, "upstream economy": many clients poll the position list and the
 * open-order list as fast as they can; what does KuCoin (the simulator) see?
 *
 *   npx tsx scripts/bench/upstream-economy.ts
 *   BENCH_ECONOMY_CLIENTS=10 BENCH_ECONOMY_SECONDS=2 BENCH_SKIP_BUILD=1 npx tsx scripts/bench/upstream-economy.ts   (smoke)
 *
 * Environment: BENCH_ECONOMY_CLIENTS (200), BENCH_ECONOMY_SECONDS (30), BENCH_SKIP_BUILD=1 (use
 * dist/ as it is, else `npm run build` first), BENCH_ECONOMY_OUTPUT (default
 * bench-results/upstream-economy.json), BENCH_ECONOMY_MODES (default "on,off"), BENCH_ECONOMY_QUOTA
 * (default 2000: the Futures pool's quota per 30 s, given to both the simulator and the gateway;
 * a smaller one shows the gateway's own budget at work without the cache).
 *
 * For each mode, one after the other, a fresh simulator (`src/simulator/main.ts`) and the built
 * gateway (`node dist/main.js`) run as child processes on loopback free ports; the gateway has
 * the simulator's credentials, LOG_LEVEL=warn (a log line per request is not what is measured) and
 * RATE_LIMIT_MAX=0: the inbound per-client limiter is off, since what is measured is how the
 * gateway spends KuCoin's quota under unlimited client load. The account is given a position and
 * three resting orders through the gateway, then each client, with its own keep-alive connection,
 * alternates GET /api/futures/positions and GET /api/futures/orders for the run's time.
 *   on:  READS_FROM_STREAM=true, the default: lists served from the live feed when it is current.
 *   off: READS_FROM_STREAM=false: every read goes to KuCoin, identical concurrent reads coalesced.
 * Upstream requests, weight and 429s come from the simulator's own count (GET /sim/usage),
 * cross-checked with the gateway's gateway_upstream_calls_total. Exit 0 whatever the figures;
 * non-zero only when the run is broken (a process did not start, answers were wrong).
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { endpoints } from '../../src/kucoin/endpoints.js';
import { benchRoot, buildGateway, figure, figuresTable, percentile, writeReport, type Figure } from './figures.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { positiveNumber } from './settings.js';
import { builtGateway, simulator, startGatewayProcess, startQuietGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../../test/support/process.js';

const CLIENTS = Math.floor(positiveNumber('BENCH_ECONOMY_CLIENTS', 200));
const SECONDS = positiveNumber('BENCH_ECONOMY_SECONDS', 30);
const OUTPUT = resolve(benchRoot, process.env.BENCH_ECONOMY_OUTPUT ?? 'bench-results/upstream-economy.json');
const MODES = (process.env.BENCH_ECONOMY_MODES ?? 'on,off').split(',').map((m) => m.trim()).filter((m): m is 'on' | 'off' => m === 'on' || m === 'off');
/** The Futures quota per 30 s, the simulator's and the gateway's (default KuCoin's VIP0, 2000). */
const QUOTA = Math.floor(positiveNumber('BENCH_ECONOMY_QUOTA', 2000));
const WINDOW_S = 30;
const SIM = { SIM_KEY: 'bench-key', SIM_SECRET: 'bench-secret-0123456789abcdef', SIM_PASSPHRASE: 'bench-passphrase' };
const PATHS = ['/api/futures/positions', '/api/futures/orders'] as const;

// ---------------------------------------------------------------------------------------------
// Child processes (test/support/process.ts), stopped by pid whatever happens

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopGatewayProcesses().finally(() => process.exit(130)));
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface Answer {
  status: number;
  body: string;
  servedFrom: string | undefined;
}

function http(agent: Agent, port: number, method: string, path: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const served = res.headers['x-served-from'];
        done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), servedFrom: typeof served === 'string' ? served : undefined });
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(payload);
  });
}

const control = new Agent({ keepAlive: true });
async function getJson(port: number, path: string): Promise<any> {
  const answer = await http(control, port, 'GET', path);
  if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.body.slice(0, 300)}`);
  return JSON.parse(answer.body);
}

/** `name{labels} value` lines of a Prometheus text answer. */
function metricLines(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const labels: Record<string, string> = {};
      for (const [, key, value] of line.slice(line.indexOf('{') + 1, line.lastIndexOf('}')).matchAll(/(\w+)="([^"]*)"/g)) labels[key!] = value!;
      return { labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) };
    });
}

interface GatewayCounts {
  /** Calls sent to KuCoin per pool (outcomes other than budget and breaker_open). */
  calls: Record<'futures' | 'public', number>;
  weight: Record<'futures' | 'public', number>;
  reads: Record<string, number>;
}

async function gatewayCounts(port: number): Promise<GatewayCounts> {
  const text = (await http(control, port, 'GET', '/metrics')).body;
  const byEndpoint = new Map(Object.values(endpoints).map((e) => [`${e.method} ${e.path}`, e]));
  const counts: GatewayCounts = { calls: { futures: 0, public: 0 }, weight: { futures: 0, public: 0 }, reads: {} };
  for (const { labels, value } of metricLines(text, 'gateway_upstream_calls_total')) {
    if (labels.outcome === 'budget' || labels.outcome === 'breaker_open') continue;
    const endpoint = byEndpoint.get(labels.endpoint ?? '');
    if (!endpoint) continue;
    counts.calls[endpoint.pool] += value;
    counts.weight[endpoint.pool] += value * endpoint.weight;
  }
  for (const { labels, value } of metricLines(text, 'gateway_rest_reads_total')) counts.reads[`${labels.operation}/${labels.source}`] = value;
  return counts;
}

// ---------------------------------------------------------------------------------------------
// One run

interface Usage {
  pools: Record<'futures' | 'public', { limit: number; calls: number; weight: number; refused: number; maxWindowWeight: number; perSecond: Array<[number, number]> }>;
  rateLimited: number;
  requests: Record<string, number>;
}

interface RunResult {
  mode: 'on' | 'off';
  seconds: number;
  requests: number;
  byStatus: Record<string, number>;
  bySource: Record<string, number>;
  readsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  upstream: Record<'futures' | 'public', { calls: number; weight: number; refused: number; busiestWindowWeight: number }>;
  upstream429: number;
  simMaxWindowWeight: number;
  gateway: { calls: Record<'futures' | 'public', number>; weight: Record<'futures' | 'public', number>; reads: Record<string, number> };
  problems: string[];
}

/** The most weight in any WINDOW_S consecutive seconds from `from` (epoch s) on. */
function busiestWindow(perSecond: Array<[number, number]>, from: number): number {
  const seconds = perSecond.filter(([second]) => second >= from);
  let best = 0;
  for (let i = 0; i < seconds.length; i++) {
    let sum = 0;
    for (let j = i; j < seconds.length && seconds[j]![0] < seconds[i]![0] + WINDOW_S; j++) sum += seconds[j]![1];
    best = Math.max(best, sum);
  }
  return best;
}

async function seed(port: number, problems: string[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const orders = [
    { symbol: 'XBTUSDTM', side: 'BUY', type: 'MARKET', qty: 1 },
    { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 100 },
    { symbol: 'ETHUSDTM', side: 'SELL', type: 'LIMIT', qty: 1, price: 100_000 },
    { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 1000 },
  ];
  // A LIMIT far from the mark is refused by the ±5 % band: place near it instead.
  const marks = (await getJson(port, '/api/futures/contracts')).data as Array<{ symbol: string; markPrice: number; tickSize: number }>;
  for (const order of orders) {
    const contract = marks.find((c) => c.symbol === order.symbol);
    const body = order.type === 'LIMIT' && contract ? { ...order, price: Math.round((contract.markPrice * (order.side === 'BUY' ? 0.97 : 1.03)) / contract.tickSize) * contract.tickSize } : order;
    const answer = await http(agent, port, 'POST', '/api/futures/orders', body);
    if (answer.status !== 201) problems.push(`seeding ${JSON.stringify(body)}: ${answer.status} ${answer.body.slice(0, 200)}`);
  }
  agent.destroy();
}

async function run(mode: 'on' | 'off'): Promise<RunResult> {
  const problems: string[] = [];
  let sim: GatewayProcess | undefined;
  let gateway: GatewayProcess | undefined;
  try {
    sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_LOG_LEVEL: 'warn', SIM_FUTURES_QUOTA: String(QUOTA), ...SIM } });
    // At LOG_LEVEL=warn the gateway writes no `listening` line: it is ready when its health answers.
    gateway = await startQuietGatewayProcess({
      args: builtGateway(),
      env: {
        FEATURE_FUTURES: 'true',
        ...gatewayEnvForSimulator(sim.baseUrl, SIM),
        RATE_LIMIT_MAX: '0',
        LOG_LEVEL: 'warn',
        KUCOIN_FUTURES_POOL_QUOTA: String(QUOTA),
        READS_FROM_STREAM: mode === 'on' ? 'true' : 'false',
      },
    });
    await seed(gateway.port, problems);
    // The busiest-window figure counts whole seconds from the load's first: leave the seeding's behind.
    await new Promise((done) => setTimeout(done, 1000 - (Date.now() % 1000) + 10));
    const startSecond = Math.floor(Date.now() / 1000);
    const usageBefore = (await getJson(sim.port, '/sim/usage')) as Usage;
    const gatewayBefore = await gatewayCounts(gateway.port);

    const latencies: number[] = [];
    const byStatus: Record<string, number> = {};
    const bySource: Record<string, number> = {};
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    const port = gateway.port;
    const client = async (index: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = index; performance.now() < deadline; i++) {
          const t0 = performance.now();
          const answer = await http(agent, port, 'GET', PATHS[i % PATHS.length]!);
          latencies.push(performance.now() - t0);
          byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
          if (answer.status === 200) bySource[answer.servedFrom ?? 'none'] = (bySource[answer.servedFrom ?? 'none'] ?? 0) + 1;
          else if (answer.status !== 429 && (byStatus[answer.status] ?? 0) <= 3) problems.push(`unexpected ${answer.status}: ${answer.body.slice(0, 200)}`);
        }
      } finally {
        agent.destroy();
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    const seconds = (performance.now() - started) / 1000;

    const usage = (await getJson(sim.port, '/sim/usage')) as Usage;
    const gatewayAfter = await gatewayCounts(gateway.port);
    latencies.sort((a, b) => a - b);
    const pool = (name: 'futures' | 'public') => ({
      calls: usage.pools[name].calls - usageBefore.pools[name].calls,
      weight: usage.pools[name].weight - usageBefore.pools[name].weight,
      refused: usage.pools[name].refused - usageBefore.pools[name].refused,
      busiestWindowWeight: busiestWindow(usage.pools[name].perSecond, startSecond),
    });
    const diff = (after: Record<string, number>, before: Record<string, number>) => Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
    if ((byStatus['200'] ?? 0) === 0) problems.push('no read was answered 200');
    return {
      mode,
      seconds,
      requests: latencies.length,
      byStatus,
      bySource,
      readsPerSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      upstream: { futures: pool('futures'), public: pool('public') },
      upstream429: usage.rateLimited - usageBefore.rateLimited,
      simMaxWindowWeight: usage.pools.futures.maxWindowWeight,
      gateway: {
        calls: { futures: gatewayAfter.calls.futures - gatewayBefore.calls.futures, public: gatewayAfter.calls.public - gatewayBefore.calls.public },
        weight: { futures: gatewayAfter.weight.futures - gatewayBefore.weight.futures, public: gatewayAfter.weight.public - gatewayBefore.weight.public },
        reads: diff(gatewayAfter.reads, gatewayBefore.reads),
      },
      problems,
    };
  } finally {
    await gateway?.stop(10_000);
    await sim?.stop(10_000);
    await stopGatewayProcesses(); // and their temp directories
  }
}

function figuresOf(r: RunResult): Figure[] {
  const label = r.mode === 'on' ? 'stream cache on' : 'stream cache off (coalescing only)';
  const f = (name: string, value: number | null, unit: string, target: Figure['target'] = null, note?: string) => figure(`${label}: ${name}`, value, unit, target, note === undefined ? {} : { note });
  const statuses = Object.entries(r.byStatus).map(([status, n]) => `${status}: ${n}`).join(', ');
  const crossCheck = r.gateway.calls.futures === r.upstream.futures.calls ? 'the gateway counts the same' : `the gateway counts ${r.gateway.calls.futures} calls, ${r.gateway.weight.futures} weight`;
  return [
    f('client reads answered', r.requests, 'requests', null, statuses),
    f('client reads answered 200', r.byStatus['200'] ?? 0, 'requests', null, `from the stream: ${r.bySource.stream ?? 0}, from KuCoin: ${r.bySource.upstream ?? 0}`),
    f('client reads answered 429 by the gateway', r.byStatus['429'] ?? 0, 'requests', null, 'the gateway refuses what the pool cannot afford'),
    f('reads per second', r.readsPerSecond, 'req/s'),
    f('p50 read latency', r.p50Ms, 'ms'),
    f('p99 read latency', r.p99Ms, 'ms'),
    f('upstream requests, Futures pool', r.upstream.futures.calls, 'requests', null, crossCheck),
    f('upstream weight spent, Futures pool', r.upstream.futures.weight, 'weight'),
    f('upstream requests, Public pool', r.upstream.public.calls, 'requests', null, `weight ${r.upstream.public.weight}`),
    f(`most Futures weight in any ${WINDOW_S} s`, r.upstream.futures.busiestWindowWeight, 'weight', { op: '<', value: QUOTA }, `sliding over whole seconds of the load (simulator's per-second count); can span two of KuCoin's fixed windows, so stricter than KuCoin`),
    f(`most Futures weight in one of KuCoin's ${WINDOW_S} s windows`, r.simMaxWindowWeight, 'weight', { op: '<', value: QUOTA }, `the simulator's own fixed windows, as KuCoin counts them; seeding included; quota ${QUOTA}`),
    f('upstream 429s', r.upstream429, '429s', { op: '=', value: 0 }),
  ];
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  if (!buildGateway()) return 1;
  const results: RunResult[] = [];
  const problems: string[] = [];
  for (const mode of MODES) {
    console.log(`run: stream cache ${mode}, ${CLIENTS} clients, ${SECONDS} s...`);
    try {
      const result = await run(mode);
      results.push(result);
      problems.push(...result.problems.map((p) => `${mode}: ${p}`));
      console.log(figuresTable(figuresOf(result)));
    } catch (error) {
      problems.push(`${mode}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(`run ${mode} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const output = writeReport(
    {
      benchmark: 'upstream-economy',
      title: 'Upstream economy: clients polling positions and open orders, and what KuCoin sees',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: {
        clients: CLIENTS,
        seconds: SECONDS,
        modes: MODES,
        quota: QUOTA,
        inboundRateLimit: 'off (RATE_LIMIT_MAX=0): the inbound limiter is not what is measured',
        gatewayLogLevel: 'warn',
        machine: { cpus: cpus().length, node: process.version },
      },
      figures: results.flatMap(figuresOf),
      problems,
      runs: results,
    },
    OUTPUT,
  );
  console.log(`report: ${output}`);
  if (problems.length > 0) console.error(`problems:\n- ${problems.join('\n- ')}`);
  return problems.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    control.destroy();
    process.exit(code);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
