/**
 * Smoke test of benchmark 3 (scripts/bench/fan-out.ts) with a handful of clients: it runs end to
 * end, stops its children, writes a report whose every figure is a number, and finds no problem.
 * Never a speed or memory assertion: those are what the benchmark reports, not what CI judges.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDir, runBenchScript, skipBuild } from './run-script.js';

const dir = reportDir('bench-fanout-smoke-');

const runBench = (env: Record<string, string>) => runBenchScript('fan-out.ts', env, 50_000);

describe('benchmark 3: fan-out (40 clients, 3 pushes)', () => {
  it('completes, reports every figure as a number, and finds no problem', async () => {
    const output = join(dir, 'fan-out.json');
    const run = await runBench({
      BENCH_FANOUT_CLIENTS: '40',
      BENCH_FANOUT_PUSHES: '3',
      BENCH_FANOUT_GAP_MS: '50',
      BENCH_FANOUT_IDLE_MS: '200',
      BENCH_OUTPUT: output,
      // `npm test` builds before the tests (as the e2e tests need); a fresh checkout builds here.
      BENCH_SKIP_BUILD: skipBuild(),
    });
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('| figure');

    const report = JSON.parse(readFileSync(output, 'utf8')) as Record<string, any>;
    expect(report.benchmark).toBe('fan-out');
    for (const field of ['title', 'startedAt', 'finishedAt', 'settings', 'figures', 'problems', 'memory', 'clock', 'pushes', 'contract']) {
      expect(report, field).toHaveProperty(field);
    }
    expect(report.problems).toEqual([]);
    const names = (report.figures as { name: string }[]).map((f) => f.name);
    expect(names).toEqual([
      'clients live (greeted and snapshotted)',
      'RSS per idle client, from N/2 to N clients',
      'RSS per idle client, from no client to N',
      'JS heap used per idle client, from no client to N',
      'external memory per idle client',
      'push delay p50, every delivery',
      'push delay p99, every delivery',
      'push delay to the last client, p50 over pushes',
      'push delay to the last client, p99 over pushes',
      "gateway's own fan-out per push, mean",
      'gateway CPU per push',
      'clients told upstream_status down while connecting',
      'KuCoin REST calls while the clients connected',
      'deliveries missed',
    ]);
    for (const f of report.figures as { name: string; value: unknown; unit: string }[]) {
      expect(typeof f.value, f.name).toBe('number');
      expect(Number.isFinite(f.value), f.name).toBe(true);
      expect(typeof f.unit, f.name).toBe('string');
    }
    const byName = (name: string) => (report.figures as { name: string; value: number }[]).find((f) => f.name === name)!.value;
    expect(byName('clients live (greeted and snapshotted)')).toBe(40);
    expect(byName('deliveries missed')).toBe(0);
    expect(report.pushes).toHaveLength(3);
    // One timed broadcast per push, read from the gateway's gateway_ws_broadcast_seconds.
    expect(report.gatewayBroadcast.broadcasts).toBe(3);
    expect(byName("gateway's own fan-out per push, mean")).toBeGreaterThan(0);
    expect(report.clock.consistent).toBe(true);
    expect(report.contract.messagesChecked).toBeGreaterThan(0);
  }, 60_000);
});
