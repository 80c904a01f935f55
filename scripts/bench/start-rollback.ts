/**
 * Benchmark 4, "start and rollback" (issue 6): how fast the built gateway (`node dist/main.js`)
 * answers after a start, and how fast each way of turning futures off takes effect.
 *
 *   npx tsx scripts/bench/start-rollback.ts
 *
 * - start: spawn to the first 200 of GET /api/health, polled every ~5 ms (target ≤ 300 ms, issue 16 target 6);
 *   beside it the same for a bare node:http server (the floor: what node itself costs).
 * - flip: PUT /api/admin/futures-switch {enabled:false} sent, to every futures operation of
 *   openapi.yaml answering 404 NOT_FOUND and the /ws/futures upgrade refused (target < 100 ms).
 * - restart: SIGTERM to a gateway with FEATURE_FUTURES=true, to a new one started with
 *   FEATURE_FUTURES=false on the same port answering 404 on every futures operation (target < 5 s).
 *
 * Environment: BENCH_START_RUNS (runs per figure, default 10), BENCH_OUTPUT (default
 * bench-results/start-rollback.json), BENCH_SKIP_BUILD=1 (use dist/ as it is; otherwise the script
 * runs `npm run build` first, so the figures are for the current source).
 *
 * Every gateway runs in an empty temp directory (no `.env`), on 127.0.0.1, with KuCoin pointed at a
 * closed loopback port, so nothing leaves this machine. Exit 0 whatever the speed; non-zero only
 * when something is broken (a process that does not start, a wrong status), listed in `problems`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { benchRoot, figure, figuresTable, percentile, writeReport, type Figure } from './figures.js';
import { integerAtLeast } from './settings.js';
import { freePort, parseJsonLine, spawnGatewayProcess, startGatewayProcess, stopGatewayProcesses, waitForLogEntry, type SpawnedGateway } from '../../test/support/process.js';
import { processAndMainThreadCpuMs } from './proc-cpu.js';

const RUNS = integerAtLeast('BENCH_START_RUNS', 10);
const OUTPUT = resolve(benchRoot, process.env.BENCH_OUTPUT ?? 'bench-results/start-rollback.json');
const GATEWAY_MAIN = join(benchRoot, 'dist', 'main.js');
const ADMIN_KEY = `bench-admin-${randomBytes(12).toString('hex')}`;
/** Caps so that a broken gateway ends the run instead of hanging it. */
const READY_TIMEOUT_MS = 15_000;
const OFF_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const POLL_MS = 5;

// ---------------------------------------------------------------------------------------------
// Processes (test/support/process.ts): every child is tracked by pid and stopped on the way out.

type Child = SpawnedGateway;
const workDir = mkdtempSync(join(tmpdir(), 'bench-start-'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopGatewayProcesses().finally(() => process.exit(130)));
}

const exited = (child: Child): boolean => child.child.exitCode !== null || child.child.signalCode !== null;
const output = (child: Child): string => [...child.stdoutLines(), ...child.stderrLines()].join('\n');

function gatewayEnv(port: number, env: Record<string, string>): Record<string, string> {
  return {
    PORT: String(port),
    // A closed loopback port: no request can reach beyond this machine.
    FUTURES_BASE_URL: 'http://127.0.0.1:9',
    ADMIN_API_KEYS: ADMIN_KEY,
    LOG_LEVEL: 'info',
    ...env,
  };
}

/** The built gateway in an empty directory, a minimal environment (no NODE_OPTIONS), on `port`. */
function spawnGateway(port: number, env: Record<string, string>): Child {
  return spawnGatewayProcess({ args: [GATEWAY_MAIN], cwd: workDir, env: gatewayEnv(port, env) });
}

/** The floor: a bare node:http server that answers 200, started the same way. */
function spawnFloor(port: number): Child {
  const source = `require('node:http').createServer((q, s) => s.end('{}')).listen(${port}, '127.0.0.1')`;
  return spawnGatewayProcess({ args: ['-e', source], cwd: workDir });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// HTTP

interface Answer {
  status: number;
  body: string;
}

/** One request; rejects on a connection error (ECONNREFUSED while a process is not listening yet). */
function call(port: number, method: string, path: string, options: { agent?: Agent | false; body?: unknown; key?: string } = {}): Promise<Answer> {
  return new Promise((done, fail) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: options.agent ?? false,
        timeout: 5_000,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
        res.on('error', fail);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', fail);
    req.end(body);
  });
}

