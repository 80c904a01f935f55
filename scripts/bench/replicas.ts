/**
 * Replicas on Redis (issue 15 §8): what sharing state through Redis gives and what it costs,
 * side by side with the single-process mode.
 *
 *   npx tsx scripts/bench/replicas.ts
 *   BENCH_REPLICAS_CLIENTS=5 BENCH_REPLICAS_SECONDS=2 BENCH_REPLICAS_FLIPS=4 BENCH_REPLICAS_OVERHEAD_SECONDS=1 BENCH_SKIP_BUILD=1 npx tsx scripts/bench/replicas.ts   (smoke)
 *
 * 1. Upstream economy: clients reading their own page of the order list (no two alike, so nothing
 *    is coalesced; READS_FROM_STREAM=false, every read is KuCoin's), BENCH_REPLICAS_CLIENTS per
 *    replica for BENCH_REPLICAS_SECONDS, against 3 replicas sharing Redis and against 1 replica
 *    without Redis (and, with BENCH_REPLICAS_ECONOMY_MODES=shared,single,unshared, 3 replicas
 *    sharing nothing). What KuCoin (the simulator) saw: its 429s and its busiest 30 s window.
 * 2. The kill switch's propagation: BENCH_REPLICAS_FLIPS admin flips, each on the next replica in
 *    turn, each timed from sending the PUT until every replica answers a futures route accordingly
 *    (404 off, 200 on), each replica polled back to back on its own connection.
 * 3. What REDIS_URL adds per request: one replica with and without Redis, BENCH_REPLICAS_OVERHEAD_CLIENTS
 *    clients for BENCH_REPLICAS_OVERHEAD_SECONDS on GET /api/health (no shared state: never rate
 *    limited) and GET /api/futures/contracts (through the inbound limit, shared once Redis is set;
 *    the contract catalogue is cached, so KuCoin is not what is measured). Latency, and CPU per
 *    request of the gateway and of redis-server, from /proc.
 *
 * Other settings: BENCH_REPLICAS_QUOTA (2000, the Futures quota per 30 s, the simulator's and each
 * replica's), BENCH_REPLICAS_LATENCY_MS (0: KuCoin's added latency in the economy runs),
 * BENCH_REPLICAS_OUTPUT (bench-results/replicas.json), BENCH_SKIP_BUILD=1 (use dist/ as it is).
 * Exit 0 whatever the figures; non-zero only when the run is broken.
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { benchRoot, buildGateway, figure, figuresTable, percentile, writeReport, type Figure } from './figures.js';
import { processCpuMs } from './proc-cpu.js';
import { integerAtLeast, numberAtLeast, positiveNumber } from './settings.js';
import { REPLICA_ADMIN_KEY, startReplicas, type ReplicaSet } from '../../test/support/replicas.js';

const CLIENTS = integerAtLeast('BENCH_REPLICAS_CLIENTS', 100);
const SECONDS = positiveNumber('BENCH_REPLICAS_SECONDS', 30);
const QUOTA = integerAtLeast('BENCH_REPLICAS_QUOTA', 2000);
const LATENCY_MS = numberAtLeast('BENCH_REPLICAS_LATENCY_MS', 0, 0);
const FLIPS = integerAtLeast('BENCH_REPLICAS_FLIPS', 40, 2);
const OVERHEAD_SECONDS = positiveNumber('BENCH_REPLICAS_OVERHEAD_SECONDS', 10);
const OVERHEAD_CLIENTS = integerAtLeast('BENCH_REPLICAS_OVERHEAD_CLIENTS', 20);
const OUTPUT = resolve(benchRoot, process.env.BENCH_REPLICAS_OUTPUT ?? 'bench-results/replicas.json');
type EconomyMode = 'shared' | 'single' | 'unshared';
const ECONOMY_MODES = (process.env.BENCH_REPLICAS_ECONOMY_MODES ?? 'shared,single')
  .split(',')
  .map((m) => m.trim())
  .filter((m): m is EconomyMode => m === 'shared' || m === 'single' || m === 'unshared');
const WINDOW_S = 30;
const ECONOMY_LABEL: Record<EconomyMode, string> = { shared: '3 replicas sharing Redis', single: '1 replica, no Redis', unshared: '3 replicas sharing nothing' };

const running = new Set<ReplicaSet>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.all([...running].map((set) => set.stop())).finally(() => process.exit(130)));
}

async function withSet<T>(options: Parameters<typeof startReplicas>[0], use: (set: ReplicaSet) => Promise<T>): Promise<T> {
  const set = await startReplicas(options);
  running.add(set);
  try {
    return await use(set);
  } finally {
    await set.stop();
    running.delete(set);
  }
}

function get(agent: Agent, port: number, path: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<number> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) } },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
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

// ---------------------------------------------------------------------------------------------
// 1. Upstream economy

interface EconomyResult {
  mode: EconomyMode;
  replicas: number;
  clients: number;
  requests: number;
  byStatus: Record<string, number>;
  p99Ms: number | null;
  kucoin429: number;
  busiestWindowWeight: number;
  kucoinWindowWeight: number;
}

async function economy(mode: EconomyMode): Promise<EconomyResult> {
  const count = mode === 'single' ? 1 : 3;
  return withSet(
    { count, redis: mode === 'shared', simEnv: { SIM_FUTURES_QUOTA: String(QUOTA) }, env: { KUCOIN_FUTURES_POOL_QUOTA: String(QUOTA), READS_FROM_STREAM: 'false', RATE_LIMIT_MAX: '0' } },
    async (set) => {
      if (LATENCY_MS > 0) await set.simControl('POST', '/sim/faults', { match: { method: 'GET', path: '/api/v1/orders' }, action: { type: 'latency', ms: LATENCY_MS } });
      await new Promise((done) => setTimeout(done, 1000 - (Date.now() % 1000) + 10));
      const startSecond = Math.floor(Date.now() / 1000);
      const before = await set.simControl('GET', '/sim/usage');
      const byStatus: Record<string, number> = {};
      const latencies: number[] = [];
      const deadline = performance.now() + SECONDS * 1000;
      await Promise.all(
        set.replicas.flatMap((replica) =>
          Array.from({ length: CLIENTS }, async (_, i) => {
            const agent = new Agent({ keepAlive: true, maxSockets: 1 });
            const page = replica.index * CLIENTS + i + 1;
            try {
              while (performance.now() < deadline) {
                const t0 = performance.now();
                const status = await get(agent, replica.port, `/api/futures/orders?page=${page}&pageSize=10`);
                latencies.push(performance.now() - t0);
                byStatus[status] = (byStatus[status] ?? 0) + 1;
              }
            } finally {
              agent.destroy();
            }
          }),
        ),
      );
      const after = await set.simControl('GET', '/sim/usage');
      latencies.sort((a, b) => a - b);
      return {
        mode,
        replicas: count,
        clients: count * CLIENTS,
        requests: latencies.length,
        byStatus,
        p99Ms: percentile(latencies, 99),
        kucoin429: after.rateLimited - before.rateLimited,
        busiestWindowWeight: busiestWindow(after.pools.futures.perSecond, startSecond),
        kucoinWindowWeight: after.pools.futures.maxWindowWeight,
      };
    },
  );
}

function economyFigures(r: EconomyResult): Figure[] {
  const f = (name: string, value: number | null, unit: string, target: Figure['target'] = null, note?: string) => figure(`economy, ${ECONOMY_LABEL[r.mode]}: ${name}`, value, unit, target, note === undefined ? {} : { note });
  const statuses = Object.entries(r.byStatus).map(([s, n]) => `${s}: ${n}`).join(', ');
  return [
    f('client reads answered', r.requests, 'requests', null, `${r.clients} clients; ${statuses}`),
    f('client reads answered 200', r.byStatus['200'] ?? 0, 'requests'),
    f('p99 read latency', r.p99Ms, 'ms'),
    f('KuCoin 429s', r.kucoin429, '429s', { op: '=', value: 0 }),
    f(`most Futures weight in any ${WINDOW_S} s`, r.busiestWindowWeight, 'weight', { op: '<=', value: Math.floor(QUOTA * 0.95) }, `95 % of the quota ${QUOTA}; sliding over whole seconds of the load`),
    f(`most Futures weight in one of KuCoin's ${WINDOW_S} s windows`, r.kucoinWindowWeight, 'weight', { op: '<=', value: Math.floor(QUOTA * 0.95) }, "the simulator's fixed windows, as KuCoin counts"),
  ];
}

// ---------------------------------------------------------------------------------------------
// 2. The kill switch's propagation

interface FlipResult {
  offMs: number[];
  onMs: number[];
  /** Flips that had not reached every replica after FLIP_GIVE_UP_MS (replicas sharing no switch). */
  unreached: number;
}

