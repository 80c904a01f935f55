/**
 * The rollout scripts (scripts/rollout/, docs/operations.md "Rollout") run for real, phase after phase, against a
 * copy of this project: they build it, write its `.env`, start and stop `node dist/main.js` and
 * check it over loopback. The futures-on phases need a KuCoin: the simulator (src/simulator/),
 * which these tests start when it exists and skip those phases until it does.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { TEST_ADMIN_KEY, TEST_API_KEY, UNREACHABLE_KUCOIN } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { freePort, parseJsonLine } from '../support/process.js';

const SIMULATOR_ENTRY = join(projectRoot, 'src', 'simulator', 'main.ts');
const simulatorExists = existsSync(SIMULATOR_ENTRY);
/** The simulator's defaults (SIM_KEY, SIM_SECRET, SIM_PASSPHRASE), which the gateway must sign with. */
const SIM_CREDENTIALS = { KUCOIN_FUTURES_KEY: 'sim-key', KUCOIN_FUTURES_SECRET: 'sim-secret-0123456789abcdef', KUCOIN_FUTURES_PASSPHRASE: 'sim-passphrase' };
const PHASE_TIMEOUT_MS = 60_000;

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let baseUrl: string;
let simulator: ChildProcess | undefined;
let simulatorUrl: string | undefined;
/** Every gateway pid the scripts reported starting, so none outlives the suite. */
const startedPids = new Set<number>();

/** The project as a deploy has it: tracked and untracked-but-not-ignored files; node_modules linked. */
function copyProject(to: string): void {
  let files: string[] | undefined;
  try {
    files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: projectRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
  } catch {
    // Not a git checkout: copy everything but what a build or an install makes.
    const skip = new Set(['node_modules', 'dist', '.git', '.env', 'coverage', '.tmp', 'logs', 'run']);
    cpSync(projectRoot, to, { recursive: true, filter: (src) => !skip.has(src.slice(projectRoot.length + 1).split('/')[0]!) });
  }
  for (const file of files ?? []) {
    const from = join(projectRoot, file);
    if (!existsSync(from)) continue; // deleted in the work tree, still in the index
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(from, join(to, file));
  }
  symlinkSync(join(projectRoot, 'node_modules'), join(to, 'node_modules'), 'dir');
}

