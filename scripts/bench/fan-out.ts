/**
 * Benchmark 3 of issue 6, "fan-out": many /ws/futures clients on one gateway.
 *
 *   npx tsx scripts/bench/fan-out.ts                      5,000 clients, 20 pushes
 *   BENCH_FANOUT_CLIENTS=40 BENCH_FANOUT_PUSHES=3 BENCH_SKIP_BUILD=1 npx tsx scripts/bench/fan-out.ts
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
 *    gets against asyncapi.yaml.
 * 5. Pushes: BENCH_FANOUT_PUSHES times, POST /sim/mark with a new price; the delay of a delivery is
 *    the client's receipt time minus the time taken just before that control call, both
 *    process.hrtime.bigint() (CLOCK_MONOTONIC, one clock for every process of the machine; checked
 *    at the start by a round trip to each worker). The next push waits until every client has the
 *    last one, plus BENCH_FANOUT_GAP_MS. The gateway's own part, its loop writing the frame to every
 *    client's socket, is read from its gateway_ws_broadcast_seconds before and after the pushes.
 *
 * Environment: BENCH_FANOUT_CLIENTS (5000), BENCH_FANOUT_PUSHES (20), BENCH_FANOUT_WORKERS (2),
 * BENCH_FANOUT_CONCURRENCY (handshakes in flight per worker, 50), BENCH_FANOUT_GAP_MS (300),
 * BENCH_FANOUT_IDLE_MS (settle time before the idle reading, 3000), BENCH_FANOUT_OPEN_TIMEOUT_MS
 * (120000), BENCH_OUTPUT (bench-results/fan-out.json), BENCH_SKIP_BUILD=1, BENCH_GATEWAY_NODE_ARGS
 * (extra node flags for the gateway, diagnostics only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
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
const CLIENTS = integerAtLeast('BENCH_FANOUT_CLIENTS', 5000);
const PUSHES = integerAtLeast('BENCH_FANOUT_PUSHES', 20);
const WORKERS = Math.min(integerAtLeast('BENCH_FANOUT_WORKERS', 2), CLIENTS);
const CONCURRENCY = integerAtLeast('BENCH_FANOUT_CONCURRENCY', 50);
const GAP_MS = integerAtLeast('BENCH_FANOUT_GAP_MS', 300, 0);
const IDLE_MS = integerAtLeast('BENCH_FANOUT_IDLE_MS', 3000, 0);
const OPEN_TIMEOUT_MS = integerAtLeast('BENCH_FANOUT_OPEN_TIMEOUT_MS', 120_000);
const DELIVERY_TIMEOUT_MS = integerAtLeast('BENCH_FANOUT_DELIVERY_TIMEOUT_MS', 15_000);
const OUTPUT = resolve(root, process.env.BENCH_OUTPUT ?? 'bench-results/fan-out.json');
const SKIP_BUILD = process.env.BENCH_SKIP_BUILD === '1';
/** Extra node flags for the gateway, diagnostics only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"); recorded in the report. */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
/** Every client of a sample this size checks every message it gets against asyncapi.yaml. */
const SAMPLE_EVERY = Math.max(1, Math.floor(CLIENTS / 50));
const SYMBOL = 'XBTUSDTM';
const SIM = { SIM_KEY: 'bench-key', SIM_SECRET: 'bench-secret-0123456789abcdef', SIM_PASSPHRASE: 'bench-passphrase' };
const KiB = 1024;

const problems: string[] = [];
const startedAt = new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`[fan-out] ${text}\n`);

// ---------------------------------------------------------------------------------------------
// Children

interface Worker {
  child: ChildProcess;
  pid: number;
  /** Resolves with the next message of `type` (listeners are one-shot). */
  next<T = any>(type: string, timeoutMs: number): Promise<T>;
  on(type: string, listener: (message: any) => void): void;
  exited: Promise<void>;
}

const workers: Worker[] = [];

