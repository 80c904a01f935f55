/**
 * Latency the gateway adds to proxied calls (target 3 of issue 16): a read and an order through the
 * gateway against the simulator, beside the same signed calls made directly to the simulator, from
 * the same concurrent clients in the same run.
 *
 *   npx tsx scripts/bench/proxied-latency.ts
 *   BENCH_PROXIED_CLIENTS=4 BENCH_PROXIED_SLICES=2 BENCH_PROXIED_ROUNDS=3 BENCH_SKIP_BUILD=1 npx tsx scripts/bench/proxied-latency.ts   (smoke)
 *
 * What it does:
 * 1. Starts a fresh simulator and the built gateway (FEATURE_FUTURES=true, the simulator's
 *    credentials) on free loopback ports. Both the simulator's Futures quota and the gateway's
 *    KUCOIN_FUTURES_POOL_QUOTA are lifted to 1,000,000 (the gateway's largest) so neither budget refuses a call (this is a
 *    latency measure, not a budget one), the inbound limit is off (RATE_LIMIT_MAX=0: every client
 *    is 127.0.0.1) and the gateway logs at LOG_LEVEL warn (its access lines would otherwise be read
 *    by this process on the same cores). Marks and funding are held still.
 * 2. BENCH_PROXIED_CLIENTS (50) clients, each a loop on its own keep-alive connection, run rounds
 *    of two calls: an order, then a read of that same order.
 *    - order: gateway `POST /api/futures/orders` `{ symbol: BTCUSDTM, side, type: MARKET, qty: 1,
 *      marginMode: ISOLATED, leverage: 5 }` (side alternating per client, so the position stays
 *      small); direct: `POST /api/v1/orders` with the body the gateway sends upstream for it
 *      (clientOid, side, symbol, type, size, leverage, marginMode), signed by the gateway's own
 *      signer (src/kucoin/signer.ts).
 *    - read: gateway `GET /api/futures/orders/{orderId}`; direct: `GET /api/v1/orders/{orderId}`,
 *      signed. Not served from any cache (the gateway reads the order from KuCoin each time), and
 *      every client reads its own order, so the gateway's coalescing of identical concurrent reads
 *      never joins two of them: one upstream call per read (checked from the simulator's count).
 * 3. BENCH_PROXIED_SLICES (10) slices alternate gateway and direct (gateway first), each
 *    BENCH_PROXIED_ROUNDS (20) rounds per client, after one warm-up slice of each that is not
 *    counted. Each call's latency: process.hrtime.bigint() before the request to the end of its
 *    answer. Added p50 (p99) = the gateway's p50 (p99) minus the direct one, per call kind. These
 *    closed-loop rows are the issue's figure.
 * 4. Added beside them, same processes, same calls:
 *    - paced ("<kind>, N clients paced at R calls/s"): the same clients, each sending on a fixed
 *      schedule (an order every 2N/R s, staggered across clients, its read half an interval later)
 *      at R = BENCH_PROXIED_PACED_SHARE (0.5) × the calls per second the slower path reached in the
 *      closed loops above, so both paths carry the load; each latency is taken from the scheduled
 *      send, so a call that waited behind another counts the wait (queueing is counted, not
 *      hidden). One warm-up round of each path, then BENCH_PROXIED_SLICES slices of half
 *      BENCH_PROXIED_ROUNDS rounds, alternating.
 *    - one client ("<kind>, 1 client"): one closed loop, no queue anywhere; BENCH_PROXIED_SLICES
 *      slices of 5 × BENCH_PROXIED_ROUNDS rounds, alternating.
 *    The gateway's CPU per call is also given over the paced and the one-client slices.
 *
 * Environment: BENCH_PROXIED_CLIENTS (50), BENCH_PROXIED_SLICES (10), BENCH_PROXIED_ROUNDS (20), BENCH_PROXIED_PACED_SHARE (0.5),
 * BENCH_PROXIED_OUTPUT (bench-results/proxied-latency.json), BENCH_SKIP_BUILD=1,
 * BENCH_GATEWAY_NODE_ARGS (extra node flags for the gateway, diagnostics only).
 *
 * Exit 0 whatever the figures; 1 when the run is broken (a process did not start, a call answered
 * anything but success, a gateway call cost other than one upstream call). Children stopped by pid.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { signedHeaders } from '../../src/kucoin/signer.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { builtGateway, simulator, startGatewayProcess, startQuietGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../../test/support/process.js';
import { benchRoot, buildGateway, figure, figuresTable, percentile, writeReport, type Figure } from './figures.js';
import { processCpuMs } from './proc-cpu.js';
import { integerAtLeast, positiveNumber } from './settings.js';

const CLIENTS = integerAtLeast('BENCH_PROXIED_CLIENTS', 50);
const SLICES = integerAtLeast('BENCH_PROXIED_SLICES', 10, 2);
const ROUNDS = integerAtLeast('BENCH_PROXIED_ROUNDS', 20);
const OUTPUT = resolve(benchRoot, process.env.BENCH_PROXIED_OUTPUT ?? 'bench-results/proxied-latency.json');
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
const SIM = { SIM_KEY: 'bench-key', SIM_SECRET: 'bench-secret-0123456789abcdef', SIM_PASSPHRASE: 'bench-passphrase' };
const SIM_KEY_VERSION = '3' as const;
const QUOTA = '1000000';
const SYMBOL = 'XBTUSDTM';
const LEVERAGE = 5;
const TARGETS = { p50: 0.5, p99: 2 };
/** The paced rows' offered rate: this share of the calls per second the slower path reached in the closed loops of the same run. */
const PACED_SHARE = positiveNumber('BENCH_PROXIED_PACED_SHARE', 0.5);
/** The one-client rows run this many times BENCH_PROXIED_ROUNDS rounds per slice (one client makes 1/50 of the calls). */
const SINGLE_ROUNDS_FACTOR = 5;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopGatewayProcesses().finally(() => process.exit(130)));
}