const FLIP_GIVE_UP_MS = 3_000;

async function flips(set: ReplicaSet): Promise<FlipResult> {
  const agents = set.replicas.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const admin = new Agent({ keepAlive: true, maxSockets: 1 });
  const result: FlipResult = { offMs: [], onMs: [], unreached: 0 };
  try {
    for (let i = 0; i < FLIPS; i++) {
      const enabled = i % 2 === 1;
      const replica = set.replicas[i % set.replicas.length]!;
      const t0 = performance.now();
      const put = get(admin, replica.port, '/api/admin/futures-switch', 'PUT', { enabled, reason: 'bench' }, { authorization: `Bearer ${REPLICA_ADMIN_KEY}` });
      const times = await Promise.all(
        set.replicas.map(async (r, k) => {
          for (;;) {
            if ((await get(agents[k]!, r.port, '/api/futures/contracts')) === (enabled ? 200 : 404)) return performance.now() - t0;
            if (performance.now() - t0 > FLIP_GIVE_UP_MS) return Infinity;
          }
        }),
      );
      const status = await put;
      if (status !== 200) throw new Error(`admin PUT answered ${status}`);
      const slowest = Math.max(...times);
      if (slowest === Infinity) result.unreached++;
      else (enabled ? result.onMs : result.offMs).push(slowest);
    }
  } finally {
    agents.forEach((a) => a.destroy());
    admin.destroy();
  }
  return result;
}