function startWorker(): Promise<Worker> {
  const child = fork(join(root, 'scripts/bench/fan-out-worker.ts'), [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? root },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (child.pid === undefined) throw new Error('could not fork a client worker');
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
  const worker: Worker = {
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
  workers.push(worker);
  return worker.next('started', 30_000).then(() => worker);
}

async function stopWorkers(): Promise<void> {
  await Promise.all(
    workers.map(async (worker) => {
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
  await stopWorkers();
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
// The run

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
  log(`simulator pid ${sim.pid} at ${sim.baseUrl}; gateway pid ${gateway.pid} at ${gateway.baseUrl}`);
  const simCall = (method: string, path: string, body?: unknown) => json(method, `${sim.baseUrl}${path}`, body);

  // One position, held still: every later mark move reaches every client as one position_update.
  const base = (await simCall('GET', '/sim/state')).body?.markets?.[SYMBOL]?.markPrice;
  if (typeof base !== 'number') throw new Error(`the simulator's state has no ${SYMBOL} mark`);
  await simCall('POST', '/sim/mark', { symbol: SYMBOL, price: base, hold: true });
  const order = await json('POST', `${gateway.baseUrl}/api/futures/orders`, { symbol: SYMBOL, side: 'BUY', type: 'MARKET', qty: 1 });
  if (order.status !== 201) throw new Error(`opening the ${SYMBOL} position answered ${order.status} ${JSON.stringify(order.body)}`);

  const memoryBefore = await settledMemory(gateway);
  log(`before any client: RSS ${(memoryBefore.rss / 2 ** 20).toFixed(1)} MiB, heap used ${(memoryBefore.heapUsed / 2 ** 20).toFixed(1)} MiB`);

  // KuCoin REST calls the gateway makes while the clients connect (the simulator counts them per route).
  const simRequests = async (): Promise<Record<string, number>> => (await simCall('GET', '/sim/state')).body?.requests ?? {};
  const requestsBefore = await simRequests();

  // Clients.
  await Promise.all(Array.from({ length: WORKERS }, () => startWorker()));
  const clock = await checkClock();
  if (!clock.consistent) problems.push('process.hrtime.bigint() is not one clock across processes here: delays are not comparable');
  const delivered = new Map<string, Set<number>>();
  const waiters = new Map<string, () => void>();
  workers.forEach((worker, w) =>
    worker.on('delivered', ({ price }: { price: number }) => {
      const key = String(price);
      let set = delivered.get(key);
      if (!set) delivered.set(key, (set = new Set()));
      set.add(w);
      if (set.size === workers.length) waiters.get(key)?.();
    }),
  );
  for (const worker of workers) worker.on('progress', ({ opened, ready }) => log(`worker ${worker.pid}: ${opened} open, ${ready} live`));

  const url = `${gateway.wsUrl}/ws/futures`;
  const share = Math.ceil(CLIENTS / WORKERS);
  type Opened = { opened: number; ready: number; failedToOpen: number; openMs: number; readyMs: number };
  /** Opens each worker's clients from `from` (a fraction of its share) up to `to`; resolves with each worker's totals so far. */
  const openPart = (from: number, to: number) =>
    Promise.all(
      workers.map((worker, w) => {
        const mine = Math.max(0, Math.min(share, CLIENTS - w * share));
        const first = w * share + Math.floor(mine * from);
        const count = Math.floor(mine * to) - Math.floor(mine * from);
        const done = worker.next<Opened>('opened', OPEN_TIMEOUT_MS * 2 + 30_000);
        worker.child.send({ type: 'open', url, first, count, concurrency: CONCURRENCY, sampleEvery: SAMPLE_EVERY, pushSymbol: SYMBOL, timeoutMs: OPEN_TIMEOUT_MS });
        return done;
      }),
    );
  // Half the clients, a reading, then the rest: the slope between the two readings is the cost of
  // a client with the process past its start-up (see the report's memory note).
  const openStarted = performance.now();
  const openedHalf = await openPart(0, 0.5);
  const readyHalf = openedHalf.reduce((sum, o) => sum + o.ready, 0);
  await sleep(IDLE_MS);
  const memoryHalf = await settledMemory(gateway);
  log(`${readyHalf} idle clients: RSS ${(memoryHalf.rss / 2 ** 20).toFixed(1)} MiB, heap used ${(memoryHalf.heapUsed / 2 ** 20).toFixed(1)} MiB`);
  const halfReadingMs = IDLE_MS + 1000;
  const opened = await openPart(0.5, 1);
  const openSeconds = (performance.now() - openStarted - halfReadingMs) / 1000;
  const ready = opened.reduce((sum, o) => sum + o.ready, 0);
  log(`${ready} of ${CLIENTS} clients live after ${openSeconds.toFixed(1)} s`);
  if (ready !== CLIENTS) problems.push(`${CLIENTS - ready} of ${CLIENTS} clients did not get live (refused, closed or no snapshots)`);

  const requestsAfter = await simRequests();
  const connectCalls: Record<string, number> = {};
  for (const [route, n] of Object.entries(requestsAfter)) if (n - (requestsBefore[route] ?? 0) > 0) connectCalls[route] = n - (requestsBefore[route] ?? 0);
  const connectCallsTotal = Object.values(connectCalls).reduce((sum, n) => sum + n, 0);
  log(`KuCoin REST calls while connecting: ${JSON.stringify(connectCalls)}`);

  await sleep(IDLE_MS);
  const memoryIdle = await settledMemory(gateway);
  if (memoryIdle.wsClients !== ready) problems.push(`gateway_ws_clients is ${memoryIdle.wsClients} with ${ready} clients live`);
  log(`${ready} idle clients: RSS ${(memoryIdle.rss / 2 ** 20).toFixed(1)} MiB, heap used ${(memoryIdle.heapUsed / 2 ** 20).toFixed(1)} MiB`);

  // Pushes.
  const cpuPids = { gateway: gateway.pid, simulator: sim.pid, workers: workers.map((w) => w.pid) };
  const cpuOf = () => ({ gateway: processCpuMs(cpuPids.gateway), simulator: processCpuMs(cpuPids.simulator), workers: cpuPids.workers.map(processCpuMs) });
  const cpuBefore = cpuOf();
  const broadcastBefore = await broadcastTimes(gateway);
  const pushes: Array<{ price: number; t0: bigint; answeredMs: number; complete: boolean }> = [];
  for (let i = 0; i < PUSHES; i += 1) {
    const wanted = base + (i + 1) * 5;
    // The waiter is keyed by the price the simulator answers (snapped to its tick); a delivery that
    // beats the answer is already in `delivered`.
    let release: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (release = r));
    const t0 = process.hrtime.bigint();
    const answer = await simCall('POST', '/sim/mark', { symbol: SYMBOL, price: wanted, hold: true });
    const answeredMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const price = answer.body?.markPrice;
    if (answer.status !== 200 || typeof price !== 'number') throw new Error(`POST /sim/mark answered ${answer.status} ${JSON.stringify(answer.body)}`);
    const key = String(price);
    waiters.set(key, release);
    if ((delivered.get(key)?.size ?? 0) === workers.length) release();
    let timer: NodeJS.Timeout | undefined;
    const complete = await Promise.race([arrived.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), DELIVERY_TIMEOUT_MS)))]);
    clearTimeout(timer);
    waiters.delete(key);
    pushes.push({ price, t0, answeredMs, complete });
    if (!complete) log(`push ${i + 1} (mark ${price}) did not reach every client within ${DELIVERY_TIMEOUT_MS} ms`);
    await sleep(GAP_MS);
  }

  const cpuAfter = cpuOf();
  // The gateway's own part of each push: its loop handing the message to every client's socket.
  const broadcastAfter = await broadcastTimes(gateway);
  const broadcasts = broadcastAfter.count - broadcastBefore.count;
  const broadcastMeanMs = broadcasts > 0 ? ((broadcastAfter.sum - broadcastBefore.sum) / broadcasts) * 1000 : null;
  const broadcastMaxBucketS = [...broadcastAfter.buckets]
    .sort(([a], [b]) => a - b)
    .find(([le, n]) => n - (broadcastBefore.buckets.get(le) ?? 0) === broadcasts)?.[0];
  if (broadcasts !== PUSHES) problems.push(`gateway_ws_broadcast_seconds counted ${broadcasts} position_update broadcasts for ${PUSHES} pushes`);
  const perPush = (after: number | null | undefined, before: number | null | undefined) => (after == null || before == null ? null : (after - before) / PUSHES);
  const cpuPerPush = {
    gateway: perPush(cpuAfter.gateway, cpuBefore.gateway),
    simulator: perPush(cpuAfter.simulator, cpuBefore.simulator),
    workers: cpuAfter.workers.map((after, i) => perPush(after, cpuBefore.workers[i])),
  };
  log(`CPU per push: gateway ${cpuPerPush.gateway} ms, simulator ${cpuPerPush.simulator} ms, workers ${cpuPerPush.workers.join(', ')} ms`);

  // Reports from the workers.
  const reports = await Promise.all(workers.map((worker) => {
    const report = worker.next<any>('report', 30_000);
    worker.child.send({ type: 'report' });
    return report;
  }));
  const allDelays: number[] = [];
  const lastPerPush: number[] = [];
  let missed = 0;
  for (const push of pushes) {
    const key = String(push.price);
    const delays = reports.flatMap((report) => ((report.receipts[key] ?? []) as string[]).map((ns) => Number(BigInt(ns) - push.t0) / 1e6));
    missed += ready - delays.length;
    allDelays.push(...delays);
    if (delays.length > 0) lastPerPush.push(Math.max(...delays));
  }
  allDelays.sort((a, b) => a - b);
  const lastSorted = [...lastPerPush].sort((a, b) => a - b);
  if (missed > 0) problems.push(`${missed} deliveries missed (${PUSHES} pushes × ${ready} live clients)`);
  for (const report of reports) {
    if (report.problemCount > 0) problems.push(`worker: ${report.problemCount} client problems, e.g. ${report.problems.slice(0, 5).join(' | ')}`);
  }
  const sampledChecked = reports.reduce((sum, r) => sum + r.sampledChecked, 0);
  const sampledClients = reports.reduce((sum, r) => sum + r.sampledClients, 0);
  if (sampledChecked === 0) problems.push('no message was checked against asyncapi.yaml');

  const downClients = reports.reduce((sum, r) => sum + r.downClients, 0);
  const downReasons: Record<string, number> = {};
  for (const r of reports) for (const [reason, n] of Object.entries(r.downReasons as Record<string, number>)) downReasons[reason] = (downReasons[reason] ?? 0) + n;

  const perClientKiB = (after: number, before: number) => (ready > 0 ? (after - before) / ready / KiB : null);
  const marginalKiB = (after: number, half: number) => (ready - readyHalf > 0 ? (after - half) / (ready - readyHalf) / KiB : null);
  const round = (n: number | null, digits = 2) => (n === null ? null : Number(n.toFixed(digits)));
  const figures: Figure[] = [
    figure('clients live (greeted and snapshotted)', ready, 'clients', { op: '=', value: CLIENTS }, { note: `opened from ${WORKERS} worker processes in ${openSeconds.toFixed(1)} s` }),
    figure('RSS per idle client, from N/2 to N clients', round(marginalKiB(memoryIdle.rss, memoryHalf.rss)), 'KiB', { op: '<', value: 20 }, {
      note: 'judged on this one: resident memory (JS heap, Buffers, ws/libuv natives) after a forced GC, added by the second half of the clients over their count; both readings past start-up',
    }),
    figure('RSS per idle client, from no client to N', round(perClientKiB(memoryIdle.rss, memoryBefore.rss)), 'KiB', null, {
      note: 'as the issue words it; biased low: pages the start-up used and freed are reused by the clients without growing RSS',
    }),
    figure('JS heap used per idle client, from no client to N', round(perClientKiB(memoryIdle.heapUsed, memoryBefore.heapUsed)), 'KiB', null, {
      note: 'after a forced GC; JS objects only (no socket natives); from N/2 to N: ' + String(round(marginalKiB(memoryIdle.heapUsed, memoryHalf.heapUsed))) + ' KiB',
    }),
    figure('external memory per idle client', round(perClientKiB(memoryIdle.external, memoryBefore.external)), 'KiB', null, { note: 'Buffers outside the JS heap (nodejs_external_memory_bytes)' }),
    figure('push delay p50, every delivery', round(percentile(allDelays, 50)), 'ms', null, { note: `${allDelays.length} deliveries: client receipt minus just before POST /sim/mark` }),
    figure('push delay p99, every delivery', round(percentile(allDelays, 99)), 'ms', null),
    figure('push delay to the last client, p50 over pushes', round(percentile(lastSorted, 50)), 'ms', null),
    figure('push delay to the last client, p99 over pushes', round(percentile(lastSorted, 99)), 'ms', { op: '<', value: 100 }, {
      note: `${lastSorted.length} pushes; simulator, gateway and ${WORKERS} client processes share ${cpus().length} cores`,
    }),
    figure("gateway's own fan-out per push, mean", round(broadcastMeanMs, 1), 'ms', null, {
      note: `gateway_ws_broadcast_seconds{type="position_update"}: its loop writing the frame to every client's socket; every one of the ${broadcasts} within ${broadcastMaxBucketS === undefined ? '?' : broadcastMaxBucketS * 1000} ms (bucket bound)`,
    }),
    figure('gateway CPU per push', round(cpuPerPush.gateway, 1), 'ms', null, {
      note: `user+system over the push phase / pushes (/proc, 10 ms ticks); client workers ${cpuPerPush.workers.map((w) => round(w, 1)).join(' + ')} ms, simulator ${round(cpuPerPush.simulator, 1)} ms`,
    }),
    figure('clients told upstream_status down while connecting', downClients, 'clients', { op: '=', value: 0 }, {
      note: downClients === 0 ? 'none' : `they waited for a retry, then got up and snapshots; why: ${Object.keys(downReasons).slice(0, 3).join(' / ')}`,
    }),
    figure('KuCoin REST calls while the clients connected', connectCallsTotal, 'calls', null, {
      note: Object.entries(connectCalls).map(([route, n]) => `${route} ${n}`).join(', '),
    }),
    figure('deliveries missed', missed, 'deliveries', { op: '=', value: 0 }),
  ];

  const report = {
    benchmark: 'fan-out',
    title: 'Fan-out: memory per idle /ws/futures client and push delay to the last client',
    startedAt,
    finishedAt: new Date().toISOString(),
    settings: {
      clients: CLIENTS,
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
      simulator: 'SIM_MARK_INTERVAL_MS and SIM_FUNDING_INTERVAL_MS 3600000 so the only pushes are the benchmark\'s',
    },
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version },
    figures,
    problems,
    memory: { before: memoryBefore, half: { ...memoryHalf, clients: readyHalf }, idle: memoryIdle, method: 'SIGUSR2 → global.gc() twice in the gateway (preload), then GET /metrics; median of 3 readings 300 ms apart' },
    clock: { ...clock, note: 'process.hrtime.bigint() is CLOCK_MONOTONIC on Linux; each worker\'s reading fell between the bench\'s own readings just before and after the IPC round trip' },
    open: opened,
    pushes: pushes.map((push, i) => ({ price: push.price, controlAnswerMs: round(push.answeredMs), lastClientMs: round(lastPerPush[i] ?? null), complete: push.complete })),
    contract: { sampledClients, messagesChecked: sampledChecked },
    otherLiveMessages: reports.map((r) => r.otherLive),
    upstreamStatus: { messages: reports.map((r) => r.upstreamStatus), clientsToldDown: downClients, reasons: downReasons },
    cpuPerPushMs: cpuPerPush,
    gatewayBroadcast: { broadcasts, meanMs: broadcastMeanMs, allWithinMs: broadcastMaxBucketS === undefined ? null : broadcastMaxBucketS * 1000 },
    kucoinCallsWhileConnecting: connectCalls,
    workerRss: reports.map((r) => r.memory),
  };
  const path = writeReport(report, OUTPUT);
  console.log(`\nFan-out: ${ready} clients, ${PUSHES} pushes (${cpus().length} cores shared by simulator, gateway and ${WORKERS} client processes)\n`);
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
  writeReport({ benchmark: 'fan-out', title: 'Fan-out (broken run)', startedAt, finishedAt: new Date().toISOString(), settings: { clients: CLIENTS, pushes: PUSHES }, figures: [], problems }, OUTPUT);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
