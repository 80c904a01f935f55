/**
 * The simulator and the built gateway (`node dist/main.js`; run `npm run build` first) as two child
 * processes on free loopback ports, for the fault and soak suites and scripts/bench/soak.ts, plus a
 * reader of the gateway's /metrics text.
 *
 *   const stack = await startStack({ gatewayEnv: { UPSTREAM_TIMEOUT_MS: '300' } });
 *   ...
 *   await stack.stop(); // both children, by pid
 */
import { builtGateway, logEntries, simulator, startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { request } from '../support/http-client.js';
import { simControlAt } from '../support/sim-control.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';

export const SIM_CREDENTIALS = { SIM_KEY: 'rel-key', SIM_SECRET: 'rel-secret-0123456789abcdef', SIM_PASSPHRASE: 'rel-passphrase' };

export interface Stack {
  sim: GatewayProcess;
  gateway: GatewayProcess;
  simControl: (method: string, path: string, body?: unknown) => Promise<any>;
  /** GET /metrics through `request` (so the answer is checked against openapi.yaml), parsed. */
  metrics(): Promise<Metrics>;
  /** Stops the gateway, then the simulator, each by its pid (SIGTERM, SIGKILL after the grace). */
  stop(): Promise<void>;
}

export interface StackOptions {
  gatewayEnv?: Record<string, string>;
  simEnv?: Record<string, string>;
  /** Node flags for the gateway child, before its entry file. */
  gatewayNodeArgs?: string[];
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = await startGatewayProcess({
    args: simulator(),
    env: {
      SIM_PORT: '0',
      // No price walk and no funding during a run: resting orders stay resting, and nothing but the
      // load moves the account.
      SIM_MARK_INTERVAL_MS: '3600000',
      SIM_FUNDING_INTERVAL_MS: '3600000',
      // The load, not KuCoin's quota, is under test: only injected 429000s are wanted.
      SIM_FUTURES_QUOTA: '1000000',
      SIM_LOG_LEVEL: 'warn',
      ...SIM_CREDENTIALS,
      ...options.simEnv,
    },
  });
  let gateway: GatewayProcess;
  try {
    gateway = await startGatewayProcess({
      args: [...(options.gatewayNodeArgs ?? []), ...builtGateway()],
      env: {
        FEATURE_FUTURES: 'true',
        ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS),
        // Every test client comes from 127.0.0.1: one inbound bucket would throttle the load itself.
        RATE_LIMIT_MAX: '0',
        KUCOIN_FUTURES_POOL_QUOTA: '1000000',
        // info: the gateway's "listening" line, which startGatewayProcess waits for, is an info line.
        LOG_LEVEL: 'info',
        ...options.gatewayEnv,
      },
    });
  } catch (error) {
    await sim.stop(2_000);
    throw error;
  }
  return {
    sim,
    gateway,
    simControl: simControlAt(() => sim.baseUrl),
    async metrics() {
      const res = await request(gateway.baseUrl, 'GET', '/metrics');
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
      return parseMetrics(res.text);
    },
    async stop() {
      await gateway.stop(5_000);
      await sim.stop(5_000);
    },
  };
}

/** Prometheus text as a map from `name{labels}` (labels as written) to value. */
export type Metrics = Map<string, number>;

export function parseMetrics(text: string): Metrics {
  const out: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (match) out.set(match[1]!, Number(match[2]));
  }
  return out;
}

/** The sum of every series of `name` whose labels include all of `labels` (0 when none). */
export function metricSum(metrics: Metrics, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    const brace = series.indexOf('{');
    const seriesName = brace === -1 ? series : series.slice(0, brace);
    if (seriesName !== name) continue;
    const labelText = brace === -1 ? '' : series.slice(brace);
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** `metricSum` of `after` minus that of `before`. */
export const metricDelta = (before: Metrics, after: Metrics, name: string, labels: Record<string, string> = {}): number =>
  metricSum(after, name, labels) - metricSum(before, name, labels);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The gateway's log entries at error or fatal that are not the request line of a typed 5xx answer
 * (those are logged at error by design): a 500, an unhandled error, `ws_feed_bug`,
 * `ws_message_bug`... each one a gateway bug.
 */
export function bugLines(gateway: GatewayProcess): Record<string, any>[] {
  return logEntries(gateway).filter((entry) => {
    if (entry.level !== 'error' && entry.level !== 'fatal' && !(typeof entry.level === 'number' && entry.level >= 50)) return false;
    const status = entry.res?.statusCode;
    return !(typeof status === 'number' && status > 500 && status < 600);
  });
}