function flipFigures(r: FlipResult): Figure[] {
  const all = [...r.offMs, ...r.onMs].sort((a, b) => a - b);
  const off = [...r.offMs].sort((a, b) => a - b);
  const on = [...r.onMs].sort((a, b) => a - b);
  const note = `${all.length} flips, each from the admin PUT on one replica until all 3 answer accordingly${r.unreached > 0 ? `; ${r.unreached} more never reached every replica within ${FLIP_GIVE_UP_MS} ms (left out)` : ''}`;
  return [
    figure(`kill switch flips that never reached every replica within ${FLIP_GIVE_UP_MS} ms`, r.unreached, 'flips', { op: '=', value: 0 }),
    figure('kill switch propagation to all 3 replicas: p50', percentile(all, 50), 'ms', null, { note }),
    figure('kill switch propagation to all 3 replicas: p99', percentile(all, 99), 'ms', { op: '<=', value: 100 }, { note }),
    figure('kill switch propagation: p99 of flips off', percentile(off, 99), 'ms', { op: '<=', value: 100 }),
    figure('kill switch propagation: p99 of flips on', percentile(on, 99), 'ms', null),
  ];
}

// ---------------------------------------------------------------------------------------------
// 3. What REDIS_URL adds per request

interface OverheadResult {
  mode: 'no Redis' | 'REDIS_URL';
  route: string;
  requests: number;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  gatewayCpuUsPerRequest: number | null;
  redisCpuUsPerRequest: number | null;
  non200: number;
}

const OVERHEAD_ROUTES = ['/api/health', '/api/futures/contracts'] as const;

/** Load on one route of one replica for `seconds`: latencies, non-200 count, CPU of the gateway and of Redis. */
async function load(set: ReplicaSet, route: string, seconds: number) {
  const replica = set.replicas[0]!;
  const latencies: number[] = [];
  let non200 = 0;
  const gatewayBefore = processCpuMs(replica.process.pid);
  const redisBefore = set.redis?.pid !== undefined ? processCpuMs(set.redis.pid) : null;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: OVERHEAD_CLIENTS }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (performance.now() < deadline) {
        const t0 = performance.now();
        if ((await get(agent, replica.port, route)) !== 200) non200++;
        latencies.push(performance.now() - t0);
      }
      agent.destroy();
    }),
  );
  const gatewayAfter = processCpuMs(replica.process.pid);
  const redisAfter = set.redis?.pid !== undefined ? processCpuMs(set.redis.pid) : null;
  const diff = (before: number | null, after: number | null) => (before === null || after === null ? null : after - before);
  return { latencies, non200, ms: performance.now() - started, gatewayCpuMs: diff(gatewayBefore, gatewayAfter), redisCpuMs: diff(redisBefore, redisAfter) };
}

/**
 * Both modes run at once (one replica without Redis, one with), loaded in turn, half the time
 * each in two rounds: drift on a shared machine falls on both alike.
 */
