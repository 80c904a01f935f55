/**
 * Benchmark 3 of issue 6, "fan-out" (target 5 of issue 16): many /ws/futures clients on one
 * gateway, beside a floor — a bare `ws` server broadcasting the same frames to as many clients
 * from the same client processes, in the same run.
 *
 *   npx tsx scripts/bench/fan-out.ts                      5,000 then 10,000 clients, 20 pushes each
 *   BENCH_FANOUT_CLIENTS=20,40 BENCH_FANOUT_PUSHES=3 BENCH_SKIP_BUILD=1 npx tsx scripts/bench/fan-out.ts
 *
 * What it does:
 * 1. Builds the gateway (`npm run build`, unless BENCH_SKIP_BUILD=1), starts the simulator and the
 *    built gateway (`node --expose-gc --import scripts/bench/gc-on-signal.mjs dist/main.js`) on free
 *    loopback ports, the gateway with the simulator's KuCoin credentials and FEATURE_FUTURES=true.
 *    The simulator's random walk and funding are pushed an hour away, so the only pushes are ours.
 * 2. Opens one XBTUSDTM position through the gateway (a MARKET order), so a mark move reaches every
 *    client as exactly one `position_update` with `reason: "markPrice"` carrying that mark.
 * 3. Memory: SIGUSR2 makes the preload run a full GC in the gateway (and say so on stdout); then
 *    GET /metrics gives `gateway_process_resident_memory_bytes` (RSS) and
 *    `gateway_nodejs_heap_size_used_bytes` (JS heap). Read before any client, then with every
 *    client connected, snapshotted and idle; the difference over the client count is the cost of an
 *    idle client.
 * 4. Opens the clients from BENCH_FANOUT_WORKERS (2) child processes (scripts/bench/fan-out-worker.ts);
 *    each waits for its greeting and snapshots. A sample of the clients checks every message it
 *    gets against asyncapi.yaml, the floor's included.
 * 5. The floor (scripts/bench/fan-out-floor.ts, a child with --expose-gc): a bare `ws` server that
 *    greets each client with the frames a sampled gateway client got before it was live, and
 *    broadcasts each push the gateway sent (the frame a sampled client got, re-stamped with each
 *    client's `timestamp` and `seq`) in one timed loop of `ws.send`. The same workers open as many
 *    clients to it as to the gateway, at each step; its memory is read after a full GC likewise.
 * 6. For each count of BENCH_FANOUT_CLIENTS (ascending; clients are added from one count to the
 *    next): clients up to N/2 and a memory reading (unless an earlier count is at or past N/2), up
 *    to N and a reading, then BENCH_FANOUT_PUSHES pushes, each first to the gateway, then the same
 *    frame to the floor. A gateway push is POST /sim/mark with a new price; the delay of a delivery
 *    is the client's receipt time minus the time taken just before that control call (for the
 *    floor, just before the IPC message), both process.hrtime.bigint() (CLOCK_MONOTONIC, one clock
 *    for every process of the machine; checked at the start by a round trip to each worker). The
 *    next push waits until every client has the last one, plus BENCH_FANOUT_GAP_MS. The gateway's
 *    own part, its loop writing the frame to every client's socket, is read from its
 *    gateway_ws_broadcast_seconds before and after the pushes; the floor times its loop itself.
 *
 * Environment: BENCH_FANOUT_CLIENTS (5000,10000: one or more counts), BENCH_FANOUT_PUSHES (20 per count), BENCH_FANOUT_WORKERS (2),
 * BENCH_FANOUT_CONCURRENCY (handshakes in flight per worker, 50), BENCH_FANOUT_GAP_MS (300),
 * BENCH_FANOUT_IDLE_MS (settle time before the idle reading, 3000), BENCH_FANOUT_OPEN_TIMEOUT_MS
 * (120000), BENCH_OUTPUT (bench-results/fan-out.json), BENCH_SKIP_BUILD=1, BENCH_GATEWAY_NODE_ARGS
 * (extra node flags for the gateway, diagnostics only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"),
 * BENCH_FLOOR_NODE_ARGS (the same for the floor).
 *
 * Exit 0 whatever the figures; 1 when the run is broken (a process did not start, a client was
 * refused, closed, or missed a push, a message broke the contract). Every child is stopped by pid,
 * also on failure.
 */