/** The status a /ws/futures upgrade gets: 101 when accepted (the socket is dropped at once). */
function upgradeStatus(port: number): Promise<number> {
  return new Promise((done, fail) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/ws/futures',
      agent: false,
      timeout: 5_000,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      done(res.statusCode ?? 101);
    });
    req.on('response', (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('/ws/futures upgrade timed out')));
    req.on('error', fail);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// What "futures off" means: every futures operation of the contract answers 404 NOT_FOUND.

interface Operation {
  method: string;
  path: string;
}

/** Every method + path under /api/futures in openapi.yaml, path parameters filled with a sample. */
function futuresOperations(): Operation[] {
  const spec = parse(readFileSync(join(benchRoot, 'openapi.yaml'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  const methods = new Set(['get', 'put', 'post', 'delete', 'patch']);
  return Object.entries(spec.paths)
    .filter(([path]) => path.startsWith('/api/futures'))
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => methods.has(m))
        .map((m) => ({ method: m.toUpperCase(), path: path.replace(/\{symbol\}/g, 'XBTUSDTM').replace(/\{[^}]+\}/g, 'bench-sample-1') })),
    );
}
const OPERATIONS = futuresOperations();
const name = (op: Operation) => `${op.method} ${op.path}`;

/** Sends every futures operation (and the upgrade) once, in parallel; the ones not (yet) off, or null on a connection error. */
async function notOff(port: number, agent: Agent | false): Promise<string[] | null> {
  try {
    const answers = await Promise.all(OPERATIONS.map((op) => call(port, op.method, op.path, { agent, ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { body: {} }) })));
    const ws = await upgradeStatus(port);
    return [...answers.flatMap((a, i) => (a.status === 404 ? [] : [`${name(OPERATIONS[i]!)} → ${a.status}`])), ...(ws === 404 ? [] : [`/ws/futures upgrade → ${ws}`])];
  } catch {
    return null;
  }
}

/** Polls until every futures operation answers 404 and the upgrade is refused; ms since `from`. */
async function untilOff(port: number, agent: Agent | false, from: number, server: Child): Promise<number> {
  const deadline = from + OFF_TIMEOUT_MS;
  let last: string[] | null = null;
  for (;;) {
    last = await notOff(port, agent);
    if (last !== null && last.length === 0) return performance.now() - from;
    if (exited(server)) throw new Error(`pid ${server.pid} exited before futures were off:\n${output(server)}`);
    if (performance.now() > deadline) throw new Error(`futures still not off after ${OFF_TIMEOUT_MS} ms: ${last === null ? 'connection refused' : last.join(', ')}`);
    await sleep(POLL_MS);
  }
}

/** While off, each futures route must answer exactly as an unknown route: 404 with code NOT_FOUND. */
async function checkNotFoundBodies(port: number, agent: Agent | false): Promise<string[]> {
  const wrong: string[] = [];
  for (const op of OPERATIONS) {
    const answer = await call(port, op.method, op.path, { agent, ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { body: {} }) });
    const code = parseJsonLine(answer.body)?.code;
    if (answer.status !== 404 || code !== 'NOT_FOUND') wrong.push(`${name(op)} → ${answer.status} ${String(code)}`);
  }
  return wrong;
}

/** With futures on, no futures operation answers 404 (else "all 404" would prove nothing). */
async function checkOn(port: number, agent: Agent | false): Promise<void> {
  const answers = await Promise.all(OPERATIONS.map((op) => call(port, op.method, op.path, { agent, ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { body: {} }) })));
  const off = answers.flatMap((a, i) => (a.status === 404 ? [name(OPERATIONS[i]!)] : []));
  if (off.length > 0) throw new Error(`with futures on, these answered 404: ${off.join(', ')}`);
  const ws = await upgradeStatus(port);
  if (ws !== 101) throw new Error(`with futures on, the /ws/futures upgrade answered ${ws}, not 101`);
}

