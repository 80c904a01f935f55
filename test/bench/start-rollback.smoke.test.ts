/**
 * Smoke test of benchmark 4 (scripts/bench/start-rollback.ts): two runs of each measurement end
 * to end against the built gateway (`npm test` builds before vitest runs), every figure has a
 * value and nothing was broken. Never a speed assertion: speed is what the benchmark reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDir, runBenchScript } from './run-script.js';
import type { BenchReport } from '../../scripts/bench/figures.js';

const dir = reportDir('bench-smoke-');

const runBench = (env: Record<string, string>) => runBenchScript('start-rollback.ts', env, 50_000);

describe('benchmark 4: start and rollback (smoke mode)', () => {
  it('measures every figure without a problem and writes the report', async () => {
    const output = join(dir, 'start-rollback.json');
    const run = await runBench({ BENCH_START_RUNS: '2', BENCH_SKIP_BUILD: '1', BENCH_OUTPUT: output });
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('| figure');

    const report = JSON.parse(readFileSync(output, 'utf8')) as BenchReport;
    expect(report.benchmark).toBe('start-rollback');
    expect(report.problems).toEqual([]);
    const names = report.figures.map((f) => f.name);
    for (const part of ['start: spawn → first 200', 'start: spawn → `listening`', 'start: main-thread CPU', 'start: whole-process CPU', 'flip: PUT futures-switch off', 'flip: the PUT alone', 'restart: SIGTERM → all futures 404', 'restart: SIGTERM → old process exited']) {
      expect(names.some((n) => n.startsWith(part)), part).toBe(true);
    }
    for (const f of report.figures) expect(typeof f.value, f.name).toBe('number');
  }, 60_000);
});