import { spawnSync, fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { benchRoot, figure, figuresTable, percentile, writeReport, type Figure } from './figures.js';
import { forceGc, GC_PRELOAD } from './forced-gc.js';
import { builtGateway, simulator, startGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../../test/support/process.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { metricSum, parseMetrics, type Metrics } from '../../test/reliability/stack.js';
import { integerAtLeast } from './settings.js';
import { processCpuMs } from './proc-cpu.js';

const root = benchRoot;
const COUNTS = clientCounts(process.env.BENCH_FANOUT_CLIENTS);
const CLIENTS = COUNTS.at(-1)!;
const PUSHES = integerAtLeast('BENCH_FANOUT_PUSHES', 20);
const WORKERS = Math.min(integerAtLeast('BENCH_FANOUT_WORKERS', 2), COUNTS[0]!);
const CONCURRENCY = integerAtLeast('BENCH_FANOUT_CONCURRENCY', 50);
const GAP_MS = integerAtLeast('BENCH_FANOUT_GAP_MS', 300, 0);
const IDLE_MS = integerAtLeast('BENCH_FANOUT_IDLE_MS', 3000, 0);
const OPEN_TIMEOUT_MS = integerAtLeast('BENCH_FANOUT_OPEN_TIMEOUT_MS', 120_000);
const DELIVERY_TIMEOUT_MS = integerAtLeast('BENCH_FANOUT_DELIVERY_TIMEOUT_MS', 15_000);
const OUTPUT = resolve(root, process.env.BENCH_OUTPUT ?? 'bench-results/fan-out.json');
const SKIP_BUILD = process.env.BENCH_SKIP_BUILD === '1';
/** Extra node flags for the gateway, diagnostics only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"); recorded in the report. */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
/** The same for the floor (e.g. its own --cpu-prof, to compare the two loops). */
const FLOOR_NODE_ARGS = (process.env.BENCH_FLOOR_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
/** Every client of a sample this size checks every message it gets against asyncapi.yaml. */
const SAMPLE_EVERY = Math.max(1, Math.floor(CLIENTS / 50));
const SYMBOL = 'XBTUSDTM';
const SIM = { SIM_KEY: 'bench-key', SIM_SECRET: 'bench-secret-0123456789abcdef', SIM_PASSPHRASE: 'bench-passphrase' };
const KiB = 1024;

/** BENCH_FANOUT_CLIENTS: one or more client counts, comma-separated, run in ascending order. */
function clientCounts(raw: string | undefined): number[] {
  const counts = (raw === undefined || raw.trim() === '' ? '5000,10000' : raw).split(',').map((part) => Number(part.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_FANOUT_CLIENTS must be integers ≥ 1, comma-separated, got ${raw}`);
  return [...new Set(counts)].sort((a, b) => a - b);
}

const problems: string[] = [];
const startedAt = new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`[fan-out] ${text}\n`);

// ---------------------------------------------------------------------------------------------
// Children

interface Child {
  child: ChildProcess;
  pid: number;
  /** Resolves with the next message of `type` (listeners are one-shot). */
  next<T = any>(type: string, timeoutMs: number): Promise<T>;
  on(type: string, listener: (message: any) => void): void;
  exited: Promise<void>;
}

type Worker = Child;
const workers: Worker[] = [];
const children: Child[] = [];

function startWorker(): Promise<Worker> {
  return startChild('fan-out-worker.ts', [], 'started').then(([worker]) => {
    workers.push(worker);
    return worker;
  });
}

/** The floor, a bare ws server (fan-out-floor.ts); resolves with its port. */
function startFloor(): Promise<[Child, { port: number }]> {
  return startChild('fan-out-floor.ts', ['--expose-gc', ...FLOOR_NODE_ARGS], 'listening');
}

function startChild(script: string, nodeArgs: string[], readyType: string): Promise<[Child, any]> {
  const child = fork(join(root, 'scripts/bench', script), [], {
    cwd: root,
    execArgv: [...nodeArgs, '--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? root },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (child.pid === undefined) throw new Error(`could not fork ${script}`);
  const listeners = new Map<string, Set<(message: any) => void>>();
  child.on('message', (raw) => {
    const message = raw as { type: string };
    for (const listener of [...(listeners.get(message.type) ?? [])]) listener(message);
  });
  const on = (type: string, listener: (message: any) => void) => {
    let set = listeners.get(type);
    if (!set) listeners.set(type, (set = new Set()));
    set.add(listener);
  };
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const worker: Child = {
    child,
    pid: child.pid,
    on,
    exited,
    next: (type, timeoutMs) =>
      new Promise((resolveNext, reject) => {
        const timer = setTimeout(() => {
          listeners.get(type)?.delete(listener);
          reject(new Error(`worker ${child.pid}: no '${type}' within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (message: any) => {
          clearTimeout(timer);
          listeners.get(type)?.delete(listener);
          resolveNext(message);
        };
        on(type, listener);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`worker ${child.pid} exited while waiting for '${type}'`));
        });
      }),
  };
  children.push(worker);
  return worker.next(readyType, 30_000).then((message) => [worker, message]);
}

