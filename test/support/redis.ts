/**
 * A real Redis for tests: `redis-server` (Debian's package; `.ci/run` installs it) started on a free
 * loopback port, with no persistence, and stopped by its pid.
 *
 *   const redis = await startRedis();
 *   ... REDIS_URL: redis.url ...
 *   await redis.kill();     // SIGKILL, as a crash: the port is freed
 *   await redis.restart();  // the same port again, empty
 *   afterAll(() => redis.stop());
 *
 * Without `redis-server` on PATH it throws, naming the package to install: a suite that needs Redis
 * fails, it never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createConnection } from 'node:net';
import { pino } from 'pino';
import { expect } from 'vitest';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';

export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, with `:<password>@` when started with one */
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGTERM by pid, waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL by pid (a crash), waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Runs one command through redis-cli-free RESP over a socket: enough for FLUSHALL and checks. */
  command(...args: string[]): Promise<string>;
}

export const REDIS_MISSING =
  'redis-server is not on PATH: the shared-state tests need a real Redis. Install it with `apt-get install -y redis-server` (Debian), as .ci/run does.';

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Sends one command as RESP and returns the first reply line (`+OK`, `:1`, `$3` …) or the bulk string. */
function resp(port: number, args: string[], timeoutMs = 1_000, password?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on ${port} did not answer ${args[0]}`));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    let authReply = password !== undefined;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      if (authReply) {
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        if (buffer.slice(0, end) !== '+OK') return finish(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        authReply = false;
        if (buffer === '') return;
      }
      const lines = buffer.split('\r\n');
      if (lines.length < 2) return;
      const first = lines[0] ?? '';
      if (first.startsWith('$') && first !== '$-1') {
        if (lines.length < 3) return;
        finish(lines[1] ?? '');
      } else finish(first);
    });
    const finish = (reply: string) => {
      clearTimeout(timer);
      socket.end();
      resolve(reply);
    };
    const encode = (parts: string[]) => `*${parts.length}\r\n${parts.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
    socket.write((password !== undefined ? encode(['AUTH', password]) : '') + encode(args));
  });
}

async function waitForPing(port: number, child: ChildProcess, password: string | undefined, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} before answering on ${port}`);
    try {
      if ((await resp(port, ['PING'], 200, password)) === '+PONG') return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`redis-server did not answer PING on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface StartRedisOptions {
  /** Started with `--requirepass`; the URL then carries it (`redis://:<password>@127.0.0.1:<port>`). */
  password?: string;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  if (!redisServerAvailable()) throw new Error(REDIS_MISSING);
  const port = await freePort();
  const { password } = options;
  const auth = password === undefined ? [] : ['--requirepass', password];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', ...auth], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForPing(port, child, password);
  };
  const signal = async (name: NodeJS.Signals) => {
    const exited = exitOf(child);
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, name);
    await exited;
  };
  await launch();
  return {
    port,
    url: password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    get pid() {
      return child.pid;
    },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    restart: async () => {
      await signal('SIGKILL');
      await launch();
    },
    command: (...args) => resp(port, args, 1_000, password),
  };
}

/**
 * The gateway's own connection (SharedRedis) for a test, silent, ready before it is returned;
 * `closeSharedRedis()` (in afterAll) closes every one opened.
 */
const openConnections: SharedRedis[] = [];

export async function connectShared(url: string, options: { keyPrefix?: string; metrics?: Metrics } = {}): Promise<SharedRedis> {
  const shared = new SharedRedis({ url, keyPrefix: options.keyPrefix ?? 'test:', logger: pino({ level: 'silent' }), metrics: options.metrics ?? createMetrics() });
  openConnections.push(shared);
  expect(await shared.ready(5_000)).toBe(true);
  return shared;
}

export async function closeSharedRedis(): Promise<void> {
  await Promise.all(openConnections.splice(0).map((shared) => shared.close()));
}