// ---------------------------------------------------------------------------------------------
// The three measurements

/** Spawn to the first 200 of `path`, polling every ~5 ms from the spawn. */
async function timeToFirst200(start: (port: number) => Child, path: string): Promise<{ ms: number; cpu: ReturnType<typeof processAndMainThreadCpuMs>; child: Child; spawnedAt: number }> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const child = start(port);
  for (;;) {
    const answer = await call(port, 'GET', path).catch(() => null);
    if (answer?.status === 200) return { ms: performance.now() - t0, cpu: processAndMainThreadCpuMs(child.pid), child, spawnedAt };
    if (answer !== null) throw new Error(`GET ${path} answered ${answer.status} while starting`);
    if (exited(child)) throw new Error(`pid ${child.pid} exited before answering:\n${output(child)}`);
    if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`pid ${child.pid} did not answer within ${READY_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

interface CpuSeries {
  process: number[];
  mainThread: number[];
}

async function measureStart(): Promise<{ first200: number[]; listening: number[]; cpu: CpuSeries; floor: number[]; floorCpu: CpuSeries }> {
  const first200: number[] = [];
  const cpu: CpuSeries = { process: [], mainThread: [] };
  const floorCpu: CpuSeries = { process: [], mainThread: [] };
  const add = (series: CpuSeries, sample: ReturnType<typeof processAndMainThreadCpuMs>) => {
    if (sample === null) return;
    series.process.push(sample.process);
    series.mainThread.push(sample.mainThread);
  };
  const listening: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const gw = await timeToFirst200((port) => spawnGateway(port, { FEATURE_FUTURES: 'false' }), '/api/health');
    first200.push(gw.ms);
    add(cpu, gw.cpu);
    // The process's own clock: when it logged `listening`, against when it was spawned (ms resolution).
    const entry = await waitForLogEntry(gw.child, (e) => e.event === 'listening', READY_TIMEOUT_MS);
    listening.push(Date.parse(String(entry.time)) - gw.spawnedAt);
    await gw.child.stop(STOP_GRACE_MS);

    const bare = await timeToFirst200(spawnFloor, '/');
    floor.push(bare.ms);
    add(floorCpu, bare.cpu);
    await bare.child.stop(STOP_GRACE_MS);
  }
  return { first200, listening, cpu, floor, floorCpu };
}

/** A gateway with futures on, once it has logged `listening`. */
function startOn(port: number): Promise<Child> {
  return startGatewayProcess({ args: [GATEWAY_MAIN], cwd: workDir, env: gatewayEnv(port, { FEATURE_FUTURES: 'true' }) });
}

async function measureFlip(problems: string[]): Promise<{ off: number[]; put: number[] }> {
  const port = await freePort();
  const gateway = await startOn(port);
  // Kept-alive connections, as a monitor polling the gateway would hold; enough for every check at once.
  const agent = new Agent({ keepAlive: true, maxSockets: OPERATIONS.length + 2 });
  const flip = async (enabled: boolean) => {
    const answer = await call(port, 'PUT', '/api/admin/futures-switch', { agent, key: ADMIN_KEY, body: { enabled, reason: 'bench: start-rollback' } });
    const data = (parseJsonLine(answer.body)?.data ?? {}) as { enabled?: boolean };
    if (answer.status !== 200 || data.enabled !== enabled) throw new Error(`PUT /api/admin/futures-switch enabled:${enabled} answered ${answer.status} ${answer.body}`);
  };
  const off: number[] = [];
  const put: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      if (i > 0) await flip(true);
      await checkOn(port, agent);
      const t0 = performance.now();
      await flip(false);
      put.push(performance.now() - t0);
      off.push(await untilOff(port, agent, t0, gateway));
    }
    problems.push(...(await checkNotFoundBodies(port, agent)).map((w) => `after the flip, ${w} (want 404 NOT_FOUND)`));
    // The runtime switch outlives the process (workDir/data/switch.json): leave it on for the gateways started next.
    await flip(true);
  } finally {
    agent.destroy();
    await gateway.stop(STOP_GRACE_MS);
  }
  return { off, put };
}

async function measureRestart(problems: string[]): Promise<{ off: number[]; exit: number[] }> {
  const off: number[] = [];
  const exit: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const old = await startOn(port);
    await checkOn(port, false);
    const t0 = performance.now();
    old.signal('SIGTERM');
    await old.exited;
    exit.push(performance.now() - t0);
    const next = spawnGateway(port, { FEATURE_FUTURES: 'false' });
    try {
      // Fresh connections only: a kept-alive one could still reach the old process.
      off.push(await untilOff(port, false, t0, next));
      if (i === RUNS - 1) problems.push(...(await checkNotFoundBodies(port, false)).map((w) => `after the restart, ${w} (want 404 NOT_FOUND)`));
    } finally {
      await next.stop(STOP_GRACE_MS);
    }
  }
  return { off, exit };
}

// ---------------------------------------------------------------------------------------------
// Report

/** The nearest-rank percentile of one series (runs are recorded in the order they ran). */
const percentileOf = (values: number[], p: number) => percentile([...values].sort((a, b) => a - b), p);
const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

/** Median (against the target), p90 and max of one series. */
function spread(label: string, values: number[], target: number | null, floor?: number[]): Figure[] {
  const t = target === null ? null : { op: '<' as const, value: target };
  const f = (p: number) => (floor ? { floor: round(percentileOf(floor, p)) } : {});
  return [
    figure(`${label}, median`, round(percentileOf(values, 50)), 'ms', t, f(50)),
    figure(`${label}, p90`, round(percentileOf(values, 90)), 'ms', null, f(90)),
    figure(`${label}, max`, round(percentileOf(values, 100)), 'ms', null, f(100)),
  ];
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const problems: string[] = [];
  if (process.env.BENCH_SKIP_BUILD !== '1') execFileSync('npm', ['run', 'build'], { cwd: benchRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(GATEWAY_MAIN)) throw new Error(`${GATEWAY_MAIN} is missing: run npm run build (or unset BENCH_SKIP_BUILD)`);

  const start = await measureStart();
  const flip = await measureFlip(problems);
  const restart = await measureRestart(problems);

  const ops = `${OPERATIONS.length} futures operations + the /ws/futures upgrade`;
  const figures: Figure[] = [
    ...spread('start: spawn → first 200 on GET /api/health', start.first200, 300, start.floor),
    figure('start: spawn → `listening` logged (its own clock), median', percentileOf(start.listening, 50), 'ms', null, { note: 'log timestamps have ms resolution' }),
    figure('start: main-thread CPU up to the first 200, median', percentileOf(start.cpu.mainThread, 50), 'ms', null, {
      floor: percentileOf(start.floorCpu.mainThread, 50),
      note: 'the critical path: about the wall time on an idle machine',
    }),
    figure('start: whole-process CPU up to the first 200, median', percentileOf(start.cpu.process, 50), 'ms', null, {
      floor: percentileOf(start.floorCpu.process, 50),
      note: 'adds GC and compiler threads; /proc, 10 ms ticks',
    }),
    ...spread('flip: PUT futures-switch off → all futures 404', flip.off, 100),
    figure('flip: the PUT alone, median', round(percentileOf(flip.put, 50)), 'ms', null, { note: ops }),
    ...spread('restart: SIGTERM → all futures 404 on the new process', restart.off, 5_000),
    figure('restart: SIGTERM → old process exited, median', round(percentileOf(restart.exit, 50)), 'ms', null),
  ];
  writeReport(
    {
      benchmark: 'start-rollback',
      title: 'Benchmark 4: start and rollback',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: { runs: RUNS, pollMs: POLL_MS, gateway: 'node dist/main.js', futuresOperations: OPERATIONS.map(name), node: process.version, cpus: cpus().length },
      figures,
      problems,
      samples: { start, flip, restart },
    },
    OUTPUT,
  );
  console.log(`Benchmark 4: start and rollback (${RUNS} runs each; floor = a bare node:http server) → ${OUTPUT}`);
  console.log(figuresTable(figures));
  for (const problem of problems) console.log(`PROBLEM: ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

main()
  .then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(`start-rollback failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  )
  .finally(async () => {
    await stopGatewayProcesses();
    rmSync(workDir, { recursive: true, force: true });
  });