type Path = 'gateway' | 'direct';
type Kind = 'order' | 'read';

interface Answer {
  status: number;
  body: any;
  ms: number;
  /** performance.now() at the end of the answer: latencies on a schedule are taken from it. */
  end: number;
}

/** One HTTP call on a keep-alive agent, timed from before the request to the end of the answer. */
function call(agent: Agent, baseUrl: string, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const url = new URL(path, baseUrl);
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const end = performance.now();
          const ms = end - started;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // left as text
          }
          done({ status: res.statusCode ?? 0, body: parsed, ms, end });
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** How the clients send: the issue's closed loops, the same clients paced at a fixed offered rate, one client alone. */
type Model = 'closed' | 'paced' | 'single';

interface Series {
  latencies: Record<Path, Record<Kind, number[]>>;
  calls: Record<Path, number>;
  wallSeconds: Record<Path, number>;
  /** The gateway's CPU over this model's counted gateway slices (ms), and over its direct slices (nothing of the gateway's but its idle timers). */
  gatewayCpuMs: number | null;
}

interface Run {
  /** The closed loops of BENCH_PROXIED_CLIENTS clients: the issue's figure. */
  latencies: Record<Path, Record<Kind, number[]>>;
  upstreamPerGatewayCall: Record<Kind, number>;
  catalogRefreshes: number;
  cpuMs: { gateway: number | null; simulator: number | null; bench: number };
  calls: Record<Path, number>;
  wallSeconds: Record<Path, number>;
  /** The same clients, each sending on a fixed schedule at `pacedRate` calls/s in all. */
  paced: Series & { rate: number };
  /** One client in a closed loop: no queue on either path. */
  single: Series;
  problems: string[];
}

const emptySeries = (): Series => ({ latencies: { gateway: { order: [], read: [] }, direct: { order: [], read: [] } }, calls: { gateway: 0, direct: 0 }, wallSeconds: { gateway: 0, direct: 0 }, gatewayCpuMs: 0 });
const sleepUntil = (at: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, at - performance.now())));

