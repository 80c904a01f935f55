/**
 * `npm run demo -- --replicas 3` as someone trying it runs it: Redis, the simulator, three
 * gateways and the round-robin front come up on the ports the DEMO_* variables name, health
 * through the front reaches all three replicas (each counts its own), and Ctrl-C (SIGINT to the
 * demo's process group, as a terminal sends it) stops every process it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { freePort } from '../support/process.js';
import { redisServerAvailable, REDIS_MISSING } from '../support/redis.js';
import { metricValues, pollUntil } from '../support/replicas.js';
import { projectRoot } from '../bench/run-script.js';
import { connectFeedClient } from '../ws/ws-client.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let groupPid: number | undefined;
afterAll(() => {
  // Whatever happened in the test, nothing it started outlives it.
  if (groupPid !== undefined && alive(groupPid)) process.kill(-groupPid, 'SIGKILL');
});

describe('npm run demo -- --replicas 3', () => {
  it('serves health through the front from all three replicas and stops everything on Ctrl-C', async () => {
    if (!redisServerAvailable()) throw new Error(REDIS_MISSING);
    const [front, sim, redis] = await Promise.all([freePort(), freePort(), freePort()]);
    const child = spawn('npm', ['run', 'demo', '--', '--replicas', '3'], {
      cwd: projectRoot,
      // Its own process group, so the SIGINT below reaches the demo and its children as Ctrl-C would.
      detached: true,
      env: { ...process.env, DEMO_GATEWAY_PORT: String(front), DEMO_SIM_PORT: String(sim), DEMO_REDIS_PORT: String(redis), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    groupPid = child.pid!;
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    await pollUntil(() => `the demo's ready text\n${stdout}\n${stderr}`, async () => stdout.includes('Ctrl-C stops everything.'), 40_000);
    const frontUrl = `http://127.0.0.1:${front}`;
    expect(stdout).toContain(`Front             ${frontUrl}`);
    const replicas = [...stdout.matchAll(/Replica (\d)\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(pid (\d+)\)/g)].map((m) => ({ n: m[1]!, url: m[2]!, pid: Number(m[3]) }));
    expect(replicas.map((r) => r.n)).toEqual(['1', '2', '3']);
    const pids = [...stdout.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(6); // redis, simulator, 3 replicas, the demo (front)

    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await request(frontUrl, 'GET', '/api/health');
      expect(res.status).toBe(200);
      expect(res.body.data.futures.enabled).toBe(true);
      seen.push(res.headers.get('x-replica') ?? 'none');
    }
    expect([...new Set(seen)].sort()).toEqual(['1', '2', '3']);
    // The front's header is not taken on trust: each replica counted health requests itself.
    for (const replica of replicas) {
      const metrics = await request(replica.url, 'GET', '/metrics');
      const health = metricValues(metrics.text, 'gateway_http_requests_total').filter((m) => m.labels.route === '/api/health' && m.labels.status === '200');
      expect(health.reduce((sum, m) => sum + m.value, 0), `replica ${replica.n}`).toBeGreaterThanOrEqual(2);
    }

    // The WebSocket upgrade passes through the front too (messages checked against asyncapi.yaml).
    const feed = await connectFeedClient(`ws://127.0.0.1:${front}/ws/futures`);
    expect((await feed.take(1))[0].type).toBe('futures_connected');
    await feed.close();

    process.kill(-groupPid, 'SIGINT');
    await pollUntil('the demo to exit after Ctrl-C', async () => child.exitCode !== null || child.signalCode !== null, 20_000);
    await exited;
    await pollUntil(`every process the demo started to be gone (${pids.join(', ')})`, async () => pids.every((pid) => !alive(pid)), 15_000);
  }, 80_000);
});

describe('npm run demo -- --replicas 3 without redis-server', () => {
  it('stops at once with the install command, starting nothing', () => {
    // A PATH holding node alone: no redis-server on it.
    const bin = mkdtempSync(join(tmpdir(), 'demo-no-redis-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--replicas', '3'], {
        cwd: projectRoot,
        env: { PATH: bin, HOME: process.env.HOME ?? bin },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain('redis-server is not on PATH');
      expect(run.stderr).toContain('apt-get install -y redis-server');
      expect(run.stdout).not.toContain('KuCoin simulator');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  }, 30_000);
});