/** Runs bash with a minimal environment, as an operator would locally; no exit code rejects. */
function bash(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      args,
      {
        cwd: dir,
        timeout: PHASE_TIMEOUT_MS - 5_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? dir,
          SKIP_GIT: '1',
          SKIP_INSTALL: '1',
          GATEWAY_API_KEY: TEST_API_KEY,
          NPM_CONFIG_UPDATE_NOTIFIER: 'false',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        for (const match of stdout.matchAll(/started node dist\/main\.js \(pid (\d+)/g)) startedPids.add(Number(match[1]));
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** scripts/rollout/<name> of the copy; GATEWAY_DIR and GATEWAY_URL are left to their defaults. */
const runScript = (name: string, args: string[] = [], env: Record<string, string> = {}) => bash([join(dir, 'scripts', 'rollout', name), ...args], env);

/** Shell code run with lib.sh sourced, e.g. `env_set KEY VALUE` or `restart && wait_healthy`. */
const runLib = (command: string, env: Record<string, string> = {}) =>
  bash(['-c', `set -euo pipefail; source "$1"; ${command}`, 'lib', join(dir, 'scripts', 'rollout', 'lib.sh')], env);

const envFile = () => readFileSync(join(dir, '.env'), 'utf8');
const gatewayPid = () => readFileSync(join(dir, 'run', 'gateway.pid'), 'utf8').trim();
const lines = (text: string, key: string) => text.split('\n').filter((line) => line.startsWith(`${key}=`));

/** Fails with the script's whole output, so a red phase shows which check broke. */
function expectExit(run: ScriptRun, code: 'zero' | 'non-zero'): void {
  const ok = code === 'zero' ? run.code === 0 : run.code !== 0;
  if (!ok) throw new Error(`expected exit ${code}, got ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
}

function expectAllPass(run: ScriptRun): void {
  expectExit(run, 'zero');
  expect(run.stdout).not.toMatch(/^FAIL /m);
  expect(run.stdout).toMatch(/^PASS /m);
}

const positions = () => request(baseUrl, 'GET', '/api/futures/positions', { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
const flip = (enabled: boolean) =>
  request(baseUrl, 'PUT', '/api/admin/futures-switch', { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, json: { enabled, reason: 'playbook test' } });
/** Futures on at run time: FEATURE_FUTURES=true (an off environment cannot be overridden), then the runtime switch on. */
async function turnOn(): Promise<void> {
  expectExit(await runLib('env_set FEATURE_FUTURES true && restart && wait_healthy'), 'zero');
  expect((await flip(true)).status).toBe(200);
}

async function startSimulator(): Promise<void> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, SIMULATOR_ENTRY], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), SIM_PORT: '0', SIM_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  simulator = child;
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not log "listening" within 20 s\n${stderr}`)), 20_000);
    let partial = '';
    child.stdout!.on('data', (chunk) => {
      const parts = (partial + String(chunk)).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        const entry = parseJsonLine(line);
        if (entry?.event === 'listening' && typeof entry.port === 'number') {
          clearTimeout(timer);
          resolve(entry.port);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited (code ${code}) before listening\n${stderr}`));
    });
  });
  simulatorUrl = `http://127.0.0.1:${port}`;
}

/** Alive and not a zombie (an orphaned gateway's parent may never reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z';
  } catch {
    return true;
  }
}

/** A pid that is still this suite's gateway: `node dist/main.js` running in the copy. */
function isOurGateway(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/main.js') && readlinkSync(`/proc/${pid}/cwd`) === dir;
  } catch {
    return existsSync(`/proc`) ? false : true;
  }
}

async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rollout-playbook-'));
  copyProject(dir);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  if (simulatorExists) await startSimulator();
  writeFileSync(
    join(dir, '.env'),
    [
      '# written by test/rollout/playbook.test.ts',
      `PORT=${port}`,
      'HOST=127.0.0.1',
      `ADMIN_API_KEYS=${TEST_ADMIN_KEY}`,
      `GATEWAY_API_KEYS=${TEST_API_KEY}`,
      // No simulator yet: the gateway reaches nothing beyond this machine.
      `FUTURES_BASE_URL=${simulatorUrl ?? UNREACHABLE_KUCOIN}`,
      ...Object.entries(SIM_CREDENTIALS).map(([key, value]) => `${key}=${value}`),
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  const pidFile = join(dir, 'run', 'gateway.pid');
  if (existsSync(pidFile)) startedPids.add(Number(readFileSync(pidFile, 'utf8').trim()));
  await Promise.all([...startedPids].filter(isOurGateway).map(stopPid));
  if (simulator?.pid !== undefined && simulator.exitCode === null) await stopPid(simulator.pid);
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('env_set', () => {
  it('is idempotent: run twice, one line; other lines, comments and order kept; duplicates folded', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'rollout-env-'));
    try {
      writeFileSync(join(scratch, '.env'), '# settings\nFEATURE_FUTURES=true\nPORT=3001\nexport FEATURE_FUTURES = yes\nFEATURE_FUTURES_X=1\n');
      const run = await runLib('env_set FEATURE_FUTURES false && env_set FEATURE_FUTURES false && env_set LOG_LEVEL warn && env_set LOG_LEVEL warn', { GATEWAY_DIR: scratch });
      expectExit(run, 'zero');
      expect(readFileSync(join(scratch, '.env'), 'utf8')).toBe('# settings\nFEATURE_FUTURES=false\nPORT=3001\nFEATURE_FUTURES_X=1\nLOG_LEVEL=warn\n');
      expect(run.stdout).toMatch(/^PASS .*\.env sets FEATURE_FUTURES \(FEATURE_FUTURES=false\)$/m);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('stop_grace_seconds', () => {
  it.each([
    ['the defaults', '', {}, '15'],
    ['a long deadline in .env', 'UPSTREAM_DEADLINE_MS=30000\n', {}, '36'],
    ['a long shutdown timeout in .env', 'SHUTDOWN_TIMEOUT_MS=20000\nUPSTREAM_DEADLINE_MS=1000\n', {}, '25'],
    ['the environment over .env', 'UPSTREAM_DEADLINE_MS=30000\n', { UPSTREAM_DEADLINE_MS: '2000' }, '15'],
  ])('outlasts the gateway\'s own drain (%s)', async (_label, dotenv, env, want) => {
    const scratch = mkdtempSync(join(tmpdir(), 'rollout-grace-'));
    try {
      writeFileSync(join(scratch, '.env'), dotenv);
      const run = await runLib('stop_grace_seconds', { GATEWAY_DIR: scratch, ...env });
      expectExit(run, 'zero');
      expect(run.stdout.trim()).toBe(want);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('the rollout playbook, phase by phase', { timeout: PHASE_TIMEOUT_MS }, () => {
  it('phase 1: staging-flag-off builds, turns futures off, restarts and passes the off checks', async () => {
    const run = await runScript('staging-flag-off.sh');

    expectAllPass(run);
    expect(run.stdout).toMatch(/^PASS GET \/api\/futures\/positions is 404 NOT_FOUND/m);
    expect(run.stdout).toMatch(/^PASS WS upgrade on \/ws\/futures is refused with HTTP 404 \(404\)$/m);
    expect(lines(envFile(), 'FEATURE_FUTURES')).toEqual(['FEATURE_FUTURES=false']);
    expect((await positions()).status).toBe(404);
  });

  it('a failed build stops the phase before the restart: the running gateway keeps serving', async () => {
    const before = gatewayPid();
    const broken = join(dir, 'src', 'rollout-test-broken.ts');
    writeFileSync(broken, "export const broken: number = 'not a number';\n");
    let run: ScriptRun;
    try {
      run = await runScript('staging-flag-off.sh');
    } finally {
      rmSync(broken);
    }

    expectExit(run, 'non-zero');
    expect(run.stdout).toMatch(/^FAIL npm run build \(exit [1-9]\d*\)$/m);
    expect(run.stdout).not.toMatch(/stopped gateway|started node/);
    expect(gatewayPid()).toBe(before);
    expect((await request(baseUrl, 'GET', '/api/health')).status).toBe(200);
  });

  it('a failing phase exits non-zero and prints FAIL: smoke.sh on against a gateway whose switch is off', async () => {
    const run = await runScript('smoke.sh', ['on']);

    expectExit(run, 'non-zero');
    expect(run.stdout).toMatch(/^FAIL health says futures\.enabled true \(false\)$/m);
    expect(run.stdout).toMatch(/^FAIL GET \/api\/futures\/positions is 200 \(404 NOT_FOUND\)$/m);
    expect(run.stdout).toMatch(/^== smoke\.sh: \d+ of \d+ checks FAILED$/m);
  });

  it.skipIf(!simulatorExists)('phase 2: staging-flag-on turns futures on and passes the on checks against the simulator', async () => {
    const run = await runScript('staging-flag-on.sh');

    expectAllPass(run);
    expect(run.stdout).toMatch(/^PASS WS \/ws\/futures upgrades \(101\) and first sends futures_connected/m);
    // Isolated 5x at level 1 (which allows 125x): the answer says so, and no level change reached KuCoin.
    expect(run.stdout).toMatch(/^PASS leverage answer names symbol XBTUSDTM \("XBTUSDTM"\)$/m);
    expect(run.stdout).toMatch(/^PASS leverage answer says whether the risk-limit level changed \("level 1 unchanged"\)$/m);
    const usage = (await (await fetch(`${simulatorUrl}/sim/usage`)).json()) as { requests: Record<string, number> };
    expect(usage.requests['POST /api/v1/position/risk-limit-level/change']).toBeUndefined();
    expect(lines(envFile(), 'FEATURE_FUTURES')).toEqual(['FEATURE_FUTURES=true']);
    expect((await positions()).status).toBe(200);
  });

  it('phase 3: production-deploy builds and restarts with futures off', async () => {
    const run = await runScript('production-deploy.sh');

    expectAllPass(run);
    expect(lines(envFile(), 'FEATURE_FUTURES')).toEqual(['FEATURE_FUTURES=false']);
    expect((await positions()).status).toBe(404);
  });

  it.skipIf(!simulatorExists)('phase 4: production-enable turns futures on, passes the on checks and a 3 s watch', async () => {
    const run = await runScript('production-enable.sh', [], { MONITOR_SECONDS: '3', ADMIN_API_KEY: TEST_ADMIN_KEY });

    expectAllPass(run);
    expect(run.stdout).toMatch(/^PASS 5xx responses in the window at most 0 \(0\)$/m);
    expect(run.stdout).not.toMatch(/rolling back/);
    expect((await positions()).status).toBe(200);
  });

  it('phase 6: production-rollback flips the switch off at run time, well inside the two-minute budget', async () => {
    // Without the simulator phase 4 was skipped: switch futures on at run time instead.
    if ((await positions()).status === 404) await turnOn();
    expect((await positions()).status).not.toBe(404);

    const run = await runScript('production-rollback.sh', [], { ADMIN_API_KEY: TEST_ADMIN_KEY });

    expectAllPass(run);
    expect(run.stdout).toMatch(/^PASS PUT \/api\/admin\/futures-switch enabled:false/m);
    const took = Number(/^rollback took (\d+) ms \(budget 120000 ms\)$/m.exec(run.stdout)?.[1]);
    expect(took).toBeLessThan(120_000);
    console.log(`rollback (admin flip) took ${took} ms`);
    expect((await positions()).status).toBe(404);
    expect(lines(envFile(), 'FEATURE_FUTURES')).toEqual(['FEATURE_FUTURES=false']);
    const health = await request(baseUrl, 'GET', '/api/health');
    expect(health.body.data.futures).toMatchObject({ enabled: false, environment: true, runtime: false, reason: 'rollback' });
  });

  it('after a run-time rollback, production-enable says futures are still off and who turned the runtime switch off, when and why, without a rollback', async () => {
    const run = await runScript('production-enable.sh', [], { MONITOR_SECONDS: '1', ADMIN_API_KEY: TEST_ADMIN_KEY });

    expectExit(run, 'non-zero');
    expect(run.stdout).toMatch(/^FAIL futures on after the restart \(still off: runtime switch turned off by admin:[0-9a-f]{8} at \d{4}-\d\d-\d\dT[\d:.]+Z \(rollback\) on [^ ]+:\d+\)$/m);
    expect(run.stdout).not.toMatch(/rolling back|smoke on/);
    expect(run.stdout).toMatch(/^== production-enable\.sh: futures still off/m);
    expect(lines(envFile(), 'FEATURE_FUTURES')).toEqual(['FEATURE_FUTURES=true']);
    expect((await positions()).status).toBe(404);
  });

  it.skipIf(!simulatorExists)('production-enable with TURN_RUNTIME_ON=1 turns the runtime switch on and passes', async () => {
    const run = await runScript('production-enable.sh', [], { MONITOR_SECONDS: '1', ADMIN_API_KEY: TEST_ADMIN_KEY, TURN_RUNTIME_ON: '1' });

    expectAllPass(run);
    expect(run.stdout).toMatch(/^PASS PUT \/api\/admin\/futures-switch enabled:true \(TURN_RUNTIME_ON=1\) \(200\)$/m);
    expect((await positions()).status).toBe(200);
  });

  it('phase 6 without ADMIN_API_KEY: production-rollback writes .env and restarts', async () => {
    if ((await positions()).status === 404) await turnOn();
    const before = gatewayPid();

    const run = await runScript('production-rollback.sh');

    expectAllPass(run);
    expect(run.stdout).toMatch(/^PASS stopped gateway \(pid \d+\)$/m);
    expect(gatewayPid()).not.toBe(before);
    const took = Number(/^rollback took (\d+) ms/m.exec(run.stdout)?.[1]);
    expect(took).toBeLessThan(120_000);
    console.log(`rollback (restart) took ${took} ms`);
    expect((await positions()).status).toBe(404);
  });

  it('monitor.sh fails on a 5xx answered during its window', async () => {
    // KuCoin unreachable and the switch on at run time: positions answers 503.
    expectExit(await runLib(`env_set FUTURES_BASE_URL ${UNREACHABLE_KUCOIN} && env_set FEATURE_FUTURES true && restart && wait_healthy`), 'zero');
    expect((await flip(true)).status).toBe(200);

    const watching = runScript('monitor.sh', ['3'], { MONITOR_INTERVAL_SECONDS: '1' });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await positions()).status).toBeGreaterThanOrEqual(500);
    const run = await watching;
    await flip(false);

    expectExit(run, 'non-zero');
    expect(run.stdout).toMatch(/^FAIL 5xx responses in the window at most 0 \([1-9]\d*\)$/m);
    expect(run.stdout).toMatch(/^FAIL error-level lines in .* during the window at most 0 \([1-9]\d*\)$/m);
  });

  it('production-enable rolls back by itself when a check fails (KuCoin unreachable: positions is not 200)', async () => {
    expect(lines(envFile(), 'FUTURES_BASE_URL')).toEqual([`FUTURES_BASE_URL=${UNREACHABLE_KUCOIN}`]);

    // The runtime switch was left off by the last test: this run turns it on, then fails its checks.
    const run = await runScript('production-enable.sh', [], { MONITOR_SECONDS: '3', ADMIN_API_KEY: TEST_ADMIN_KEY, TURN_RUNTIME_ON: '1' });

    expectExit(run, 'non-zero');
    expect(run.stdout).toMatch(/^FAIL GET \/api\/futures\/positions is 200 \(5\d\d [A-Z_]+\)$/m);
    expect(run.stdout).not.toMatch(/^== monitor:/m);
    expect(run.stdout).toMatch(/^== production-rollback\.sh: all \d+ checks passed$/m);
    expect(run.stdout).toMatch(/^== production-enable\.sh: FAILED and rolled back/m);
    expect((await positions()).status).toBe(404);
    expect(lines(envFile(), 'FEATURE_FUTURES')).toEqual(['FEATURE_FUTURES=false']);
  });
});