async function overhead(without: ReplicaSet, withRedis: ReplicaSet): Promise<OverheadResult[]> {
  const results: OverheadResult[] = [];
  for (const route of OVERHEAD_ROUTES) {
    for (const set of [without, withRedis]) await load(set, route, Math.min(1, OVERHEAD_SECONDS)); // warm-up: JIT, connections, the catalogue
    const rounds = { without: [] as Awaited<ReturnType<typeof load>>[], withRedis: [] as Awaited<ReturnType<typeof load>>[] };
    for (let round = 0; round < 2; round++) {
      rounds.without.push(await load(without, route, OVERHEAD_SECONDS / 2));
      rounds.withRedis.push(await load(withRedis, route, OVERHEAD_SECONDS / 2));
    }
    for (const [mode, parts] of [['no Redis', rounds.without], ['REDIS_URL', rounds.withRedis]] as const) {
      const latencies = parts.flatMap((p) => p.latencies).sort((a, b) => a - b);
      const sum = (pick: (p: (typeof parts)[number]) => number | null) => (parts.some((p) => pick(p) === null) ? null : parts.reduce((total, p) => total + pick(p)!, 0));
      const perRequest = (ms: number | null) => (ms === null || latencies.length === 0 ? null : (ms * 1000) / latencies.length);
      results.push({
        mode,
        route,
        requests: latencies.length,
        perSecond: latencies.length / (sum((p) => p.ms)! / 1000),
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        gatewayCpuUsPerRequest: perRequest(sum((p) => p.gatewayCpuMs)),
        redisCpuUsPerRequest: mode === 'no Redis' ? 0 : perRequest(sum((p) => p.redisCpuMs)),
        non200: parts.reduce((total, p) => total + p.non200, 0),
      });
    }
  }
  return results;
}

function overheadFigures(results: OverheadResult[]): Figure[] {
  const figures: Figure[] = [];
  for (const route of OVERHEAD_ROUTES) {
    const without = results.find((r) => r.route === route && r.mode === 'no Redis');
    const withRedis = results.find((r) => r.route === route && r.mode === 'REDIS_URL');
    if (!without || !withRedis) continue;
    const what = route === '/api/health' ? 'no shared state' : 'inbound limit, shared with Redis';
    const pair = (name: string, unit: string, pick: (r: OverheadResult) => number | null) => {
      figures.push(figure(`GET ${route} (${what}), ${name}, REDIS_URL`, pick(withRedis), unit, null, { floor: pick(without), note: 'floor: the same without Redis' }));
    };
    pair('p50 latency', 'ms', (r) => r.p50Ms);
    pair('p99 latency', 'ms', (r) => r.p99Ms);
    pair('requests per second', 'req/s', (r) => r.perSecond);
    pair('gateway CPU per request', 'µs', (r) => r.gatewayCpuUsPerRequest);
    figures.push(figure(`GET ${route} (${what}), redis-server CPU per request`, withRedis.redisCpuUsPerRequest, 'µs', null));
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  if (!buildGateway()) return 1;
  const problems: string[] = [];
  const figures: Figure[] = [];
  const runs: Record<string, unknown> = {};
  const step = async <T>(what: string, run: () => Promise<T>, toFigures: (r: T) => Figure[]) => {
    console.log(`run: ${what}...`);
    try {
      const result = await run();
      runs[what] = result;
      const made = toFigures(result);
      figures.push(...made);
      console.log(figuresTable(made));
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  for (const mode of ECONOMY_MODES) {
    await step(`economy, ${ECONOMY_LABEL[mode]}, ${CLIENTS} clients per replica, ${SECONDS} s`, () => economy(mode), (r) => {
      if ((r.byStatus['200'] ?? 0) === 0) problems.push(`economy ${mode}: no read answered 200`);
      return economyFigures(r);
    });
  }
  await step(`kill switch propagation, ${FLIPS} flips over 3 replicas sharing Redis`, () => withSet({ count: 3, env: { RATE_LIMIT_MAX: '0' } }, flips), flipFigures);
  await step(
    `what REDIS_URL adds per request, ${OVERHEAD_CLIENTS} clients, ${OVERHEAD_SECONDS} s per route`,
    async () => {
      // A limit no client reaches: the limiter runs on every request without refusing any.
      const env = { RATE_LIMIT_MAX: '1000000000' };
      const results = await withSet({ count: 1, redis: false, env }, (without) => withSet({ count: 1, env }, (withRedis) => overhead(without, withRedis)));
      for (const r of results) if (r.non200 > 0) problems.push(`overhead ${r.mode} ${r.route}: ${r.non200} answers other than 200`);
      return results;
    },
    overheadFigures,
  );

  const output = writeReport(
    {
      benchmark: 'replicas',
      title: 'Replicas on Redis: upstream economy, kill switch propagation, and what Redis adds per request',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: {
        clientsPerReplica: CLIENTS,
        seconds: SECONDS,
        quota: QUOTA,
        kucoinLatencyMs: LATENCY_MS,
        economyModes: ECONOMY_MODES,
        flips: FLIPS,
        overheadClients: OVERHEAD_CLIENTS,
        overheadSeconds: OVERHEAD_SECONDS,
        gatewayLogLevel: 'warn',
        machine: { cpus: cpus().length, node: process.version },
      },
      figures,
      problems,
      runs,
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