async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map(async (worker) => {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
      if (worker.child.connected) worker.child.send({ type: 'close' });
      const timer = setTimeout(() => {
        try {
          process.kill(worker.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5_000);
      await worker.exited;
      clearTimeout(timer);
    }),
  );
}

let cleaning: Promise<void> | undefined;
const cleanup = () => (cleaning ??= (async () => {
  await stopChildren();
  await stopGatewayProcesses();
})());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every child`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Gateway memory

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  wsClients: number;
}

/** The gateway's /metrics, parsed (test/reliability/stack.ts). */
async function gatewayMetrics(gateway: GatewayProcess): Promise<Metrics> {
  const res = await fetch(`${gateway.baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  return parseMetrics(await res.text());
}

async function gatewayMemory(gateway: GatewayProcess): Promise<Memory> {
  await forceGc(gateway);
  const metrics = await gatewayMetrics(gateway);
  const metric = (name: string) => {
    const value = metrics.get(name);
    if (value === undefined) throw new Error(`GET /metrics: no ${name}`);
    return value;
  };
  return {
    rss: metric('gateway_process_resident_memory_bytes'),
    heapUsed: metric('gateway_nodejs_heap_size_used_bytes'),
    heapTotal: metric('gateway_nodejs_heap_size_total_bytes'),
    external: metric('gateway_nodejs_external_memory_bytes'),
    wsClients: metric('gateway_ws_clients'),
  };
}

/** gateway_ws_broadcast_seconds for position_update: observations, their sum (s), and each bucket's count by `le`. */
async function broadcastTimes(gateway: GatewayProcess): Promise<{ count: number; sum: number; buckets: Map<number, number> }> {
  const metrics = await gatewayMetrics(gateway);
  const labels = { type: 'position_update' };
  const buckets = new Map<number, number>();
  for (const [series, count] of metrics) {
    const le = /^gateway_ws_broadcast_seconds_bucket\{le="([^"]+)",type="position_update"\}$/.exec(series)?.[1];
    if (le !== undefined) buckets.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count);
  }
  return { count: metricSum(metrics, 'gateway_ws_broadcast_seconds_count', labels), sum: metricSum(metrics, 'gateway_ws_broadcast_seconds_sum', labels), buckets };
}

/** Three readings a little apart; the median of each field, so one stray allocation does not decide. */
async function settledMemory(gateway: GatewayProcess): Promise<Memory & { readings: Memory[] }> {
  const readings: Memory[] = [];
  for (let i = 0; i < 3; i += 1) {
    if (i > 0) await sleep(300);
    readings.push(await gatewayMemory(gateway));
  }
  const median = (key: keyof Memory) => [...readings.map((r) => r[key])].sort((a, b) => a - b)[1]!;
  return { rss: median('rss'), heapUsed: median('heapUsed'), heapTotal: median('heapTotal'), external: median('external'), wsClients: median('wsClients'), readings };
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function json(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // left as text
  }
  return { status: res.status, body: parsed };
}

/** Checks that process.hrtime.bigint() is one clock across processes: worker readings fall between the bench's own before and after. */
async function checkClock(): Promise<{ consistent: boolean; roundTrips: number; maxRoundTripMs: number }> {
  let consistent = true;
  let roundTrips = 0;
  let maxRoundTrip = 0n;
  for (const worker of workers) {
    for (let i = 0; i < 5; i += 1) {
      const answer = worker.next<{ ns: string }>('clock', 10_000);
      const before = process.hrtime.bigint();
      worker.child.send({ type: 'clock' });
      const { ns } = await answer;
      const after = process.hrtime.bigint();
      const theirs = BigInt(ns);
      if (theirs < before || theirs > after) consistent = false;
      roundTrips += 1;
      if (after - before > maxRoundTrip) maxRoundTrip = after - before;
    }
  }
  return { consistent, roundTrips, maxRoundTripMs: Number(maxRoundTrip) / 1e6 };
}

// ---------------------------------------------------------------------------------------------
// The floor's memory

interface FloorMemory {
  rss: number;
  heapUsed: number;
  external: number;
  clients: number;
}

/** The floor's memory after two full GCs, the median of three readings like the gateway's. */
async function floorMemory(floor: Child): Promise<FloorMemory> {
  const readings: FloorMemory[] = [];
  for (let i = 0; i < 3; i += 1) {
    if (i > 0) await sleep(300);
    const reading = floor.next<FloorMemory & { gc: boolean }>('memory', 10_000);
    floor.child.send({ type: 'memory' });
    const memory = await reading;
    if (!memory.gc) throw new Error('the floor runs without --expose-gc');
    readings.push(memory);
  }
  const median = (key: keyof FloorMemory) => [...readings.map((r) => r[key])].sort((a, b) => a - b)[1]!;
  return { rss: median('rss'), heapUsed: median('heapUsed'), external: median('external'), clients: median('clients') };
}

// ---------------------------------------------------------------------------------------------
// The run

type Target = 'gateway' | 'floor';
type Opened = { target: Target; opened: number; ready: number; failedToOpen: number; openMs: number; readyMs: number };

interface StageResult {
  clients: number;
  ready: Record<Target, number>;
  memory: { from: number; fromReading: { gateway: Memory; floor: FloorMemory }; at: { gateway: Memory; floor: FloorMemory } };
  pushes: Array<{ price: number; gateway: { t0: bigint; answeredMs: number; complete: boolean; loopMs: number | null }; floor: { t0: bigint; complete: boolean; loopMs: number; bytes: number }; gatewayFrameBytes: number }>;
  broadcasts: number;
  broadcastMeanMs: number | null;
  broadcastMaxBucketS: number | undefined;
  floorLoopMeanMs: number | null;
  cpuPerPush: { gateway: number | null; floor: number | null; simulator: number | null; workers: (number | null)[] };
}

