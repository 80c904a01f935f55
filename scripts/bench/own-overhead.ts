/**
 * Benchmark 1, "own overhead": the gateway's local paths against a bare node:http floor.
 *
 *   npx tsx scripts/bench/own-overhead.ts    BENCH_SECONDS=5 per case, 32 keep-alive connections
 *   (`npm run bench` runs it with the other benchmarks: scripts/bench/run.ts)
 *
 * Environment: BENCH_SECONDS (default 5), BENCH_WARMUP_SECONDS (default min(1, BENCH_SECONDS)),
 * BENCH_CONCURRENCY (default 32), BENCH_OUTPUT (default bench-results/own-overhead.json),
 * BENCH_LOG_FILE (where the gateway's info logs go; default a temp file, counted afterwards),
 * BENCH_TARGET_RATIO (default 1.15: the gateway's CPU per request over the chosen stack's), BENCH_ROUNDS (default 3: BENCH_SECONDS split into alternating
 * floor/gateway slices), BENCH_ONLY (run only cases whose name contains it),
 * BENCH_SKIP_BUILD=1 (use dist/ as it is; otherwise `npm run build` first: the servers load the
 * gateway's code from dist/src), BENCH_FROM_SOURCE=1 (load src/ through tsx instead, e.g. for profiles with
 * TypeScript names; slower, see server-child.ts), BENCH_GATEWAY_ENV (JSON of gateway env overrides, diagnostics only, flagged in the output),
 * BENCH_GATEWAY_NODE_ARGS (extra node flags for the gateway child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"),
 * BENCH_FLOOR_NODE_ARGS and BENCH_STACK_NODE_ARGS (the same for the floor and stack children),
 * BENCH_REDIS=1 (also measure the gateway in the replicas' mode: a redis-server started for the run
 * and the gateways given REDIS_URL; their rows, `gateway+redis`, are printed beside the others and
 * judged against the same stack), BENCH_EQUAL_RATE=<share> (a diagnostic, off by default: after each
 * path's closed loops, the stack and the gateway are measured again at the SAME offered rate, that
 * share (e.g. 0.7) of the gateway's closed-loop requests per second, each of the CONCURRENCY
 * connections sending on a fixed schedule; their CPU per request is printed beside, without a
 * target. In the closed loops each server runs as fast as it can, so the faster stack also answers
 * more requests per wake-up of the load generator and per turn of its event loop; at one rate both
 * get the same, and the difference left is the work each request costs).
 *
 * Three servers answer each path with the same bytes: the floor (bare node:http), the stack (the
 * chosen Express 5 + pino-http + openapi-backend, set up as the gateway sets them up, with nothing
 * else of the gateway: the least any gateway on that stack can cost) and the gateway. The target is
 * the gateway against the stack (issue 16: ≤ 1.15×); the stack against the floor is reported beside it.
 * The list served from the stream needs KuCoin: a simulator (src/simulator) and a second gateway
 * with its credentials, whose open-order list is seeded and then answered from the live feed
 * (every answer must say `X-Served-From: stream`). Each runs as
 * a child process (scripts/bench/server-child.ts) that reports its own process.cpuUsage(); the
 * parent drives the load with node:http and a keep-alive Agent, the three alternately per path. Exit 0 whatever the ratios; non-zero only when a server fails to
 * start, answers a wrong status, or the gateway does not log every request.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { simulator, startGatewayProcess, stopGatewayProcesses } from '../../test/support/process.js';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { figure, markdownTable, percentile, writeReport, type Figure } from './figures.js';
import type { FloorTemplates, Template } from './server-child.js';
import { processCpuMs } from './proc-cpu.js';
import { positiveNumber } from './settings.js';

const root = resolve(import.meta.dirname, '..', '..');
const SECONDS = positiveNumber('BENCH_SECONDS', 5);
const WARMUP_SECONDS = positiveNumber('BENCH_WARMUP_SECONDS', Math.min(1, SECONDS));
const CONCURRENCY = Math.floor(positiveNumber('BENCH_CONCURRENCY', 32));
/** The measured time per case and server is split into this many alternating floor/gateway slices. */
const ROUNDS = Math.floor(positiveNumber('BENCH_ROUNDS', 3));
/** Issue 16 target 1: the gateway at most this many times its stack alone, CPU per request. */
const TARGET_RATIO = positiveNumber('BENCH_TARGET_RATIO', 1.15);
const OUTPUT = resolve(root, process.env.BENCH_OUTPUT ?? 'bench-results/own-overhead.json');
/** Hard caps so no loop can run away whatever the settings. */
const MAX_REQUESTS_PER_CASE = 2_000_000;
const START_TIMEOUT_MS = 30_000;

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  expectedStatus: number;
  /** What the gateway must answer for the case to be meaningful (checked on the probe). */
  expectedCode?: string;
  template: keyof FloorTemplates;
  headers?: Record<string, string>;
  /** Answer headers every gateway answer must carry (checked on every answer under load). */
  expectedHeaders?: Record<string, string>;
  /** 'feed': served by the gateway with a simulator behind it; otherwise the one without credentials. */
  gateway?: 'feed';
}

