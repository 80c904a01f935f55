/**
 * Several gateway replicas as operators run them: the built gateway (`node dist/main.js`) in N
 * child processes sharing one KuCoin simulator and one real Redis (REDIS_URL), each with its own
 * working directory and STATE_DIR. Everything is started on loopback free ports and stopped by pid.
 *
 *   const set = await startReplicas({ count: 3 });
 *   await request(set.replicas[0]!.baseUrl, 'GET', '/api/health');
 *   await set.restartReplica(1);          // same port, same STATE_DIR, same environment
 *   await set.redis.kill(); await set.redis.restart();
 *   afterAll(() => set.stop());
 *
 * `npm test` builds dist/ before vitest runs; a bare `npx vitest run test/replicas` needs
 * `npm run build` first (it fails saying so rather than testing stale or missing code).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { builtGateway, freePort, simulator, spawnGatewayProcess, startGatewayProcess, type GatewayProcess, type SpawnedGateway } from './process.js';
import { startRedis, type TestRedis } from './redis.js';
import { simControlAt } from './sim-control.js';

export const REPLICA_SIM = { SIM_KEY: 'replica-sim-key', SIM_SECRET: 'replica-sim-secret-0123456789ab', SIM_PASSPHRASE: 'replica-sim-pass' } as const;
export const REPLICA_ADMIN_KEY = 'replica-admin-key-5c1e9a7b3d2f';
export const adminHeaders = { authorization: `Bearer ${REPLICA_ADMIN_KEY}` } as const;

const DIST_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;

export interface Replica {
  /** 0-based position in `replicas`. */
  readonly index: number;
  readonly port: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  /** Its working directory; STATE_DIR is `<cwd>/state`. */
  readonly cwd: string;
  /** The running process (replaced by restartReplica). */
  process: SpawnedGateway;
}

export interface ReplicaSetOptions {
  count?: number;
  /** Added to every replica's environment (after the defaults). */
  env?: Record<string, string>;
  /** Added to the simulator's environment. */
  simEnv?: Record<string, string>;
  /** false: no Redis and no REDIS_URL, replicas sharing nothing (the single-process mode, N times). */
  redis?: boolean;
}

export interface ReplicaSet {
  readonly sim: GatewayProcess;
  /** The simulator's control API (GET /sim/state, /sim/usage, POST /sim/faults …). */
  readonly simControl: (method: string, path: string, body?: unknown) => Promise<any>;
  /** undefined when started with `redis: false`. */
  readonly redis: TestRedis | undefined;
  readonly replicas: Replica[];
  readonly urls: string[];
  /** SIGTERM by pid (SIGKILL after the grace), waits for the exit. */
  stopReplica(index: number): Promise<void>;
  /** Stops it if running, then starts it again on the same port and STATE_DIR; `env` overrides. */
  restartReplica(index: number, env?: Record<string, string>): Promise<Replica>;
  /** Everything, by pid: replicas, simulator, Redis. */
  stop(): Promise<void>;
}

/** Polls GET /api/health until 200 (the replica listens and serves), failing early if it exits. */
async function waitHealthy(spawned: SpawnedGateway, baseUrl: string): Promise<void> {
  let exited = false;
  void spawned.exited.then(() => (exited = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ok = await fetch(`${baseUrl}/api/health`).then(
      async (res) => (await res.arrayBuffer(), res.status === 200),
      () => false,
    );
    if (ok) return;
    if (exited || Date.now() > deadline) {
      if (!exited) await spawned.stop(1_000);
      throw new Error(`replica ${spawned.pid} on ${baseUrl} ${exited ? 'exited before answering' : 'did not answer /api/health in time'}\nstderr:\n${spawned.stderrLines().join('\n') || '(empty)'}\nstdout:\n${spawned.stdoutLines().slice(-30).join('\n') || '(empty)'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startReplicas(options: ReplicaSetOptions = {}): Promise<ReplicaSet> {
  if (!existsSync(DIST_MAIN)) throw new Error(`${DIST_MAIN} is missing: the replica suite runs the built gateway; run \`npm run build\` first (npm test does).`);
  const count = options.count ?? 3;
  const redis = options.redis === false ? undefined : await startRedis();
  let sim: GatewayProcess | undefined;
  const replicas: Replica[] = [];
  const envs: Record<string, string>[] = [];
  const stopAll = async () => {
    await Promise.all(replicas.map((r) => r.process.stop(5_000)));
    await sim?.stop(5_000);
    await redis?.stop();
    for (const r of replicas) rmSync(r.cwd, { recursive: true, force: true });
  };
  try {
    sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_LOG_LEVEL: 'warn', ...REPLICA_SIM, ...options.simEnv } });
    const simUrl = sim.baseUrl;
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    await Promise.all(
      ports.map(async (port, index) => {
        const cwd = mkdtempSync(join(tmpdir(), `replica-${index + 1}-`));
        mkdirSync(join(cwd, 'state'), { recursive: true });
        const env: Record<string, string> = {
          FEATURE_FUTURES: 'true',
          ...gatewayEnvForSimulator(simUrl, REPLICA_SIM),
          ADMIN_API_KEYS: REPLICA_ADMIN_KEY,
          STATE_DIR: join(cwd, 'state'),
          // warn: a log line per request is load, not what these tests look at.
          LOG_LEVEL: 'warn',
          ...(redis ? { REDIS_URL: redis.url } : {}),
          ...options.env,
          PORT: String(port),
        };
        envs[index] = env;
        const spawned = spawnGatewayProcess({ args: builtGateway(), cwd, env });
        const baseUrl = `http://127.0.0.1:${port}`;
        replicas[index] = { index, port, baseUrl, wsUrl: `ws://127.0.0.1:${port}`, cwd, process: spawned };
        await waitHealthy(spawned, baseUrl);
      }),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }

  const started = sim;
  return {
    sim: started,
    simControl: simControlAt(() => started.baseUrl),
    redis,
    replicas,
    urls: replicas.map((r) => r.baseUrl),
    async stopReplica(index) {
      await replicas[index]!.process.stop(5_000);
    },
    async restartReplica(index, env = {}) {
      const replica = replicas[index]!;
      await replica.process.stop(5_000);
      envs[index] = { ...envs[index], ...env, PORT: String(replica.port) };
      replica.process = spawnGatewayProcess({ args: builtGateway(), cwd: replica.cwd, env: envs[index]! });
      await waitHealthy(replica.process, replica.baseUrl);
      return replica;
    },
    stop: stopAll,
  };
}

/** Polls `check` every 10 ms until it returns true; the elapsed ms, or an error after `timeoutMs`. */
export async function pollUntil(what: string | (() => string), check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`${typeof what === 'function' ? what() : what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `name{labels} value` lines of a Prometheus text answer. */
export function metricValues(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const labels: Record<string, string> = {};
      const open = line.indexOf('{');
      if (open >= 0) for (const [, key, value] of line.slice(open + 1, line.lastIndexOf('}')).matchAll(/(\w+)="([^"]*)"/g)) labels[key!] = value!;
      return { labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) };
    });
}
