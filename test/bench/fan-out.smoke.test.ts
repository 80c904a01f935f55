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

describe('benchmark 3: fan-out beside a bare ws floor (20 then 40 clients, 3 pushes each)', () => {
  it('completes, reports every figure as a number for the gateway and the floor, and finds no problem', async () => {
    const output = join(dir, 'fan-out.json');
    const run = await runBench({
      BENCH_FANOUT_CLIENTS: '20,40',
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
    for (const field of ['title', 'startedAt', 'finishedAt', 'settings', 'figures', 'problems', 'memory', 'clock', 'stages', 'contract']) {
      expect(report, field).toHaveProperty(field);
    }
    expect(report.problems).toEqual([]);
    const perCount = (n: number, from: number) => [
      `${n} clients: clients live (greeted and snapshotted), gateway / floor`,
      `${n} clients: RSS per idle client, from ${from} to ${n} clients`,
      `${n} clients: RSS per idle client, from no client to ${n}`,
      `${n} clients: JS heap used per idle client, from ${from} to ${n}`,
      `${n} clients: broadcast loop per push, mean`,
      `${n} clients: broadcast loop, gateway / floor`,
      `${n} clients: push delay to the last client, p99 over pushes`,
      `${n} clients: push delay p50, every delivery`,
      `${n} clients: CPU per push`,
      `${n} clients: frame size of a push`,
    ];
    const figures = report.figures as { name: string; value: unknown; unit: string; floor?: unknown }[];
    expect(figures.map((f) => f.name)).toEqual([
      ...perCount(20, 10),
      ...perCount(40, 20),
      'clients told upstream_status down while connecting',
      'KuCoin REST calls while the gateway clients connected',
      'deliveries missed',
    ]);
    for (const f of figures) {
      expect(typeof f.value, f.name).toBe('number');
      expect(Number.isFinite(f.value), f.name).toBe(true);
      expect(typeof f.unit, f.name).toBe('string');
      // Every per-count figure stands beside the floor's.
      if (/^\d+ clients:/.test(f.name)) expect(Number.isFinite(f.floor), `${f.name}: floor`).toBe(true);
    }
    const byName = (name: string) => figures.find((f) => f.name === name)!;
    for (const n of [20, 40]) {
      const live = byName(`${n} clients: clients live (greeted and snapshotted), gateway / floor`);
      expect(live.value).toBe(n);
      expect(live.floor).toBe(n);
      expect(byName(`${n} clients: broadcast loop per push, mean`).value).toBeGreaterThan(0);
      expect(byName(`${n} clients: broadcast loop per push, mean`).floor).toBeGreaterThan(0);
      // The floor sends the gateway's frames: the same size, give or take the digits of timestamp and seq.
      const size = byName(`${n} clients: frame size of a push`);
      expect(Math.abs((size.value as number) - (size.floor as number))).toBeLessThanOrEqual(4);
    }
    expect(byName('deliveries missed').value).toBe(0);
    expect(report.stages.map((s: { clients: number }) => s.clients)).toEqual([20, 40]);
    for (const stage of report.stages) {
      expect(stage.pushes).toHaveLength(3);
      // One timed broadcast per push, read from the gateway's gateway_ws_broadcast_seconds.
      expect(stage.broadcasts).toBe(3);
      expect(stage.ready).toEqual({ gateway: stage.clients, floor: stage.clients });
      // Each push's own loop on both sides: the ratio is of their medians.
      expect(stage.gatewayLoopsMs).toHaveLength(3);
      expect(stage.floorLoopsMs).toHaveLength(3);
      for (const ms of [...stage.gatewayLoopsMs, ...stage.floorLoopsMs]) expect(ms).toBeGreaterThan(0);
    }
    expect(report.clock.consistent).toBe(true);
    expect(report.contract.messagesChecked).toBeGreaterThan(0);
  }, 60_000);
});