async function measure(): Promise<Run> {
  const problems: string[] = [];
  let sim: GatewayProcess | undefined;
  let gateway: GatewayProcess | undefined;
  try {
    sim = await startGatewayProcess({
      args: simulator(),
      env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_LOG_LEVEL: 'warn', SIM_FUTURES_QUOTA: QUOTA, SIM_KEY_VERSION, SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM },
    });
    gateway = await startQuietGatewayProcess({
      args: [...GATEWAY_NODE_ARGS, ...builtGateway()],
      env: { FEATURE_FUTURES: 'true', ...gatewayEnvForSimulator(sim.baseUrl, SIM), RATE_LIMIT_MAX: '0', LOG_LEVEL: 'warn', KUCOIN_FUTURES_POOL_QUOTA: QUOTA },
    });
    const gatewayPid = gateway.pid;
    const credentials = { key: SIM.SIM_KEY, secret: SIM.SIM_SECRET, passphrase: SIM.SIM_PASSPHRASE };
    // An idle socket is dropped after 4 s (node's agent also takes the servers' `Keep-Alive:
    // timeout=5` hint, less a second, only when a timeout is set): without it a socket left idle
    // while the other path ran could be reused just as its server closed it (read ECONNRESET, one
    // run in eleven under load). Both servers close idle sockets at 5 s anyway, so nothing else changes.
    const agentOptions = { keepAlive: true, maxSockets: CLIENTS, timeout: 4_000 };
    const agents: Record<Path, Agent> = { gateway: new Agent(agentOptions), direct: new Agent(agentOptions) };
    const signed = (method: string, path: string, body: string) => signedHeaders(credentials, SIM_KEY_VERSION, String(Date.now()), method, path, body);

    /** An order of one client on one path (side alternating per client and round). */
    const order = async (path: Path, client: number, n: number): Promise<Answer & { orderId: string }> => {
      const side = (client + n) % 2 === 0 ? 'BUY' : 'SELL';
      if (path === 'gateway') {
        const body = JSON.stringify({ symbol: 'BTCUSDTM', side, type: 'MARKET', qty: 1, marginMode: 'ISOLATED', leverage: LEVERAGE });
        const placed = await call(agents.gateway, gateway!.baseUrl, 'POST', '/api/futures/orders', body, {});
        if (placed.status !== 201) throw new Error(`gateway order: ${placed.status} ${JSON.stringify(placed.body).slice(0, 300)}`);
        return { ...placed, orderId: placed.body.data.orderId };
      }
      // What the gateway sends upstream for that order (src/futures/orders.ts createOrder).
      const body = JSON.stringify({ clientOid: randomUUID().replaceAll('-', ''), side: side.toLowerCase(), symbol: SYMBOL, type: 'market', size: 1, leverage: LEVERAGE, marginMode: 'ISOLATED' });
      const placed = await call(agents.direct, sim!.baseUrl, 'POST', '/api/v1/orders', body, signed('POST', '/api/v1/orders', body));
      if (placed.status !== 200 || placed.body?.code !== '200000') throw new Error(`direct order: ${placed.status} ${JSON.stringify(placed.body).slice(0, 300)}`);
      return { ...placed, orderId: placed.body.data.orderId };
    };
    /** A read of that order on the same path. */
    const read = async (path: Path, orderId: string): Promise<Answer> => {
      if (path === 'gateway') {
        const answer = await call(agents.gateway, gateway!.baseUrl, 'GET', `/api/futures/orders/${orderId}`, undefined, {});
        if (answer.status !== 200 || answer.body?.data?.orderId !== orderId) throw new Error(`gateway read: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
        return answer;
      }
      const readPath = `/api/v1/orders/${orderId}`;
      const answer = await call(agents.direct, sim!.baseUrl, 'GET', readPath, undefined, signed('GET', readPath, ''));
      if (answer.status !== 200 || answer.body?.code !== '200000' || answer.body?.data?.id !== orderId) throw new Error(`direct read: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      return answer;
    };

    let roundNo = 0;
    /**
     * One slice of one path. `intervalMs` undefined: each of `clients` clients runs rounds (an order,
     * then a read of it) back to back, each call timed from its own start. With `intervalMs`: client
     * c sends round i's order at t0 + (c / clients + i) × interval and its read half an interval
     * later, whatever happened before; each latency is taken from that scheduled time, so a call
     * that waited for the previous one (its client or path behind schedule) counts the wait.
     */
    const slice = async (series: Series | undefined, path: Path, clients: number, rounds: number, intervalMs?: number): Promise<void> => {
      const first = roundNo;
      roundNo += rounds;
      const cpuBefore = path === 'gateway' ? processCpuMs(gatewayPid) : null;
      // Paced: the first sends a few ms ahead, so every client is waiting on its timer when they fall due.
      const t0 = performance.now() + (intervalMs === undefined ? 0 : 5);
      await Promise.all(
        Array.from({ length: clients }, async (_, client) => {
          for (let i = 0; i < rounds; i += 1) {
            const orderAt = intervalMs === undefined ? undefined : t0 + (client / clients + i) * intervalMs;
            if (orderAt !== undefined) await sleepUntil(orderAt);
            const placed = await order(path, client, first + i);
            const readAt = orderAt === undefined ? undefined : orderAt + intervalMs! / 2;
            if (readAt !== undefined) await sleepUntil(readAt);
            const answer = await read(path, placed.orderId);
            if (!series) continue;
            series.latencies[path].order.push(orderAt === undefined ? placed.ms : placed.end - orderAt);
            series.latencies[path].read.push(readAt === undefined ? answer.ms : answer.end - readAt);
            series.calls[path] += 2;
          }
        }),
      );
      if (!series) return;
      series.wallSeconds[path] += (performance.now() - t0) / 1000;
      const cpuAfter = path === 'gateway' ? processCpuMs(gatewayPid) : null;
      if (path === 'gateway') series.gatewayCpuMs = cpuBefore === null || cpuAfter === null || series.gatewayCpuMs === null ? null : series.gatewayCpuMs + (cpuAfter - cpuBefore);
    };

    const simRequests = async (): Promise<Record<string, number>> => ((await call(agents.direct, sim!.baseUrl, 'GET', '/sim/state', undefined, {})).body?.requests ?? {}) as Record<string, number>;
    await slice(undefined, 'gateway', CLIENTS, ROUNDS);
    await slice(undefined, 'direct', CLIENTS, ROUNDS);
    const before = await simRequests();
    const closed = emptySeries();
    const cpuBefore = { gateway: processCpuMs(gateway.pid), simulator: processCpuMs(sim.pid), bench: process.cpuUsage() };
    for (let i = 0; i < SLICES; i += 1) await slice(closed, i % 2 === 0 ? 'gateway' : 'direct', CLIENTS, ROUNDS);
    const cpuAfter = { gateway: processCpuMs(gateway.pid), simulator: processCpuMs(sim.pid), bench: process.cpuUsage(cpuBefore.bench) };

    // Paced: the same clients at PACED_SHARE of the rate the slower path (the gateway, so far)
    // reached in the closed loops above, a rate both paths sustain, so the figure is each path's
    // latency and its queueing under a load it can carry, not a queue growing without end.
    const sustained = Math.min(closed.calls.direct / closed.wallSeconds.direct, closed.calls.gateway / closed.wallSeconds.gateway);
    const pacedRate = Math.max(1, Math.round(sustained * PACED_SHARE));
    const intervalMs = (CLIENTS * 2 * 1000) / pacedRate;
    const paced = { ...emptySeries(), rate: pacedRate };
    const pacedRounds = Math.max(1, Math.round(ROUNDS / 2));
    // A warm-up round of each, not reported (but counted in the simulator's check below).
    const pacedWarmUp = emptySeries();
    await slice(pacedWarmUp, 'gateway', CLIENTS, 1, intervalMs);
    await slice(pacedWarmUp, 'direct', CLIENTS, 1, intervalMs);
    for (let i = 0; i < SLICES; i += 1) await slice(paced, i % 2 === 0 ? 'gateway' : 'direct', CLIENTS, pacedRounds, intervalMs);

    // One client: what the gateway adds with no queue anywhere.
    const single = emptySeries();
    for (let i = 0; i < SLICES; i += 1) await slice(single, i % 2 === 0 ? 'gateway' : 'direct', 1, ROUNDS * SINGLE_ROUNDS_FACTOR);

    const after = await simRequests();
    const delta = (route: string) => (after[route] ?? 0) - (before[route] ?? 0);
    const count = (path: Path, kind: Kind) => [closed, pacedWarmUp, paced, single].reduce((sum, series) => sum + series.latencies[path][kind].length, 0);
    const upstreamPerGatewayCall = {
      order: (delta('POST /api/v1/orders') - count('direct', 'order')) / count('gateway', 'order'),
      read: (delta('GET /api/v1/orders/{orderId}') - count('direct', 'read')) / count('gateway', 'read'),
    };
    // The contract catalog's refresh (every 60 s, src/futures/contract-catalog.ts) is the gateway's
    // own background read, reported; any other call would make the two paths unlike.
    const background = delta('GET /api/v1/contracts/active');
    const others = Object.keys(after).filter((route) => delta(route) > 0 && !['POST /api/v1/orders', 'GET /api/v1/orders/{orderId}', 'GET /api/v1/contracts/active'].includes(route));
    if (others.length > 0) problems.push(`the gateway made other upstream calls meanwhile: ${others.map((r) => `${r} ${delta(r)}`).join(', ')}`);
    for (const kind of ['order', 'read'] as const) {
      if (upstreamPerGatewayCall[kind] !== 1) problems.push(`a gateway ${kind} cost ${upstreamPerGatewayCall[kind]} upstream calls, not 1: not the same calls as the direct path`);
    }
    for (const agent of Object.values(agents)) agent.destroy();
    const gatewayCpu = cpuAfter.gateway !== null && cpuBefore.gateway !== null ? cpuAfter.gateway - cpuBefore.gateway : null;
    const simulatorCpu = cpuAfter.simulator !== null && cpuBefore.simulator !== null ? cpuAfter.simulator - cpuBefore.simulator : null;
    return {
      latencies: closed.latencies,
      upstreamPerGatewayCall,
      catalogRefreshes: background,
      cpuMs: { gateway: gatewayCpu, simulator: simulatorCpu, bench: (cpuAfter.bench.user + cpuAfter.bench.system) / 1000 },
      calls: closed.calls,
      wallSeconds: closed.wallSeconds,
      paced,
      single,
      problems,
    };
  } catch (error) {
    // A broken run says which process was gone and what it last wrote.
    const tail = (name: string, child: GatewayProcess | undefined) =>
      child === undefined ? '' : `\n${name} (pid ${child.pid}): exit code ${child.child.exitCode ?? 'running'}, signal ${child.child.signalCode ?? '-'}; stderr tail:\n${child.stderrLines().slice(-15).join('\n') || '(empty)'}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}${tail('gateway', gateway)}${tail('simulator', sim)}`);
  } finally {
    await gateway?.stop(10_000);
    await sim?.stop(10_000);
    await stopGatewayProcesses();
  }
}