/** The admin key the benchmarked gateway is configured with (a benchmark-only value). */
const BENCH_ADMIN_KEY = 'bench-admin-key-0123456789';
const INVALID_ORDER = JSON.stringify({ symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty: 0 });
const ALL_CASES: Case[] = [
  { name: 'POST /api/futures/orders (invalid → 400)', method: 'POST', path: '/api/futures/orders', body: INVALID_ORDER, expectedStatus: 400, expectedCode: 'VALIDATION_FAILED', template: 'orderInvalid' },
  { name: 'GET /api/health (200)', method: 'GET', path: '/api/health', expectedStatus: 200, template: 'health' },
  { name: 'GET /api/futures/positions (no creds → 401)', method: 'GET', path: '/api/futures/positions', expectedStatus: 401, expectedCode: 'CREDENTIALS_MISSING', template: 'positions' },
  // A read the gateway serves itself, behind the admin key (checked on every request).
  { name: 'GET /api/admin/futures-switch (200)', method: 'GET', path: '/api/admin/futures-switch', headers: { Authorization: `Bearer ${BENCH_ADMIN_KEY}` }, expectedStatus: 200, template: 'switchState' },
  // The open orders answered from the live feed's cache (seeded with two resting orders).
  { name: 'GET /api/futures/orders (from the stream, 200)', method: 'GET', path: '/api/futures/orders', expectedStatus: 200, template: 'ordersFromStream', expectedHeaders: { 'x-served-from': 'stream' }, gateway: 'feed' },
];
/** The simulator's credentials, given to the feed-backed gateway (benchmark-only values). */
const SIM = { SIM_KEY: 'bench-key', SIM_SECRET: 'bench-secret-0123456789abcdef', SIM_PASSPHRASE: 'bench-passphrase' };
/** BENCH_ONLY=health (a substring of a case name) runs only the matching cases, e.g. for profiling. */
const CASES = ALL_CASES.filter((c) => !process.env.BENCH_ONLY || c.name.includes(process.env.BENCH_ONLY));
/** BENCH_REDIS=1: the gateway measured a second time with REDIS_URL (issue 16 target 1's second mode). */
const WITH_REDIS = process.env.BENCH_REDIS === '1';
/** BENCH_EQUAL_RATE=<share of the gateway's closed-loop rate>: also measure stack and gateway at that one offered rate (diagnostic). */
const EQUAL_RATE_SHARE = process.env.BENCH_EQUAL_RATE ? positiveNumber('BENCH_EQUAL_RATE', 0.7) : null;

// ---------------------------------------------------------------------------------------------
// Child servers

