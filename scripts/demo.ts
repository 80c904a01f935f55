/**
 * `npm run demo`: the KuCoin simulator and the gateway (futures on, matching credentials) as two
 * child processes on loopback, ready for the README's curl checks (and docs/operations.md's). Ctrl-C (or SIGTERM) stops both.
 * Ports: DEMO_GATEWAY_PORT (3001) and DEMO_SIM_PORT (4010).
 *
 * `npm run demo -- --replicas 3`: a redis-server from PATH (DEMO_REDIS_PORT, 6390), the simulator,
 * three gateways sharing that Redis (each on a free port, STATE_DIR data/replica-<n>) and a
 * round-robin front (scripts/replicas/front.ts) on DEMO_GATEWAY_PORT. Ctrl-C stops all by pid.
 * A port of 0 means any free one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startFront, type Front } from './replicas/front.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const gatewayPort = process.env.DEMO_GATEWAY_PORT ?? '3001';
const simPort = process.env.DEMO_SIM_PORT ?? '4010';
const credentials = { key: 'sim-key', secret: 'sim-secret-0123456789abcdef', passphrase: 'sim-passphrase' };
const adminKey = 'demo-admin-key-0123456789';
const children: ChildProcess[] = [];

function start(name: string, entry: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { event?: string; port?: number; level?: string | number; msg?: string };
        if (entry.event === 'listening' && typeof entry.port === 'number') resolve({ child, port: entry.port });
        if (entry.level === 'error' || entry.level === 'warn' || entry.level === 'fatal') {
          const detail = entry as { code?: string; req?: { method?: string; path?: string }; res?: { statusCode?: number } };
          const request = detail.req ? ` ${detail.req.method} ${detail.req.path} -> ${detail.res?.statusCode} ${detail.code ?? ''}` : '';
          process.stdout.write(`[${name}] ${entry.msg ?? line}${request}\n`);
        }
      } catch {
        process.stdout.write(`[${name}] ${line}\n`);
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before it listened`)));
  });
}

function demoStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-demo-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--replicas');
  if (flag >= 0) return replicas(process.argv[flag + 1]);

  const sim = await start('sim', 'src/simulator/main.ts', {
    SIM_PORT: simPort,
    SIM_HOST: '127.0.0.1',
    SIM_KEY: credentials.key,
    SIM_SECRET: credentials.secret,
    SIM_PASSPHRASE: credentials.passphrase,
  });
  const gateway = await start('gateway', 'src/main.ts', {
    PORT: gatewayPort,
    HOST: '127.0.0.1',
    FEATURE_FUTURES: 'true',
    // A state of its own per run: a kill-switch flip tried in one demo (kept in switch.json) must not start the next one off.
    STATE_DIR: demoStateDir(),
    FUTURES_BASE_URL: `http://127.0.0.1:${sim.port}`,
    KUCOIN_FUTURES_KEY: credentials.key,
    KUCOIN_FUTURES_SECRET: credentials.secret,
    KUCOIN_FUTURES_PASSPHRASE: credentials.passphrase,
    ADMIN_API_KEYS: adminKey,
    // info, so the `listening` line arrives; only warnings and errors are echoed below.
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  const g = `http://127.0.0.1:${gateway.port}`;
  process.stdout.write(
    [
      '',
      `KuCoin simulator  http://127.0.0.1:${sim.port}   (control API: curl http://127.0.0.1:${sim.port}/sim/state)`,
      `Gateway           ${g}   futures ON, admin key ${adminKey}`,
      '',
      'Try:',
      `  curl ${g}/api/health`,
      `  curl ${g}/api/futures/positions`,
      `  curl -X PUT ${g}/api/futures/leverage -H 'content-type: application/json' -d '{"symbol":"BTCUSDTM","leverage":5,"marginMode":"cross"}'`,
      `  curl ${g}/api/futures/funding/BTCUSDTM`,
      `  curl -X POST ${g}/api/futures/orders -H 'content-type: application/json' -d '{"symbol":"BTCUSDTM","side":"BUY","type":"MARKET","qty":1}'`,
      `  curl -X DELETE ${g}/api/futures/positions/BTCUSDTM`,
      `  npx wscat -c ws://127.0.0.1:${gateway.port}/ws/futures`,
      `  curl -X PUT ${g}/api/admin/futures-switch -H 'authorization: Bearer ${adminKey}' -H 'content-type: application/json' -d '{"enabled":false,"reason":"demo"}'`,
      '',
      'Ctrl-C stops both.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const child of [gateway.child, sim.child]) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  // A last resort if this process ends some other way: never leave the two servers behind.
  process.once('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGTERM')));
  // If either dies, stop the other: a half demo would only confuse.
  for (const child of [gateway.child, sim.child]) child.once('exit', stop);
  await Promise.all([gateway.child, sim.child].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
}

function freePort(): Promise<number> {
  return new Promise((found, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });
}

const REDIS_MISSING = [
  'redis-server is not on PATH: `npm run demo -- --replicas N` runs one for the replicas to share.',
  'Install it: `sudo apt-get install -y redis-server` (Debian, Ubuntu), `brew install redis` (macOS), or run without --replicas (Node only).',
].join('\n');

/** Whether a Redis answers PING on the port (RESP over a socket; no redis-cli needed). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(200, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
  });
}

async function startRedisServer(port: number): Promise<ChildProcess> {
  // No persistence: the demo's Redis starts empty and leaves no dump file behind.
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const until = Date.now() + 5_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} (is port ${port} taken? set DEMO_REDIS_PORT)`);
    const up = await ping(port);
    if (up) return child;
    if (Date.now() > until) throw new Error(`redis-server did not answer on port ${port} within 5 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function replicas(countText: string | undefined): Promise<void> {
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error(`--replicas takes a number from 1 to 16, got ${countText ?? 'nothing'}`);
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write(`${REDIS_MISSING}\n`);
    process.exitCode = 1;
    return;
  }
  const redisPort = Number(process.env.DEMO_REDIS_PORT ?? '6390') || (await freePort());
  const redis = await startRedisServer(redisPort);
  const sim = await start('sim', 'src/simulator/main.ts', {
    SIM_PORT: simPort,
    SIM_HOST: '127.0.0.1',
    SIM_KEY: credentials.key,
    SIM_SECRET: credentials.secret,
    SIM_PASSPHRASE: credentials.passphrase,
  });
  const gateways = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      start(`replica ${i + 1}`, 'src/main.ts', {
        PORT: '0',
        HOST: '127.0.0.1',
        FEATURE_FUTURES: 'true',
        FUTURES_BASE_URL: `http://127.0.0.1:${sim.port}`,
        KUCOIN_FUTURES_KEY: credentials.key,
        KUCOIN_FUTURES_SECRET: credentials.secret,
        KUCOIN_FUTURES_PASSPHRASE: credentials.passphrase,
        ADMIN_API_KEYS: adminKey,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        STATE_DIR: `data/replica-${i + 1}`,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      }),
    ),
  );
  const front: Front = await startFront(gateways.map((g) => ({ host: '127.0.0.1', port: g.port })), Number(gatewayPort));
  const g = `http://127.0.0.1:${front.port}`;
  process.stdout.write(
    [
      '',
      `Redis             redis://127.0.0.1:${redisPort}   (pid ${redis.pid})`,
      `KuCoin simulator  http://127.0.0.1:${sim.port}   (pid ${sim.child.pid})`,
      ...gateways.map((r, i) => `Replica ${i + 1}         http://127.0.0.1:${r.port}   (pid ${r.child.pid})`),
      `Front             ${g}   round robin over the ${count} replicas, answers name theirs in x-replica (pid ${process.pid})`,
      `futures ON, admin key ${adminKey}`,
      '',
      'Try:',
      `  for i in 1 2 3; do curl -s -o /dev/null -D - ${g}/api/health | grep -i x-replica; done`,
      `  curl -X POST ${g}/api/futures/orders -H 'content-type: application/json' -H 'idempotency-key: demo-1' -d '{"symbol":"BTCUSDTM","side":"BUY","type":"MARKET","qty":1}'   (twice: one order)`,
      `  curl -X PUT ${g}/api/admin/futures-switch -H 'authorization: Bearer ${adminKey}' -H 'content-type: application/json' -d '{"enabled":false,"reason":"demo"}'`,
      ...gateways.map((r) => `  curl -i http://127.0.0.1:${r.port}/api/futures/positions`),
      `  npx wscat -c ws://127.0.0.1:${front.port}/ws/futures`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  const all = [...gateways.map((r) => r.child), sim.child, redis];
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void front.close();
    // Gateways first, so none logs the shared Redis going away under it.
    for (const child of all.slice(0, -1)) child.kill('SIGTERM');
    void Promise.all(gateways.map((r) => exitOf(r.child))).then(() => redis.kill('SIGTERM'));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  process.once('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGTERM')));
  for (const child of all) child.once('exit', stop);
  await Promise.all(all.map(exitOf));
}

function exitOf(child: ChildProcess): Promise<unknown> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  for (const child of children) child.kill('SIGTERM');
  process.exitCode = 1;
});
