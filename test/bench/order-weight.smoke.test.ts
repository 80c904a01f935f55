/**
 * Smoke test of the order-weight benchmark (scripts/bench/order-weight.ts): run tiny, it starts
 * the simulator and the built gateway, places a few orders in steady state, stops both, and prints
 * and writes the weight per order and the orders per 30 s at the quota. The weight per order is a
 * count, not a speed: at most 3 is the target, checked here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDir, runBenchScript, skipBuild } from './run-script.js';

const dir = reportDir('bench-order-weight-smoke-');

describe('order weight benchmark (smoke mode)', () => {
  it('prints the weight per order (at most 3) and the orders per 30 s at the VIP0 quota', async () => {
    const output = join(dir, 'order-weight.json');
    const run = await runBenchScript('order-weight.ts', { BENCH_ORDER_WEIGHT_ORDERS: '3', BENCH_ORDER_WEIGHT_OUTPUT: output, BENCH_SKIP_BUILD: skipBuild() }, 110_000);
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    const printed = run.stdout.match(/\| upstream weight per order, Futures pool\s*\|\s*([\d.]+)\s*\|/);
    expect(printed, run.stdout).not.toBeNull();
    expect(Number(printed![1])).toBeLessThanOrEqual(3);
    expect(run.stdout).toMatch(/\| orders per 30 s one account can place at quota 2000\s*\|\s*\d+\s*\|/);

    const report = JSON.parse(readFileSync(output, 'utf8')) as { benchmark: string; problems: string[]; figures: Array<{ name: string; value: number | null; met: boolean | null }> };
    expect(report.benchmark).toBe('order-weight');
    expect(report.problems).toEqual([]);
    const perOrder = report.figures.find((f) => f.name === 'upstream weight per order, Futures pool');
    expect(perOrder?.value).toBeLessThanOrEqual(3);
    expect(perOrder?.met).toBe(true);
    const per30s = report.figures.find((f) => f.name === 'orders per 30 s one account can place at quota 2000');
    expect(per30s?.value).toBe(Math.floor(2000 / perOrder!.value!));
  }, 120_000);
});
