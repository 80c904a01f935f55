/**
 * `npm run demo`: the KuCoin simulator and the gateway (futures on, matching credentials) as two
 * child processes on loopback, ready for the README's curl checks (and docs/operations.md's). Ctrl-C (or SIGTERM) stops both.
 * Ports: DEMO_GATEWAY_PORT (3001) and DEMO_SIM_PORT (4010).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  for (const child of children) child.kill('SIGTERM');
  process.exitCode = 1;
});
