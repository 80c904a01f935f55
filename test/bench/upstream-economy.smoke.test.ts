/**
 * Smoke test of benchmark 2, upstream economy (scripts/bench/upstream-economy.ts): run tiny, it
 * starts the simulator and the built gateway, drives both modes, stops them, and writes a report
 * with every figure and no problem. Never a speed or target assertion: those are what the
 * benchmark reports, not what CI judges.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDir, runBenchScript, skipBuild } from './run-script.js';

const dir = reportDir('bench-economy-smoke-');

const runBench = (env: Record<string, string>) => runBenchScript('upstream-economy.ts', env, 170_000);

describe('benchmark 2: upstream economy (smoke mode)', () => {
  it('runs both modes end to end and writes a complete report without problems', async () => {
    const output = join(dir, 'upstream-economy.json');
    const run = await runBench({ BENCH_ECONOMY_CLIENTS: '10', BENCH_ECONOMY_SECONDS: '2', BENCH_ECONOMY_OUTPUT: output, BENCH_SKIP_BUILD: skipBuild() });
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('| figure');

    const report = JSON.parse(readFileSync(output, 'utf8')) as { benchmark: string; problems: string[]; figures: Array<{ name: string; value: number | null; met: boolean | null }>; runs: Array<Record<string, any>> };
    expect(report.benchmark).toBe('upstream-economy');
    expect(report.problems).toEqual([]);
    expect(report.runs.map((r) => r.mode)).toEqual(['on', 'off']);
    for (const mode of ['stream cache on', 'stream cache off (coalescing only)']) {
      for (const name of ['client reads answered', 'reads per second', 'p50 read latency', 'p99 read latency', 'upstream requests, Futures pool', 'upstream weight spent, Futures pool', 'most Futures weight in any 30 s', "most Futures weight in one of KuCoin's 30 s windows", 'upstream 429s']) {
        const found = report.figures.find((f) => f.name === `${mode}: ${name}`);
        expect(found, `${mode}: ${name}`).toBeDefined();
        expect(typeof found!.value, `${mode}: ${name}`).toBe('number');
      }
    }
    for (const r of report.runs) {
      expect(r.requests).toBeGreaterThan(0);
      expect(r.byStatus['200']).toBeGreaterThan(0);
    }
  }, 180_000);
});
