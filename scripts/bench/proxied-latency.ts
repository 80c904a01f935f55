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
 *    answer. Added p50 (p99) = the gateway's p50 (p99) minus the direct one, per call kind.
 *
 * Environment: BENCH_PROXIED_CLIENTS (50), BENCH_PROXIED_SLICES (10), BENCH_PROXIED_ROUNDS (20),
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
import { integerAtLeast } from './settings.js';

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

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopGatewayProcesses().finally(() => process.exit(130)));
}

type Path = 'gateway' | 'direct';
type Kind = 'order' | 'read';

interface Answer {
  status: number;
  body: any;
  ms: number;
}

/** One HTTP call on a keep-alive agent, timed from before the request to the end of the answer. */
function call(agent: Agent, baseUrl: string, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const url = new URL(path, baseUrl);
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // left as text
          }
          done({ status: res.statusCode ?? 0, body: parsed, ms });
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

interface Run {
  latencies: Record<Path, Record<Kind, number[]>>;
  upstreamPerGatewayCall: Record<Kind, number>;
  catalogRefreshes: number;
  cpuMs: { gateway: number | null; simulator: number | null; bench: number };
  calls: Record<Path, number>;
  wallSeconds: Record<Path, number>;
  problems: string[];
}

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
    const credentials = { key: SIM.SIM_KEY, secret: SIM.SIM_SECRET, passphrase: SIM.SIM_PASSPHRASE };
    const agents: Record<Path, Agent> = { gateway: new Agent({ keepAlive: true, maxSockets: CLIENTS }), direct: new Agent({ keepAlive: true, maxSockets: CLIENTS }) };
    const signed = (method: string, path: string, body: string) => signedHeaders(credentials, SIM_KEY_VERSION, String(Date.now()), method, path, body);

    /** One round of one client on one path: an order, then a read of it; each latency recorded. */
    const round = async (path: Path, client: number, n: number, record: (kind: Kind, ms: number) => void): Promise<void> => {
      const side = (client + n) % 2 === 0 ? 'BUY' : 'SELL';
      let orderId: string;
      if (path === 'gateway') {
        const body = JSON.stringify({ symbol: 'BTCUSDTM', side, type: 'MARKET', qty: 1, marginMode: 'ISOLATED', leverage: LEVERAGE });
        const placed = await call(agents.gateway, gateway!.baseUrl, 'POST', '/api/futures/orders', body, {});
        if (placed.status !== 201) throw new Error(`gateway order: ${placed.status} ${JSON.stringify(placed.body).slice(0, 300)}`);
        record('order', placed.ms);
        orderId = placed.body.data.orderId;
        const read = await call(agents.gateway, gateway!.baseUrl, 'GET', `/api/futures/orders/${orderId}`, undefined, {});
        if (read.status !== 200 || read.body?.data?.orderId !== orderId) throw new Error(`gateway read: ${read.status} ${JSON.stringify(read.body).slice(0, 300)}`);
        record('read', read.ms);
      } else {
        // What the gateway sends upstream for that order (src/futures/orders.ts createOrder).
        const body = JSON.stringify({ clientOid: randomUUID().replaceAll('-', ''), side: side.toLowerCase(), symbol: SYMBOL, type: 'market', size: 1, leverage: LEVERAGE, marginMode: 'ISOLATED' });
        const placed = await call(agents.direct, sim!.baseUrl, 'POST', '/api/v1/orders', body, signed('POST', '/api/v1/orders', body));
        if (placed.status !== 200 || placed.body?.code !== '200000') throw new Error(`direct order: ${placed.status} ${JSON.stringify(placed.body).slice(0, 300)}`);
        record('order', placed.ms);
        orderId = placed.body.data.orderId;
        const readPath = `/api/v1/orders/${orderId}`;
        const read = await call(agents.direct, sim!.baseUrl, 'GET', readPath, undefined, signed('GET', readPath, ''));
        if (read.status !== 200 || read.body?.code !== '200000' || read.body?.data?.id !== orderId) throw new Error(`direct read: ${read.status} ${JSON.stringify(read.body).slice(0, 300)}`);
        record('read', read.ms);
      }
    };
    const latencies: Run['latencies'] = { gateway: { order: [], read: [] }, direct: { order: [], read: [] } };
    const calls: Run['calls'] = { gateway: 0, direct: 0 };
    const wallSeconds: Run['wallSeconds'] = { gateway: 0, direct: 0 };
    let roundNo = 0;
    const slice = async (path: Path, counted: boolean): Promise<void> => {
      const first = roundNo;
      roundNo += ROUNDS;
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let n = first; n < first + ROUNDS; n += 1) {
            await round(path, client, n, (kind, ms) => {
              if (!counted) return;
              latencies[path][kind].push(ms);
              calls[path] += 1;
            });
          }
        }),
      );
      if (counted) wallSeconds[path] += Number(process.hrtime.bigint() - started) / 1e9;
    };

    const simRequests = async (): Promise<Record<string, number>> => ((await call(agents.direct, sim!.baseUrl, 'GET', '/sim/state', undefined, {})).body?.requests ?? {}) as Record<string, number>;
    await slice('gateway', false);
    await slice('direct', false);
    const before = await simRequests();
    const cpuBefore = { gateway: processCpuMs(gateway.pid), simulator: processCpuMs(sim.pid), bench: process.cpuUsage() };
    for (let i = 0; i < SLICES; i += 1) await slice(i % 2 === 0 ? 'gateway' : 'direct', true);
    const cpuAfter = { gateway: processCpuMs(gateway.pid), simulator: processCpuMs(sim.pid), bench: process.cpuUsage(cpuBefore.bench) };
    const after = await simRequests();
    const delta = (route: string) => (after[route] ?? 0) - (before[route] ?? 0);
    const directPerKind = latencies.direct.order.length;
    const upstreamPerGatewayCall = {
      order: (delta('POST /api/v1/orders') - directPerKind) / latencies.gateway.order.length,
      read: (delta('GET /api/v1/orders/{orderId}') - latencies.direct.read.length) / latencies.gateway.read.length,
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
    return { latencies, upstreamPerGatewayCall, catalogRefreshes: background, cpuMs: { gateway: gatewayCpu, simulator: simulatorCpu, bench: (cpuAfter.bench.user + cpuAfter.bench.system) / 1000 }, calls, wallSeconds, problems };
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
  for (const kind of ['read', 'order'] as const) {
    const gw = sorted(run.latencies.gateway[kind]);
    const direct = sorted(run.latencies.direct[kind]);
    const what = kind === 'read' ? 'read (GET /api/futures/orders/{orderId} → GET /api/v1/orders/{orderId})' : 'order (POST /api/futures/orders MARKET → POST /api/v1/orders)';
    for (const p of [50, 99] as const) {
      const g = percentile(gw, p);
      const d = percentile(direct, p);
      figures.push(
        figure(`${kind}: added latency p${p}, gateway − direct`, g === null || d === null ? null : round(g - d, 3), 'ms', { op: '<=', value: TARGETS[p === 50 ? 'p50' : 'p99'] }, {
          floor: round(d, 3),
          note: `${what}: gateway p${p} ${round(g, 3)} ms beside direct p${p} ${round(d, 3)} ms (the floor column); ${gw.length} + ${direct.length} calls, ${CLIENTS} concurrent clients`,
        }),
      );
    }
  }
  const gatewayCalls = run.calls.gateway;
  figures.push(
    figure('gateway CPU per proxied call', run.cpuMs.gateway === null ? null : round((run.cpuMs.gateway * 1000) / gatewayCalls, 0), 'µs', null, {
      note: `user+system of the gateway process over the counted slices / its ${gatewayCalls} calls (/proc, 10 ms ticks); the simulator used ${run.cpuMs.simulator === null ? '-' : round((run.cpuMs.simulator * 1000) / (gatewayCalls + run.calls.direct), 0)} µs per call, both paths`,
    }),
    figure('calls per second, gateway', round(gatewayCalls / run.wallSeconds.gateway, 0), 'calls/s', null, { floor: round(run.calls.direct / run.wallSeconds.direct, 0), note: `${CLIENTS} clients in closed loops; floor column: direct` }),
    figure('upstream calls per gateway call (order / read)', run.upstreamPerGatewayCall.order, 'calls', { op: '=', value: 1 }, { note: `read: ${run.upstreamPerGatewayCall.read}; the simulator's own count, so the two paths make the same calls; besides them ${run.catalogRefreshes} contract-list refreshes (the catalog's 60 s)` }),
  );
  return figures;
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