function figuresOf(run: Run): Figure[] {
  const round = (value: number | null, digits = 2) => (value === null ? null : Number(value.toFixed(digits)));
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const figures: Figure[] = [];
  /** Added p50 and p99 of both kinds under one load model; `label` prefixes the row name after the kind ("" for the issue's closed loops). */
  const added = (latencies: Run['latencies'], label: string, how: string) => {
    for (const kind of ['read', 'order'] as const) {
      const gw = sorted(latencies.gateway[kind]);
      const direct = sorted(latencies.direct[kind]);
      const what = kind === 'read' ? 'read (GET /api/futures/orders/{orderId} → GET /api/v1/orders/{orderId})' : 'order (POST /api/futures/orders MARKET → POST /api/v1/orders)';
      for (const p of [50, 99] as const) {
        const g = percentile(gw, p);
        const d = percentile(direct, p);
        figures.push(
          figure(`${kind}${label}: added latency p${p}, gateway − direct`, g === null || d === null ? null : round(g - d, 3), 'ms', { op: '<=', value: TARGETS[p === 50 ? 'p50' : 'p99'] }, {
            floor: round(d, 3),
            note: `${what}: gateway p${p} ${round(g, 3)} ms beside direct p${p} ${round(d, 3)} ms (the floor column); ${gw.length} + ${direct.length} calls, ${how}`,
          }),
        );
      }
    }
  };
  added(run.latencies, '', `${CLIENTS} concurrent clients in closed loops`);
  added(
    run.paced.latencies,
    `, ${CLIENTS} clients paced at ${run.paced.rate} calls/s`,
    `${CLIENTS} clients each on a fixed schedule, ${run.paced.rate} calls/s offered in all (${PACED_SHARE} × the slower path's closed-loop rate), latency from the scheduled send`,
  );
  added(run.single.latencies, ', 1 client', 'one client in a closed loop');
  const gatewayCalls = run.calls.gateway;
  figures.push(
    figure('gateway CPU per proxied call', run.cpuMs.gateway === null ? null : round((run.cpuMs.gateway * 1000) / gatewayCalls, 0), 'µs', null, {
      note: `user+system of the gateway process over the counted slices / its ${gatewayCalls} calls (/proc, 10 ms ticks); the simulator used ${run.cpuMs.simulator === null ? '-' : round((run.cpuMs.simulator * 1000) / (gatewayCalls + run.calls.direct), 0)} µs per call, both paths`,
    }),
    figure('calls per second, gateway', round(gatewayCalls / run.wallSeconds.gateway, 0), 'calls/s', null, { floor: round(run.calls.direct / run.wallSeconds.direct, 0), note: `${CLIENTS} clients in closed loops; floor column: direct` }),
    figure(`gateway CPU per proxied call, ${CLIENTS} clients paced`, run.paced.gatewayCpuMs === null ? null : round((run.paced.gatewayCpuMs * 1000) / run.paced.calls.gateway, 0), 'µs', null, {
      note: `the same, over the paced gateway slices (${run.paced.calls.gateway} calls at ${run.paced.rate} calls/s offered; the gateway's slices took ${round(run.paced.wallSeconds.gateway, 1)} s, the direct ones ${round(run.paced.wallSeconds.direct, 1)} s)`,
    }),
    figure('gateway CPU per proxied call, 1 client', run.single.gatewayCpuMs === null ? null : round((run.single.gatewayCpuMs * 1000) / run.single.calls.gateway, 0), 'µs', null, {
      note: `the same, over the one-client gateway slices (${run.single.calls.gateway} calls)`,
    }),
    figure('upstream calls per gateway call (order / read)', run.upstreamPerGatewayCall.order, 'calls', { op: '=', value: 1 }, { note: `read: ${run.upstreamPerGatewayCall.read}; the simulator's own count, so the two paths make the same calls; besides them ${run.catalogRefreshes} contract-list refreshes (the catalog's 60 s)` }),
  );
  return figures;
}