async function run(): Promise<number> {
  if (!SKIP_BUILD) {
    log('npm run build');
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status})`);
  }

  const sim = await startGatewayProcess({
    args: simulator(),
    env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', SIM_LOG_LEVEL: 'warn', ...SIM },
  });
  const gateway = await startGatewayProcess({
    args: [...GC_PRELOAD, ...GATEWAY_NODE_ARGS, ...builtGateway()],
    env: {
      FEATURE_FUTURES: 'true',
      ...gatewayEnvForSimulator(sim.baseUrl, SIM),
      // Every benchmark client comes from 127.0.0.1: one caller, for the inbound limit (upgrades
      // count in it) and the per-client socket cap alike.
      RATE_LIMIT_MAX: '0',
      WS_MAX_CONNECTIONS_PER_CLIENT: '100000',
    },
  });
  const [floor, { port: floorPort }] = await startFloor();
  log(`simulator pid ${sim.pid} at ${sim.baseUrl}; gateway pid ${gateway.pid} at ${gateway.baseUrl}; floor pid ${floor.pid} on port ${floorPort}`);
  const simCall = (method: string, path: string, body?: unknown) => json(method, `${sim.baseUrl}${path}`, body);

  // One position, held still: every later mark move reaches every client as one position_update.
  const base = (await simCall('GET', '/sim/state')).body?.markets?.[SYMBOL]?.markPrice;
  if (typeof base !== 'number') throw new Error(`the simulator's state has no ${SYMBOL} mark`);
  await simCall('POST', '/sim/mark', { symbol: SYMBOL, price: base, hold: true });
  const order = await json('POST', `${gateway.baseUrl}/api/futures/orders`, { symbol: SYMBOL, side: 'BUY', type: 'MARKET', qty: 1 });
  if (order.status !== 201) throw new Error(`opening the ${SYMBOL} position answered ${order.status} ${JSON.stringify(order.body)}`);

  const memoryBefore = { gateway: await settledMemory(gateway), floor: await floorMemory(floor) };
  log(`before any client: gateway RSS ${(memoryBefore.gateway.rss / 2 ** 20).toFixed(1)} MiB, floor RSS ${(memoryBefore.floor.rss / 2 ** 20).toFixed(1)} MiB`);

  // KuCoin REST calls the gateway makes while the clients connect (the simulator counts them per route).
  const simRequests = async (): Promise<Record<string, number>> => (await simCall('GET', '/sim/state')).body?.requests ?? {};
  const requestsBefore = await simRequests();

  // Clients.
  await Promise.all(Array.from({ length: WORKERS }, () => startWorker()));
  const clock = await checkClock();
  if (!clock.consistent) problems.push('process.hrtime.bigint() is not one clock across processes here: delays are not comparable');
  /** Per `target|price`: the workers whose every client of that target has it. */
  const delivered = new Map<string, Set<number>>();
  const waiters = new Map<string, () => void>();
  /** Per worker and target: its clients live, as it last said. */
  const liveIn = workers.map(() => ({ gateway: 0, floor: 0 }));
  const expecting = (target: Target) => workers.filter((_, w) => liveIn[w]![target] > 0).length;
  workers.forEach((worker, w) =>
    worker.on('delivered', ({ target, price }: { target: Target; price: number }) => {
      const key = `${target}|${price}`;
      let set = delivered.get(key);
      if (!set) delivered.set(key, (set = new Set()));
      set.add(w);
      if (set.size === expecting(target)) waiters.get(key)?.();
    }),
  );
  for (const worker of workers) worker.on('progress', ({ target, opened, ready }) => log(`worker ${worker.pid}: ${target} ${opened} open, ${ready} live`));
  /** The gateway's frames as a sampled client got them (unstamped), for the floor to send the same. */
  let greeting: unknown[] | undefined;
  let floorGreets = false;
  const greeted = new Promise<void>((r) => workers.forEach((worker) => worker.on('greeting', ({ messages }: { messages: unknown[] }) => {
    greeting ??= messages;
    r();
  })));
  const frames = new Map<number, { message: unknown; bytes: number }>();
  workers.forEach((worker) => worker.on('frame', ({ price, message, bytes }: { price: number; message: unknown; bytes: number }) => {
    if (!frames.has(price)) frames.set(price, { message, bytes });
  }));

  const urls: Record<Target, string> = { gateway: `${gateway.wsUrl}/ws/futures`, floor: `ws://127.0.0.1:${floorPort}/` };
  const counts: Record<Target, number> = { gateway: 0, floor: 0 };
  const openLog: Array<{ target: Target; to: number; seconds: number }> = [];
  /** Opens clients of `target` up to `to` in all, split evenly across the workers; every one must get live. */
  const openTo = async (target: Target, to: number): Promise<void> => {
    const from = counts[target];
    if (to <= from) return;
    const chunk = Math.ceil((to - from) / WORKERS);
    const started = performance.now();
    const answers = await Promise.all(
      workers.map((worker, w) => {
        const first = from + w * chunk;
        const count = Math.max(0, Math.min(chunk, to - first));
        const done = worker.next<Opened>('opened', OPEN_TIMEOUT_MS * 2 + 30_000);
        worker.child.send({ type: 'open', target, url: urls[target], first, count, concurrency: CONCURRENCY, sampleEvery: SAMPLE_EVERY, pushSymbol: SYMBOL, timeoutMs: OPEN_TIMEOUT_MS });
        return done;
      }),
    );
    answers.forEach((answer, w) => (liveIn[w]![target] = answer.ready));
    counts[target] = to;
    const ready = answers.reduce((sum, a) => sum + a.ready, 0);
    const seconds = (performance.now() - started) / 1000;
    openLog.push({ target, to, seconds });
    log(`${target}: ${ready} of ${to} clients live (${seconds.toFixed(1)} s for ${to - from})`);
    if (ready !== to) problems.push(`${target}: ${to - ready} of ${to} clients did not get live (refused, closed or no snapshots)`);
  };
  /** Both servers' memory with `n` clients each, idle. */
  const readings = new Map<number, { gateway: Memory; floor: FloorMemory }>([[0, memoryBefore]]);
  const openBoth = async (n: number): Promise<void> => {
    await openTo('gateway', n);
    if (!floorGreets) {
      await Promise.race([greeted, sleep(10_000)]);
      if (greeting === undefined) throw new Error('no sampled gateway client reported its greeting');
      floor.child.send({ type: 'greeting', messages: greeting });
      floorGreets = true;
      log(`the floor greets with the gateway's ${greeting.map((m) => (m as { type: string }).type).join(', ')}`);
    }
    await openTo('floor', n);
    await sleep(IDLE_MS);
    const memory = { gateway: await settledMemory(gateway), floor: await floorMemory(floor) };
    if (memory.gateway.wsClients !== n) problems.push(`gateway_ws_clients is ${memory.gateway.wsClients} with ${n} clients opened`);
    if (memory.floor.clients !== n) problems.push(`the floor holds ${memory.floor.clients} clients with ${n} opened`);
    readings.set(n, memory);
    log(`${n} idle clients: gateway RSS ${(memory.gateway.rss / 2 ** 20).toFixed(1)} MiB, heap ${(memory.gateway.heapUsed / 2 ** 20).toFixed(1)} MiB; floor RSS ${(memory.floor.rss / 2 ** 20).toFixed(1)} MiB`);
  };

  /** Resolves true once every worker holding clients of `target` says they all have `price`. */
  const arrival = (target: Target, price: number) => {
    const key = `${target}|${price}`;
    let release: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (release = r));
    waiters.set(key, release);
    if ((delivered.get(key)?.size ?? 0) === expecting(target)) release();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([arrived.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), DELIVERY_TIMEOUT_MS)))]).finally(() => {
      clearTimeout(timer);
      waiters.delete(key);
    });
  };

  const cpuPids = { gateway: gateway.pid, floor: floor.pid, simulator: sim.pid, workers: workers.map((w) => w.pid) };
  const cpuOf = () => ({ gateway: processCpuMs(cpuPids.gateway), floor: processCpuMs(cpuPids.floor), simulator: processCpuMs(cpuPids.simulator), workers: cpuPids.workers.map(processCpuMs) });
  const stages: StageResult[] = [];
  let requestsAfterConnect: Record<string, number> | undefined;
  let markStep = 0;
  for (const n of COUNTS) {
    const previous = counts.gateway;
    // The slope from N/2 (or the last count, when that is past N/2) to N: both readings past start-up.
    if (Math.floor(n / 2) > previous) await openBoth(Math.floor(n / 2));
    await openBoth(n);
    requestsAfterConnect ??= await simRequests();
    const from = [...readings.keys()].filter((k) => k < n).sort((a, b) => a - b).at(-1)!;

    const cpuBefore = cpuOf();
    const broadcastBefore = await broadcastTimes(gateway);
    const pushes: StageResult['pushes'] = [];
    for (let i = 0; i < PUSHES; i += 1) {
      markStep += 1;
      const wanted = base + markStep * 5;
      const loopsBefore = await broadcastTimes(gateway);
      const t0 = process.hrtime.bigint();
      const answer = await simCall('POST', '/sim/mark', { symbol: SYMBOL, price: wanted, hold: true });
      const answeredMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const price = answer.body?.markPrice;
      if (answer.status !== 200 || typeof price !== 'number') throw new Error(`POST /sim/mark answered ${answer.status} ${JSON.stringify(answer.body)}`);
      const gatewayComplete = await arrival('gateway', price);
      if (!gatewayComplete) log(`push ${i + 1} (mark ${price}) did not reach every gateway client within ${DELIVERY_TIMEOUT_MS} ms`);
      // This push's loop alone (one broadcast), so a loop preempted by other work is one sample, not the mean.
      const loopsAfter = await broadcastTimes(gateway);
      const gatewayLoopMs = loopsAfter.count - loopsBefore.count === 1 ? (loopsAfter.sum - loopsBefore.sum) * 1000 : null;
      await sleep(GAP_MS);

      // The same frame from the floor (a sampled client's copy: sent before its worker said delivered).
      const frame = frames.get(price);
      if (frame === undefined) throw new Error(`no sampled client forwarded the gateway's frame for mark ${price}`);
      const pushed = floor.next<{ loopMs: number; clients: number; bytes: number }>('pushed', DELIVERY_TIMEOUT_MS);
      const floorArrival = arrival('floor', price);
      const floorT0 = process.hrtime.bigint();
      floor.child.send({ type: 'push', message: frame.message });
      const [floorComplete, floorLoop] = await Promise.all([floorArrival, pushed]);
      if (!floorComplete) log(`push ${i + 1} (mark ${price}) did not reach every floor client within ${DELIVERY_TIMEOUT_MS} ms`);
      if (floorLoop.clients !== n) problems.push(`the floor's push ${i + 1} went to ${floorLoop.clients} clients of ${n}`);
      pushes.push({ price, gateway: { t0, answeredMs, complete: gatewayComplete, loopMs: gatewayLoopMs }, floor: { t0: floorT0, complete: floorComplete, loopMs: floorLoop.loopMs, bytes: floorLoop.bytes }, gatewayFrameBytes: frame.bytes });
      await sleep(GAP_MS);
    }
    const cpuAfter = cpuOf();
    // The gateway's own part of each push: its loop handing the message to every client's socket.
    const broadcastAfter = await broadcastTimes(gateway);
    const broadcasts = broadcastAfter.count - broadcastBefore.count;
    if (broadcasts !== PUSHES) problems.push(`${n} clients: gateway_ws_broadcast_seconds counted ${broadcasts} position_update broadcasts for ${PUSHES} pushes`);
    const perPush = (after: number | null | undefined, before: number | null | undefined) => (after == null || before == null ? null : (after - before) / PUSHES);
    stages.push({
      clients: n,
      ready: { gateway: liveIn.reduce((sum, l) => sum + l.gateway, 0), floor: liveIn.reduce((sum, l) => sum + l.floor, 0) },
      memory: { from, fromReading: readings.get(from)!, at: readings.get(n)! },
      pushes,
      broadcasts,
      broadcastMeanMs: broadcasts > 0 ? ((broadcastAfter.sum - broadcastBefore.sum) / broadcasts) * 1000 : null,
      broadcastMaxBucketS: [...broadcastAfter.buckets].sort(([a], [b]) => a - b).find(([le, count]) => count - (broadcastBefore.buckets.get(le) ?? 0) === broadcasts)?.[0],
      floorLoopMeanMs: pushes.length > 0 ? pushes.reduce((sum, p) => sum + p.floor.loopMs, 0) / pushes.length : null,
      cpuPerPush: {
        gateway: perPush(cpuAfter.gateway, cpuBefore.gateway),
        floor: perPush(cpuAfter.floor, cpuBefore.floor),
        simulator: perPush(cpuAfter.simulator, cpuBefore.simulator),
        workers: cpuAfter.workers.map((after, i) => perPush(after, cpuBefore.workers[i])),
      },
    });
    log(`${n} clients: gateway loop ${stages.at(-1)!.broadcastMeanMs?.toFixed(1)} ms, floor loop ${stages.at(-1)!.floorLoopMeanMs?.toFixed(1)} ms per push`);
  }

  const connectCalls: Record<string, number> = {};
  for (const [route, count] of Object.entries(requestsAfterConnect ?? {})) if (count - (requestsBefore[route] ?? 0) > 0) connectCalls[route] = count - (requestsBefore[route] ?? 0);
  const connectCallsTotal = Object.values(connectCalls).reduce((sum, count) => sum + count, 0);

  // Reports from the workers.
  const reports = await Promise.all(workers.map((worker) => {
    const report = worker.next<any>('report', 30_000);
    worker.child.send({ type: 'report' });
    return report;
  }));
  const delaysOf = (target: Target, price: number, t0: bigint) =>
    reports.flatMap((report) => ((report.receipts[target][String(price)] ?? []) as string[]).map((ns) => Number(BigInt(ns) - t0) / 1e6));
  let missed = 0;
  for (const report of reports) {
    if (report.problemCount > 0) problems.push(`worker: ${report.problemCount} client problems, e.g. ${report.problems.slice(0, 5).join(' | ')}`);
  }
  const sampledChecked = reports.reduce((sum, r) => sum + r.sampledChecked, 0);
  const sampledClients = reports.reduce((sum, r) => sum + r.sampledClients, 0);
  if (sampledChecked === 0) problems.push('no message was checked against asyncapi.yaml');
  const downClients = reports.reduce((sum, r) => sum + r.downClients, 0);
  const downReasons: Record<string, number> = {};
  for (const r of reports) for (const [reason, count] of Object.entries(r.downReasons as Record<string, number>)) downReasons[reason] = (downReasons[reason] ?? 0) + count;

  const round = (value: number | null | undefined, digits = 2) => (value === null || value === undefined ? null : Number(value.toFixed(digits)));
  const figures: Figure[] = [];
  const stageReports = stages.map((stage) => {
    const n = stage.clients;
    const delays = { gateway: [] as number[], floor: [] as number[] };
    const last = { gateway: [] as number[], floor: [] as number[] };
    for (const push of stage.pushes) {
      for (const target of ['gateway', 'floor'] as const) {
        const d = delaysOf(target, push.price, push[target].t0);
        missed += stage.ready[target] - d.length;
        delays[target].push(...d);
        if (d.length > 0) last[target].push(Math.max(...d));
      }
    }
    for (const list of [delays.gateway, delays.floor, last.gateway, last.floor]) list.sort((a, b) => a - b);
    const { from, fromReading, at } = stage.memory;
    const slope = (key: 'rss' | 'heapUsed', target: Target) => (n > from ? (at[target][key] - fromReading[target][key]) / (n - from) / KiB : null);
    const fromZero = (key: 'rss' | 'heapUsed', target: Target) => (at[target][key] - memoryBefore[target][key]) / n / KiB;
    const meanRatio = stage.broadcastMeanMs !== null && stage.floorLoopMeanMs ? stage.broadcastMeanMs / stage.floorLoopMeanMs : null;
    // Judged on medians: with the cores shared, a loop of hundreds of ms is sometimes preempted, and one such push moves a mean by a third.
    const gatewayLoops = stage.pushes.map((p) => p.gateway.loopMs).filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
    const floorLoops = stage.pushes.map((p) => p.floor.loopMs).sort((a, b) => a - b);
    const gatewayMedian = percentile(gatewayLoops, 50);
    const floorMedian = percentile(floorLoops, 50);
    const ratio = gatewayMedian !== null && floorMedian ? gatewayMedian / floorMedian : null;
    if (gatewayLoops.length !== stage.pushes.length) problems.push(`${n} clients: ${stage.pushes.length - gatewayLoops.length} pushes without exactly one timed gateway broadcast`);
    const tag = `${n} clients`;
    const frameBytes = stage.pushes.map((p) => p.gatewayFrameBytes);
    const floorBytes = stage.pushes.map((p) => p.floor.bytes);
    figures.push(
      figure(`${tag}: clients live (greeted and snapshotted), gateway / floor`, stage.ready.gateway, 'clients', { op: '=', value: n }, { floor: stage.ready.floor, note: `opened from ${WORKERS} worker processes` }),
      figure(`${tag}: RSS per idle client, from ${from} to ${n} clients`, round(slope('rss', 'gateway')), 'KiB', { op: '<', value: 8 }, {
        floor: round(slope('rss', 'floor')),
        note: 'judged on this one: resident memory (JS heap, Buffers, ws/libuv natives) after a forced GC, added by the clients from the earlier reading to this one over their count; both readings past start-up',
      }),
      figure(`${tag}: RSS per idle client, from no client to ${n}`, round(fromZero('rss', 'gateway')), 'KiB', null, {
        floor: round(fromZero('rss', 'floor')),
        note: 'biased low: pages the start-up used and freed are reused by the clients without growing RSS',
      }),
      figure(`${tag}: JS heap used per idle client, from ${from} to ${n}`, round(slope('heapUsed', 'gateway')), 'KiB', null, { floor: round(slope('heapUsed', 'floor')), note: 'after a forced GC; JS objects only (no socket natives)' }),
      figure(`${tag}: broadcast loop per push, mean`, round(stage.broadcastMeanMs, 1), 'ms', null, {
        floor: round(stage.floorLoopMeanMs, 1),
        note: `gateway: gateway_ws_broadcast_seconds{type="position_update"}, its loop writing the frame to every client's socket (every one of ${stage.broadcasts} within ${stage.broadcastMaxBucketS === undefined ? '?' : stage.broadcastMaxBucketS * 1000} ms, bucket bound); floor: its ws.send loop, performance.now()`,
      }),
      figure(`${tag}: broadcast loop, gateway / floor`, round(ratio), '×', { op: '<=', value: 1.2 }, {
        floor: 1,
        note: `medians over ${stage.pushes.length} pushes each, interleaved: ${round(gatewayMedian, 1)} against ${round(floorMedian, 1)} ms; the means' ratio ${round(meanRatio)}`,
      }),
      figure(`${tag}: push delay to the last client, p99 over pushes`, round(percentile(last.gateway, 99)), 'ms', { op: '<', value: 100 }, {
        floor: round(percentile(last.floor, 99)),
        note: `gateway: from just before POST /sim/mark (simulator, KuCoin stream hop, the feed, the loop); floor: from just before the IPC message; simulator, gateway, floor and ${WORKERS} client processes share ${cpus().length} cores`,
      }),
      figure(`${tag}: push delay p50, every delivery`, round(percentile(delays.gateway, 50)), 'ms', null, { floor: round(percentile(delays.floor, 50)), note: `${delays.gateway.length} + ${delays.floor.length} deliveries` }),
      figure(`${tag}: CPU per push`, round(stage.cpuPerPush.gateway, 1), 'ms', null, {
        floor: round(stage.cpuPerPush.floor, 1),
        note: `user+system over the push phase / pushes (/proc, 10 ms ticks); client workers ${stage.cpuPerPush.workers.map((w) => round(w, 1)).join(' + ')} ms, simulator ${round(stage.cpuPerPush.simulator, 1)} ms (both servers' pushes)`,
      }),
      figure(`${tag}: frame size of a push`, frameBytes.length > 0 ? Math.max(...frameBytes) : null, 'bytes', null, {
        floor: floorBytes.length > 0 ? Math.max(...floorBytes) : null,
        note: `largest; smallest ${frameBytes.length > 0 ? Math.min(...frameBytes) : '-'} / ${floorBytes.length > 0 ? Math.min(...floorBytes) : '-'}`,
      }),
    );
    return {
      clients: n,
      ready: stage.ready,
      memory: { from, fromReading, at },
      broadcasts: stage.broadcasts,
      gatewayLoopMeanMs: stage.broadcastMeanMs,
      floorLoopMeanMs: stage.floorLoopMeanMs,
      floorLoopsMs: stage.pushes.map((p) => round(p.floor.loopMs, 2)),
      ratio,
      meanRatio,
      gatewayLoopsMs: stage.pushes.map((p) => round(p.gateway.loopMs, 2)),
      cpuPerPushMs: stage.cpuPerPush,
      pushes: stage.pushes.map((p) => ({
        price: p.price,
        controlAnswerMs: round(p.gateway.answeredMs),
        gatewayComplete: p.gateway.complete,
        floorComplete: p.floor.complete,
        gatewayFrameBytes: p.gatewayFrameBytes,
        floorFrameBytes: p.floor.bytes,
      })),
    };
  });
  if (missed > 0) problems.push(`${missed} deliveries missed`);
  figures.push(
    figure('clients told upstream_status down while connecting', downClients, 'clients', { op: '=', value: 0 }, {
      note: downClients === 0 ? 'none' : `they waited for a retry, then got up and snapshots; why: ${Object.keys(downReasons).slice(0, 3).join(' / ')}`,
    }),
    figure('KuCoin REST calls while the gateway clients connected', connectCallsTotal, 'calls', null, {
      note: `up to ${COUNTS[0]} clients; ${Object.entries(connectCalls).map(([route, count]) => `${route} ${count}`).join(', ')}`,
    }),
    figure('deliveries missed', missed, 'deliveries', { op: '=', value: 0 }),
  );

  const report = {
    benchmark: 'fan-out',
    title: 'Fan-out: the gateway beside a bare ws server, memory per idle client and the broadcast loop',
    startedAt,
    finishedAt: new Date().toISOString(),
    settings: {
      clients: COUNTS,
      pushes: PUSHES,
      workers: WORKERS,
      handshakesInFlightPerWorker: CONCURRENCY,
      gapMs: GAP_MS,
      idleMs: IDLE_MS,
      sampleEvery: SAMPLE_EVERY,
      pushSymbol: SYMBOL,
      gatewayNodeArgs: ['--expose-gc', '--import', 'scripts/bench/gc-on-signal.mjs', ...GATEWAY_NODE_ARGS],
      gatewayLimitsChanged: 'RATE_LIMIT_MAX=0, WS_MAX_CONNECTIONS_PER_CLIENT=100000',
      gatewayLimitsNote:
        'Every client comes from 127.0.0.1, one caller: its /ws/futures upgrades count in its inbound limit and its open sockets against WS_MAX_CONNECTIONS_PER_CLIENT, so both are lifted. ' +
        'Otherwise the gateway runs with its defaults (LOG_LEVEL info, WS_DEFAULT_SYMBOLS XBTUSDTM,ETHUSDTM), no GATEWAY_API_KEYS (loopback).',
      floor: 'scripts/bench/fan-out-floor.ts: a bare ws WebSocketServer, the gateway\'s greeting and push frames re-stamped per client, one ws.send loop',
      simulator: 'SIM_MARK_INTERVAL_MS and SIM_FUNDING_INTERVAL_MS 3600000 so the only pushes are the benchmark\'s',
    },
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version },
    figures,
    problems,
    memory: { before: memoryBefore, readings: Object.fromEntries(readings), method: 'gateway: SIGUSR2 → global.gc() twice (preload), then GET /metrics; floor: global.gc() twice, process.memoryUsage(); median of 3 readings 300 ms apart' },
    clock: { ...clock, note: 'process.hrtime.bigint() is CLOCK_MONOTONIC on Linux; each worker\'s reading fell between the bench\'s own readings just before and after the IPC round trip' },
    open: openLog,
    stages: stageReports,
    contract: { sampledClients, messagesChecked: sampledChecked },
    otherLiveMessages: reports.map((r) => r.otherLive),
    upstreamStatus: { messages: reports.map((r) => r.upstreamStatus), clientsToldDown: downClients, reasons: downReasons },
    kucoinCallsWhileConnecting: connectCalls,
    workerRss: reports.map((r) => r.memory),
  };
  const path = writeReport(report, OUTPUT);
  console.log(`\nFan-out: ${COUNTS.join(' then ')} clients, ${PUSHES} pushes each, gateway beside a bare ws floor (${cpus().length} cores shared by simulator, gateway, floor and ${WORKERS} client processes)\n`);
  console.log(figuresTable(figures));
  console.log(problems.length === 0 ? '\nno problems' : `\nPROBLEMS:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  console.log(`\nreport: ${path}`);
  return problems.length === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await run();
} catch (error) {
  log(`broken: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  problems.push(`broken: ${error instanceof Error ? error.message : String(error)}`);
  writeReport({ benchmark: 'fan-out', title: 'Fan-out (broken run)', startedAt, finishedAt: new Date().toISOString(), settings: { clients: COUNTS, pushes: PUSHES }, figures: [], problems }, OUTPUT);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