interface Server {
  kind: ServerKind;
  child: ChildProcess;
  port: number;
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * floor: bare node:http; stack: the chosen stack with nothing of the gateway; gateway: the gateway
 * (server-child.ts); gateway+redis: the same gateway with REDIS_URL (BENCH_REDIS=1).
 */
type ServerKind = 'gateway' | 'gateway+redis' | 'floor' | 'stack';
const isGateway = (kind: ServerKind): boolean => kind === 'gateway' || kind === 'gateway+redis';

async function startServer(kind: ServerKind, env: Record<string, string>, templates?: FloorTemplates, execArgv: string[] = []): Promise<Server> {
  const child = fork(join(root, 'scripts/bench/server-child.ts'), [kind === 'gateway+redis' ? 'gateway' : kind], {
    cwd: root,
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (us: number) => void>();
  let nextId = 0;
  child.on('message', (raw) => {
    const message = raw as { type: string; id?: number; user?: number; system?: number };
    if (message.type === 'cpu' && message.id !== undefined) {
      pending.get(message.id)?.((message.user ?? 0) + (message.system ?? 0));
      pending.delete(message.id);
    }
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const onMessage = (raw: unknown) => {
      const message = raw as { type: string; port?: number };
      if (message.type === 'ready' && message.port) {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolvePort(message.port);
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited with code ${code} before listening`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (templates) child.send({ type: 'templates', templates });
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return {
    kind,
    child,
    port,
    cpu: () =>
      new Promise<number>((resolveCpu, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`${kind} did not report its CPU`)), 10_000);
        pending.set(id, (us) => {
          clearTimeout(timer);
          resolveCpu(us);
        });
        child.send({ type: 'cpu', id });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load generator

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(agent: Agent, port: number, c: Case): Promise<Answer> {
  return new Promise((resolveAnswer, reject) => {
    const headers: Record<string, string | number> = { Accept: 'application/json', ...c.headers };
    if (c.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(c.body);
    }
    const req = request({ host: '127.0.0.1', port, method: c.method, path: c.path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(c.body);
  });
}

/** The first expected header the answer lacks, described; undefined when all are there. */
function headerMismatch(c: Case, answer: Answer): string | undefined {
  for (const [name, value] of Object.entries(c.expectedHeaders ?? {})) {
    if (answer.headers[name] !== value) return `${name}: ${String(answer.headers[name])}, expected ${value}`;
  }
  return undefined;
}

interface LoadResult {
  requests: number;
  wrongStatus: number;
  errors: number;
  seconds: number;
  latenciesMs: Float64Array;
  firstWrong?: string;
}

/**
 * Sends `c` to the server for `seconds` from `concurrency` keep-alive connections. Closed loops (each
 * connection sends its next request when the last is answered) unless `rate` is given: then
 * connection w sends its k-th request at (w / concurrency + k) × concurrency / rate seconds from the
 * start, or at once when its previous answer came later than that.
 */
async function load(port: number, c: Case, seconds: number, concurrency: number, rate?: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const latencies = new Float64Array(MAX_REQUESTS_PER_CASE);
  let requests = 0;
  let wrongStatus = 0;
  let errors = 0;
  let firstWrong: string | undefined;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const intervalMs = rate === undefined ? 0 : (concurrency * 1000) / rate;
  const startedMs = performance.now();
  const worker = async (w: number) => {
    for (let k = 0; process.hrtime.bigint() < deadline && requests < MAX_REQUESTS_PER_CASE; k++) {
      if (rate !== undefined) {
        const at = startedMs + (w / concurrency + k) * intervalMs;
        for (let left = at - performance.now(); left > 0; left = at - performance.now()) await new Promise((resolveWait) => setTimeout(resolveWait, Math.ceil(left)));
        if (process.hrtime.bigint() >= deadline) break;
      }
      const t0 = process.hrtime.bigint();
      try {
        const answer = await send(agent, port, c);
        if (requests < MAX_REQUESTS_PER_CASE) latencies[requests] = Number(process.hrtime.bigint() - t0) / 1e6;
        requests++;
        const wrong = answer.status !== c.expectedStatus ? `${answer.status} ${answer.body.slice(0, 300)}` : headerMismatch(c, answer);
        if (wrong) {
          wrongStatus++;
          firstWrong ??= wrong;
        }
      } catch (error) {
        errors++;
        firstWrong ??= `error: ${error instanceof Error ? error.message : String(error)}`;
        if (errors > 100) break;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { requests, wrongStatus, errors, seconds: elapsed, latenciesMs: latencies.slice(0, Math.min(requests, MAX_REQUESTS_PER_CASE)), firstWrong };
}

// ---------------------------------------------------------------------------------------------
// Run

interface Measurement {
  path: string;
  server: ServerKind;
  expectedStatus: number;
  requests: number;
  wrongStatus: number;
  errors: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerReq: number;
  cpuUtilisation: number;
  /** CPU µs/req of each round (the spread shows how noisy the machine was). */
  roundCpuUsPerReq: number[];
  ratioToFloor: number | null;
  /** The gateway's CPU per request over the stack's (the gateway's row only). */
  ratioToStack: number | null;
  /** BENCH_EQUAL_RATE: the offered rate (requests/s) this row was measured at; absent for the closed loops. */
  offeredRate?: number;
  /** gateway+redis rows: the redis-server's CPU per request over the same slices (from /proc, 10 ms ticks). */
  redisCpuUsPerReq?: number | null;
  target: number | null;
  met: boolean | null;
}

interface Slice extends LoadResult {
  cpuUs: number;
  /** The redis-server's CPU over the slice (µs), when one was given. */
  redisCpuUs?: number | null;
}

/** One measured window: load for `seconds`, with the server's CPU read just before and just after (and the redis-server's, given its pid). */
async function measureSlice(server: Server, c: Case, seconds: number, redisPid?: number, rate?: number): Promise<Slice> {
  const redisBefore = redisPid === undefined ? null : processCpuMs(redisPid);
  const cpuBefore = await server.cpu();
  const result = await load(server.port, c, seconds, CONCURRENCY, rate);
  const cpuAfter = await server.cpu();
  const redisAfter = redisPid === undefined ? null : processCpuMs(redisPid);
  const redisCpuUs = redisBefore === null || redisAfter === null ? null : (redisAfter - redisBefore) * 1000;
  return { ...result, cpuUs: cpuAfter - cpuBefore, ...(redisPid === undefined ? {} : { redisCpuUs }) };
}

function summarise(server: Server, c: Case, slices: Slice[]): Measurement {
  const requests = slices.reduce((sum, x) => sum + x.requests, 0);
  const seconds = slices.reduce((sum, x) => sum + x.seconds, 0);
  const cpuUs = slices.reduce((sum, x) => sum + x.cpuUs, 0);
  const wrong = slices.reduce((sum, x) => sum + x.wrongStatus + x.errors, 0);
  const errors = slices.reduce((sum, x) => sum + x.errors, 0);
  const latencies = new Float64Array(slices.reduce((sum, x) => sum + x.latenciesMs.length, 0));
  let offset = 0;
  for (const x of slices) {
    latencies.set(x.latenciesMs, offset);
    offset += x.latenciesMs.length;
  }
  latencies.sort();
  const firstWrong = slices.find((x) => x.firstWrong)?.firstWrong;
  return {
    path: c.name,
    server: server.kind,
    expectedStatus: c.expectedStatus,
    requests,
    wrongStatus: wrong,
    errors,
    seconds,
    reqPerSec: requests / seconds,
    p50Ms: percentile(latencies, 50) ?? NaN,
    p99Ms: percentile(latencies, 99) ?? NaN,
    cpuUsPerReq: requests > 0 ? cpuUs / requests : NaN,
    cpuUtilisation: cpuUs / 1e6 / seconds,
    roundCpuUsPerReq: slices.map((x) => (x.requests > 0 ? x.cpuUs / x.requests : NaN)),
    ratioToFloor: null,
    ratioToStack: null,
    target: null,
    met: null,
    ...(firstWrong ? { firstWrong } : {}),
  };
}

function templateFrom(answer: Answer): Template {
  // The floor replays the gateway's headers too (helmet's, RateLimit, WWW-Authenticate...), so both
  // put the same bytes on the wire; only what node:http adds itself or what changes per request is left out.
  const perRequest = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'transfer-encoding', 'x-request-id']);
  const keep: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (!perRequest.has(name) && typeof value === 'string') keep[name] = value;
  }
  return {
    status: answer.status,
    contentType: String(answer.headers['content-type'] ?? 'application/json'),
    body: JSON.parse(answer.body) as Record<string, unknown>,
    headers: keep,
  };
}

function countLoggedRequests(file: string): number {
  let count = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.includes('"responseTime"')) count++;
  }
  return count;
}

/** Two resting LIMIT orders near the mark (the simulator refuses prices outside ±5 %), so the list is not empty. */
async function seedOpenOrders(port: number): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  try {
    const get = (path: string) => send(agent, port, { name: path, method: 'GET', path, expectedStatus: 200, template: 'health' });
    const contracts = JSON.parse((await get('/api/futures/contracts')).body) as { data: { symbol: string; markPrice: number; tickSize: number }[] };
    for (const [symbol, side, factor] of [['XBTUSDTM', 'BUY', 0.97], ['ETHUSDTM', 'SELL', 1.03]] as const) {
      const contract = contracts.data.find((x) => x.symbol === symbol);
      if (!contract) throw new Error(`the simulator lists no ${symbol}`);
      const price = Math.round((contract.markPrice * factor) / contract.tickSize) * contract.tickSize;
      const body = JSON.stringify({ symbol, side, type: 'LIMIT', qty: 1, price });
      const answer = await send(agent, port, { name: 'seed', method: 'POST', path: '/api/futures/orders', body, expectedStatus: 201, template: 'health' });
      if (answer.status !== 201) throw new Error(`seeding ${body}: ${answer.status} ${answer.body.slice(0, 300)}`);
    }
  } finally {
    agent.destroy();
  }
}

/** The first list read brings the live feed up; polls until the answer comes from its cache. */
async function untilServedFromStream(agent: Agent, port: number, c: Case, counted: () => void): Promise<Answer> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const answer = await send(agent, port, c);
    counted();
    if (answer.status !== c.expectedStatus || !headerMismatch(c, answer) || Date.now() > deadline) return answer;
    await new Promise((resolveWait) => setTimeout(resolveWait, 20));
  }
}

const fmt = (n: number | null, digits: number) => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));

function table(rows: Measurement[]): string {
  const header = ['path', 'server', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', '/ floor', '/ stack', 'target', 'met?', 'status ok'];
  const body = rows.map((r) => [
    r.path,
    r.offeredRate === undefined ? r.server : `${r.server} at ${r.offeredRate}/s`,
    fmt(r.reqPerSec, 0),
    fmt(r.p50Ms, 2),
    fmt(r.p99Ms, 2),
    fmt(r.cpuUsPerReq, 1),
    r.server === 'floor' ? '1.00' : fmt(r.ratioToFloor, 2),
    isGateway(r.server) ? fmt(r.ratioToStack, 2) : r.server === 'stack' ? '1.00' : '',
    r.target === null ? '' : `≤ ${r.target}× stack`,
    r.met === null ? '' : r.met ? 'yes' : 'NO',
    r.wrongStatus === 0 ? `${r.requests}/${r.requests}` : `${r.requests - r.wrongStatus}/${r.requests}`,
  ]);
  return markdownTable(header, body);
}

async function main(): Promise<number> {
  const started = new Date();
  // The servers load the gateway's code from the build, as production runs it (server-child.ts).
  if (process.env.BENCH_SKIP_BUILD !== '1' && process.env.BENCH_FROM_SOURCE !== '1') execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const tmp = mkdtempSync(join(tmpdir(), 'bench-own-overhead-'));
  const logFile = process.env.BENCH_LOG_FILE ?? join(tmp, 'gateway.log');
  const feedLogFile = join(tmp, 'feed-gateway.log');
  const redisLogFile = join(tmp, 'redis-gateway.log');
  const redisFeedLogFile = join(tmp, 'redis-feed-gateway.log');
  const servers: Server[] = [];
  const problems: string[] = [];
  let redis: TestRedis | undefined;
  try {
    const gatewayArgs = process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean);
    const gateway = await startServer('gateway', { BENCH_LOG_FILE: logFile, BENCH_ADMIN_KEY }, undefined, gatewayArgs);
    servers.push(gateway);
    // The feed-backed gateway: the same settings, KuCoin played by the simulator.
    const sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_LOG_LEVEL: 'warn', ...SIM } });
    const feed = await startServer('gateway', { BENCH_LOG_FILE: feedLogFile, BENCH_ADMIN_KEY, BENCH_GATEWAY_UPSTREAM: JSON.stringify(gatewayEnvForSimulator(sim.baseUrl, SIM)) }, undefined, gatewayArgs);
    servers.push(feed);
    await seedOpenOrders(feed.port);
    const gatewayFor = (c: Case) => (c.gateway === 'feed' ? feed : gateway);
    // The replicas' mode: the same two gateways, each with REDIS_URL (one redis-server for the run).
    let redisGateway: Server | undefined;
    let redisFeed: Server | undefined;
    if (WITH_REDIS) {
      redis = await startRedis();
      redisGateway = await startServer('gateway+redis', { BENCH_LOG_FILE: redisLogFile, BENCH_ADMIN_KEY, BENCH_REDIS_URL: redis.url }, undefined, gatewayArgs);
      servers.push(redisGateway);
      redisFeed = await startServer(
        'gateway+redis',
        { BENCH_LOG_FILE: redisFeedLogFile, BENCH_ADMIN_KEY, BENCH_REDIS_URL: redis.url, BENCH_GATEWAY_UPSTREAM: JSON.stringify(gatewayEnvForSimulator(sim.baseUrl, SIM)) },
        undefined,
        gatewayArgs,
      );
      servers.push(redisFeed);
    }
    const redisGatewayFor = (c: Case) => (c.gateway === 'feed' ? redisFeed : redisGateway);

    // Probe each gateway once per case: the expected status, code and headers (the feed-backed one
    // until it serves from the stream), counting the requests each answered for the log check.
    const probeAgent = new Agent({ keepAlive: false });
    const probed = { plain: 0, fed: 0 };
    const redisProbed = { plain: 0, fed: 0 };
    const probe = async (who: string, c: Case, plain: Server, fed: Server, counts: { plain: number; fed: number }) => {
      const answer = c.gateway === 'feed' ? await untilServedFromStream(probeAgent, fed.port, c, () => counts.fed++) : await send(probeAgent, plain.port, c);
      if (c.gateway !== 'feed') counts.plain++;
      const code = (() => {
        try {
          return (JSON.parse(answer.body) as { code?: string }).code;
        } catch {
          return undefined;
        }
      })();
      if (answer.status !== c.expectedStatus || (c.expectedCode && code !== c.expectedCode) || headerMismatch(c, answer)) {
        throw new Error(`${who} answered ${c.name} with ${answer.status} ${answer.body.slice(0, 300)}; expected ${c.expectedStatus} ${c.expectedCode ?? ''}`);
      }
      return answer;
    };
    const templates: Partial<FloorTemplates> = {};
    for (const c of ALL_CASES) {
      templates[c.template] = templateFrom(await probe('gateway', c, gateway, feed, probed));
    }
    // The Redis-mode gateways must answer the same (status, code, headers, and the list from the stream).
    for (const c of WITH_REDIS ? ALL_CASES : []) {
      await probe('gateway with REDIS_URL', c, redisGateway!, redisFeed!, redisProbed);
    }
    // The floor's answer to a valid order (never sent by this benchmark) mirrors the 401 shape.
    templates.orderValid = templates.positions;
    probeAgent.destroy();

    const floor = await startServer('floor', {}, templates as FloorTemplates, process.env.BENCH_FLOOR_NODE_ARGS?.split(' ').filter(Boolean));
    servers.push(floor);
    const stack = await startServer('stack', { BENCH_LOG_FILE: join(tmp, 'stack.log'), BENCH_ADMIN_KEY }, templates as FloorTemplates, process.env.BENCH_STACK_NODE_ARGS?.split(' ').filter(Boolean));
    servers.push(stack);

    const rows: Measurement[] = [];
    for (const c of CASES) {
      // Warm all three, then alternate floor, stack and gateway slices, so all run under the same
      // machine conditions (other work on the box shows up in each, not in one).
      await load(floor.port, c, WARMUP_SECONDS, CONCURRENCY);
      await load(stack.port, c, WARMUP_SECONDS, CONCURRENCY);
      await load(gatewayFor(c).port, c, WARMUP_SECONDS, CONCURRENCY);
      const withRedis = redisGatewayFor(c);
      if (withRedis) await load(withRedis.port, c, WARMUP_SECONDS, CONCURRENCY);
      const floorSlices: Slice[] = [];
      const stackSlices: Slice[] = [];
      const gatewaySlices: Slice[] = [];
      const redisSlices: Slice[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        floorSlices.push(await measureSlice(floor, c, SECONDS / ROUNDS));
        stackSlices.push(await measureSlice(stack, c, SECONDS / ROUNDS));
        gatewaySlices.push(await measureSlice(gatewayFor(c), c, SECONDS / ROUNDS));
        if (withRedis) redisSlices.push(await measureSlice(withRedis, c, SECONDS / ROUNDS, redis?.pid));
      }
      const f = summarise(floor, c, floorSlices);
      const st = summarise(stack, c, stackSlices);
      st.ratioToFloor = st.cpuUsPerReq / f.cpuUsPerReq;
      const g = summarise(gatewayFor(c), c, gatewaySlices);
      g.ratioToFloor = g.cpuUsPerReq / f.cpuUsPerReq;
      g.ratioToStack = g.cpuUsPerReq / st.cpuUsPerReq;
      g.target = TARGET_RATIO;
      g.met = g.ratioToStack <= TARGET_RATIO;
      const measured = [f, st, g];
      if (withRedis) {
        const gr = summarise(withRedis, c, redisSlices);
        gr.ratioToFloor = gr.cpuUsPerReq / f.cpuUsPerReq;
        gr.ratioToStack = gr.cpuUsPerReq / st.cpuUsPerReq;
        gr.target = TARGET_RATIO;
        gr.met = gr.ratioToStack <= TARGET_RATIO;
        const redisUs = redisSlices.every((x) => typeof x.redisCpuUs === 'number') ? redisSlices.reduce((sum, x) => sum + (x.redisCpuUs ?? 0), 0) : null;
        gr.redisCpuUsPerReq = redisUs === null || gr.requests === 0 ? null : redisUs / gr.requests;
        measured.push(gr);
      }
      // The diagnostic: stack and gateway again at one offered rate, alternated like the closed loops.
      if (EQUAL_RATE_SHARE !== null) {
        const rate = Math.max(1, Math.round(g.reqPerSec * EQUAL_RATE_SHARE));
        const paced = { stack: [] as Slice[], gateway: [] as Slice[] };
        for (let round = 0; round < ROUNDS; round++) {
          paced.stack.push(await measureSlice(stack, c, SECONDS / ROUNDS, undefined, rate));
          paced.gateway.push(await measureSlice(gatewayFor(c), c, SECONDS / ROUNDS, undefined, rate));
        }
        const ps = { ...summarise(stack, c, paced.stack), offeredRate: rate };
        const pg = { ...summarise(gatewayFor(c), c, paced.gateway), offeredRate: rate };
        ps.ratioToFloor = ps.cpuUsPerReq / f.cpuUsPerReq;
        pg.ratioToFloor = pg.cpuUsPerReq / f.cpuUsPerReq;
        pg.ratioToStack = pg.cpuUsPerReq / ps.cpuUsPerReq;
        measured.push(ps, pg);
      }
      rows.push(...measured);
      for (const r of measured) {
        if (r.requests === 0) problems.push(`${r.server} ${r.path}: no request completed`);
        if (r.wrongStatus > 0) problems.push(`${r.server} ${r.path}: ${r.wrongStatus} of ${r.requests} answers were not ${r.expectedStatus} (first: ${(r as Measurement & { firstWrong?: string }).firstWrong})`);
      }
    }

    await gateway.stop();
    await feed.stop();
    await floor.stop();
    await stack.stop();
    await redisGateway?.stop();
    await redisFeed?.stop();

    // Every request the gateway answered (probes and warm-ups included) must have its log line.
    const measuredBy = (feedGateway: boolean) => rows.filter((r) => r.server === 'gateway' && (CASES.find((c) => c.name === r.path)?.gateway === 'feed') === feedGateway).reduce((sum, r) => sum + r.requests, 0);
    const gatewayRequests = probed.plain + measuredBy(false);
    const logged = process.env.BENCH_LOG_FILE === '/dev/null' ? null : countLoggedRequests(logFile);
    // Warm-up requests are logged too, so the log holds at least the measured + probe count.
    if (logged !== null && logged < gatewayRequests) problems.push(`gateway logged ${logged} request lines for at least ${gatewayRequests} requests`);
    const feedRequests = probed.fed + measuredBy(true);
    const feedLogged = countLoggedRequests(feedLogFile);
    if (feedLogged < feedRequests) problems.push(`feed-backed gateway logged ${feedLogged} request lines for at least ${feedRequests} requests`);
    // The stack row logs every request too, or it would not be a floor for a gateway that must.
    const stackRequests = rows.filter((r) => r.server === 'stack').reduce((sum, r) => sum + r.requests, 0);
    const stackLogged = countLoggedRequests(join(tmp, 'stack.log'));
    if (stackLogged < stackRequests) problems.push(`stack logged ${stackLogged} request lines for at least ${stackRequests} requests`);
    // The Redis-mode gateways log every request as well.
    if (WITH_REDIS) {
      const redisMeasured = (feedGateway: boolean) => rows.filter((r) => r.server === 'gateway+redis' && (CASES.find((c) => c.name === r.path)?.gateway === 'feed') === feedGateway).reduce((sum, r) => sum + r.requests, 0);
      for (const [file, requests, name] of [[redisLogFile, redisProbed.plain + redisMeasured(false), 'gateway with REDIS_URL'], [redisFeedLogFile, redisProbed.fed + redisMeasured(true), 'feed-backed gateway with REDIS_URL']] as const) {
        const lines = countLoggedRequests(file);
        if (lines < requests) problems.push(`${name} logged ${lines} request lines for at least ${requests} requests`);
      }
    }

    console.log(`\nBenchmark 1 — own overhead (${SECONDS}s per case and server in ${ROUNDS} alternating slices after ${WARMUP_SECONDS}s warm-up, ${CONCURRENCY} keep-alive connections, node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'})`);
    if (process.env.BENCH_GATEWAY_ENV) console.log(`DIAGNOSTIC RUN: gateway configuration overridden with ${process.env.BENCH_GATEWAY_ENV}; not a benchmark result.`);
    console.log('CPU µs/req = server process user+system CPU over the measured window / requests answered; ratio = CPU µs/req / the floor\'s.');
    console.log('floor: bare node:http, same bytes, same ajv check of the order body; stack: Express 5 + pino-http + openapi-backend as the gateway sets them up, answering the same bytes, nothing else of the gateway.\n');
    console.log(table(rows));
    console.log(`\ngateway logging: LOG_LEVEL=info to ${process.env.BENCH_LOG_FILE ?? 'a temp file'}; ${logged === null ? 'not counted (/dev/null)' : `${logged} request lines for ${gatewayRequests} measured+probe requests (warm-ups also logged)`}; the feed-backed gateway ${feedLogged} lines for ${feedRequests}`);
    console.log(`target: the gateway's CPU per request ≤ ${TARGET_RATIO}× the chosen stack's on every path (issue 16, target 1); "/ floor" is each against bare node:http.`);
    if (WITH_REDIS) {
      console.log('gateway+redis: the same gateway with REDIS_URL (a redis-server started for the run), beside the others and against the same stack; the redis-server\'s own CPU is not in its row, but here:');
      for (const r of rows.filter((x) => x.server === 'gateway+redis')) console.log(`  ${r.path}: redis-server ${fmt(r.redisCpuUsPerReq ?? null, 1)} µs CPU per request`);
    }

    // The closed loops' rows (the issue's figures); the equal-rate diagnostic's are added after them.
    const closedRows = rows.filter((r) => r.offeredRate === undefined);
    const figures: Figure[] = closedRows
      .filter((r) => r.server === 'gateway')
      .flatMap((r) => {
        const floorRow = closedRows.find((f) => f.server === 'floor' && f.path === r.path);
        const stackRow = closedRows.find((f) => f.server === 'stack' && f.path === r.path);
        return [
          figure(`${r.path}: CPU per request, gateway / chosen stack alone`, r.ratioToStack, '×', { op: '<=', value: TARGET_RATIO }, {
            floor: 1,
            note: `${fmt(r.cpuUsPerReq, 1)} µs vs ${fmt(stackRow?.cpuUsPerReq ?? null, 1)} µs; p99 ${fmt(r.p99Ms, 2)} vs ${fmt(stackRow?.p99Ms ?? null, 2)} ms`,
          }),
          figure(`${r.path}: CPU per request, gateway / floor`, r.ratioToFloor, '×', null, {
            floor: 1,
            note: `${fmt(r.cpuUsPerReq, 1)} µs vs ${fmt(floorRow?.cpuUsPerReq ?? null, 1)} µs (node:http); p99 ${fmt(r.p99Ms, 2)} vs ${fmt(floorRow?.p99Ms ?? null, 2)} ms`,
          }),
          figure(`${r.path}: CPU per request, chosen stack alone / floor`, stackRow?.ratioToFloor ?? null, '×', null, {
            floor: 1,
            note: `${fmt(stackRow?.cpuUsPerReq ?? null, 1)} µs: Express 5 + pino-http + openapi-backend answering the same bytes, nothing of the gateway; the least a gateway on this stack can cost`,
          }),
        ];
      });
    for (const r of rows.filter((x) => x.server === 'gateway+redis')) {
      const stackRow = closedRows.find((f) => f.server === 'stack' && f.path === r.path);
      figures.push(
        figure(`${r.path}, with REDIS_URL: CPU per request, gateway / chosen stack alone`, r.ratioToStack, '×', { op: '<=', value: TARGET_RATIO }, {
          floor: 1,
          note: `${fmt(r.cpuUsPerReq, 1)} µs vs ${fmt(stackRow?.cpuUsPerReq ?? null, 1)} µs, and redis-server ${fmt(r.redisCpuUsPerReq ?? null, 1)} µs; p99 ${fmt(r.p99Ms, 2)} vs ${fmt(stackRow?.p99Ms ?? null, 2)} ms`,
        }),
      );
    }
    for (const r of rows.filter((x) => x.server === 'gateway' && x.offeredRate !== undefined)) {
      const stackRow = rows.find((f) => f.server === 'stack' && f.path === r.path && f.offeredRate === r.offeredRate);
      figures.push(
        figure(`${r.path}, stack and gateway at ${r.offeredRate} requests/s each: CPU per request, gateway / chosen stack alone`, r.ratioToStack, '×', null, {
          floor: 1,
          note: `diagnostic (BENCH_EQUAL_RATE=${EQUAL_RATE_SHARE}: that share of the gateway's closed-loop rate, offered to both on a fixed schedule), not the issue's figure: ${fmt(r.cpuUsPerReq, 1)} µs vs ${fmt(stackRow?.cpuUsPerReq ?? null, 1)} µs; answered ${fmt(r.reqPerSec, 0)} vs ${fmt(stackRow?.reqPerSec ?? null, 0)} requests/s`,
        }),
      );
    }
    const result = {
      benchmark: 'own-overhead',
      title: 'Benchmark 1 — own overhead',
      figures,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      settings: { gatewayEnvOverride: process.env.BENCH_GATEWAY_ENV ?? null, redis: WITH_REDIS, equalRateShare: EQUAL_RATE_SHARE, seconds: SECONDS, rounds: ROUNDS, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, targetRatio: TARGET_RATIO, logLevel: 'info', logDestination: process.env.BENCH_LOG_FILE ?? 'temp file' },
      machine: { node: process.version, platform: process.platform, arch: process.arch, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null },
      gatewayLogLines: logged,
      gatewayRequests,
      feedGatewayLogLines: feedLogged,
      feedGatewayRequests: feedRequests,
      stackLogLines: stackLogged,
      stackRequests,
      allStatusesExpected: rows.every((r) => r.wrongStatus === 0 && r.requests > 0),
      allTargetsMet: closedRows.filter((r) => isGateway(r.server)).every((r) => r.met === true),
      problems,
      results: rows,
    };
    console.log(`\nwrote ${writeReport(result, OUTPUT)}`);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await stopGatewayProcesses();
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`\nbench failed:\n- ${problems.join('\n- ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