/** p50/p90/p99/max per path and kind ("gateway order"…), in ms. */
function percentilesOf(latencies: Run['latencies']): Record<string, { p50: number | null; p90: number | null; p99: number | null; max: number | null }> {
  return Object.fromEntries(
    (['gateway', 'direct'] as const).flatMap((path) =>
      (['order', 'read'] as const).map((kind) => {
        const s = [...latencies[path][kind]].sort((a, b) => a - b);
        return [`${path} ${kind}`, { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.at(-1) ?? null }];
      }),
    ),
  );
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  if (!buildGateway()) return 1;
  console.log(`run: ${CLIENTS} clients, ${SLICES} slices alternating gateway and direct, ${ROUNDS} rounds (order + read) per client per slice...`);
  let run: Run | undefined;
  const problems: string[] = [];
  try {
    run = await measure();
    problems.push(...run.problems);
    console.log(figuresTable(figuresOf(run)));
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    console.error(`run failed: ${problems.at(-1)}`);
  }
  const output = writeReport(
    {
      benchmark: 'proxied-latency',
      title: 'Latency added to proxied calls: gateway beside the same signed calls made directly to the simulator',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: {
        clients: CLIENTS,
        slices: SLICES,
        roundsPerSlice: ROUNDS,
        symbol: SYMBOL,
        gateway: `LOG_LEVEL=warn, RATE_LIMIT_MAX=0, KUCOIN_FUTURES_POOL_QUOTA=${QUOTA}`,
        simulator: `SIM_FUTURES_QUOTA=${QUOTA}, marks and funding held`,
        gatewayNodeArgs: GATEWAY_NODE_ARGS,
        machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version },
      },
      figures: run ? figuresOf(run) : [],
      problems,
      ...(run
        ? {
            run: {
              calls: run.calls,
              wallSeconds: run.wallSeconds,
              cpuMs: run.cpuMs,
              upstreamPerGatewayCall: run.upstreamPerGatewayCall,
              catalogRefreshes: run.catalogRefreshes,
              paced: { rate: run.paced.rate, share: PACED_SHARE, calls: run.paced.calls, wallSeconds: run.paced.wallSeconds, gatewayCpuMs: run.paced.gatewayCpuMs, percentiles: percentilesOf(run.paced.latencies) },
              single: { calls: run.single.calls, wallSeconds: run.single.wallSeconds, gatewayCpuMs: run.single.gatewayCpuMs, percentiles: percentilesOf(run.single.latencies) },
              percentiles: Object.fromEntries(
                (['gateway', 'direct'] as const).flatMap((path) =>
                  (['order', 'read'] as const).map((kind) => {
                    const s = [...run!.latencies[path][kind]].sort((a, b) => a - b);
                    return [`${path} ${kind}`, { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.at(-1) ?? null }];
                  }),
                ),
              ),
            },
          }
        : {}),
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
