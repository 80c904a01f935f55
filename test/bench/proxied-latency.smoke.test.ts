/**
 * Smoke test of the proxied-latency benchmark (scripts/bench/proxied-latency.ts): run tiny, it
 * starts the simulator, the built gateway, the bare node:http proxy floor (proxy-floor.ts) and the
 * stack-alone proxy (proxy-stack.ts), runs orders and reads through the gateway, the same signed
 * calls directly, through the bare proxy and through the stack alone, stops them all, and prints and writes the added p50 and p99 of the gateway and of the bare proxy
 * beside the direct ones. Never a speed assertion; the count of upstream calls per call (one on
 * every path, so the four are alike) is checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDir, runBenchScript, skipBuild } from './run-script.js';

const dir = reportDir('bench-proxied-latency-smoke-');

describe('proxied-latency benchmark (smoke mode)', () => {
  it('prints the added p50 and p99 of a read and an order beside the direct calls, with one upstream call each', async () => {
    const output = join(dir, 'proxied-latency.json');
    const run = await runBenchScript(
      'proxied-latency.ts',
      { BENCH_PROXIED_CLIENTS: '4', BENCH_PROXIED_SLICES: '2', BENCH_PROXIED_ROUNDS: '3', BENCH_PROXIED_OUTPUT: output, BENCH_SKIP_BUILD: skipBuild() },
      80_000,
    );
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    for (const kind of ['read', 'order']) {
      expect(run.stdout).toMatch(new RegExp(`\\| ${kind}: added latency p50, gateway − direct\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\| <= 0.5 ms\\s*\\|\\s*[\\d.]+`));
      expect(run.stdout).toMatch(new RegExp(`\\| ${kind}: added latency p99, gateway − direct\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\| <= 2 ms\\s*\\|\\s*[\\d.]+`));
      // The bare proxy's added latency (no target: what any proxy adds) and the gateway's beyond it, in every load model.
      for (const model of ['', ', 4 clients paced at \\d+ calls/s', ', 1 client']) {
        for (const p of [50, 99]) {
          expect(run.stdout).toMatch(new RegExp(`\\| ${kind}${model}: added latency p${p}, bare node:http proxy − direct\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\|\\s*\\|\\s*[\\d.]+`));
          expect(run.stdout).toMatch(new RegExp(`\\| ${kind}${model}: added latency p${p}, gateway added − bare proxy added\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\|\\s*\\|\\s*[\\d.]+`));
          expect(run.stdout).toMatch(new RegExp(`\\| ${kind}${model}: added latency p${p}, stack-alone proxy − direct\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\|\\s*\\|\\s*[\\d.]+`));
          expect(run.stdout).toMatch(new RegExp(`\\| ${kind}${model}: added latency p${p}, gateway added − stack-alone proxy added\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\|\\s*\\|\\s*[\\d.]+`));
        }
      }
      // Added beside the closed loops: the same clients paced at a fixed rate, and one client alone.
      // One client is judged against the target; the paced rows are reported without one (a stall of
      // the shared cores, timed from the scheduled send, swamps their p99s).
      for (const [p, target] of [[50, '0.5'], [99, '2']] as const) {
        expect(run.stdout).toMatch(new RegExp(`\\| ${kind}, 1 client: added latency p${p}, gateway − direct\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\| <= ${target} ms\\s*\\|\\s*[\\d.]+`));
        expect(run.stdout).toMatch(new RegExp(`\\| ${kind}, 4 clients paced at \\d+ calls/s: added latency p${p}, gateway − direct\\s*\\|\\s*-?[\\d.]+\\s*\\| ms\\s*\\|\\s*\\|\\s*[\\d.]+`));
      }
    }

    const report = JSON.parse(readFileSync(output, 'utf8')) as { benchmark: string; problems: string[]; figures: Array<{ name: string; value: number | null; floor?: number | null }>; run: any };
    expect(report.benchmark).toBe('proxied-latency');
    expect(report.problems).toEqual([]);
    for (const f of report.figures) expect(Number.isFinite(f.value), f.name).toBe(true);
    // BENCH_PROXIED_SLICES=2: one cycle, a slice of each path, 4 clients × 3 rounds of (order + read) each.
    expect(report.run.calls).toEqual({ gateway: 24, direct: 24, floor: 24, stack: 24 });
    expect(report.run.upstreamPerGatewayCall).toEqual({ order: 1, read: 1 });
    expect(report.run.upstreamPerCall).toEqual({ gateway: { order: 1, read: 1 }, direct: { order: 1, read: 1 }, floor: { order: 1, read: 1 }, stack: { order: 1, read: 1 } });
    // Paced: a slice of 4 clients × 2 rounds (half of 3, rounded) per path; one client: a slice of 15 rounds (5 × 3) per path.
    expect(report.run.paced.calls).toEqual({ gateway: 16, direct: 16, floor: 16, stack: 16 });
    expect(report.run.paced.rate).toBeGreaterThan(0);
    expect(report.run.single.calls).toEqual({ gateway: 30, direct: 30, floor: 30, stack: 30 });
    // The bare proxy's rows are its own percentiles less the direct ones, and the difference rows are gateway − proxy.
    const bare = report.figures.find((f) => f.name === 'read: added latency p50, bare node:http proxy − direct')!;
    expect(bare.value).toBeCloseTo(report.run.percentiles['floor read'].p50 - report.run.percentiles['direct read'].p50, 2);
    const beyond = report.figures.find((f) => f.name === `order, 4 clients paced at ${report.run.paced.rate} calls/s: added latency p99, gateway added − bare proxy added`)!;
    expect(beyond.value).toBeCloseTo(report.run.paced.percentiles['gateway order'].p99 - report.run.paced.percentiles['floor order'].p99, 2);
    expect(beyond.floor).toBeCloseTo(report.run.paced.percentiles['floor order'].p99, 2);
    // The stack-alone proxy's rows alike (its percentiles less the direct ones; gateway − stack alone).
    const stackAlone = report.figures.find((f) => f.name === 'order: added latency p50, stack-alone proxy − direct')!;
    expect(stackAlone.value).toBeCloseTo(report.run.percentiles['stack order'].p50 - report.run.percentiles['direct order'].p50, 2);
    const onStack = report.figures.find((f) => f.name === 'read, 1 client: added latency p99, gateway added − stack-alone proxy added')!;
    expect(onStack.value).toBeCloseTo(report.run.single.percentiles['gateway read'].p99 - report.run.single.percentiles['stack read'].p99, 2);
    for (const name of ['bare proxy CPU per proxied call', 'bare proxy CPU per proxied call, 4 clients paced', 'bare proxy CPU per proxied call, 1 client', 'calls per second, bare proxy',
      'stack-alone proxy CPU per proxied call', 'stack-alone proxy CPU per proxied call, 4 clients paced', 'stack-alone proxy CPU per proxied call, 1 client', 'calls per second, stack-alone proxy']) {
      expect(report.figures.find((f) => f.name === name), name).toBeDefined();
    }
    const paced = report.figures.find((f) => f.name === `read, 4 clients paced at ${report.run.paced.rate} calls/s: added latency p99, gateway − direct`)!;
    expect(paced.value).toBeCloseTo(report.run.paced.percentiles['gateway read'].p99 - report.run.paced.percentiles['direct read'].p99, 2);
    expect((paced as { target?: unknown }).target ?? null).toBeNull();
    // Timed from the scheduled send, a latency is never negative: no call leaves before its time.
    for (const [series, values] of Object.entries(report.run.paced.percentiles as Record<string, { p50: number; p99: number }>)) {
      expect(values.p50, series).toBeGreaterThanOrEqual(0);
    }
    const single = report.figures.find((f) => f.name === 'order, 1 client: added latency p50, gateway − direct')!;
    expect(single.value).toBeCloseTo(report.run.single.percentiles['gateway order'].p50 - report.run.single.percentiles['direct order'].p50, 2);
    const added = report.figures.find((f) => f.name === 'order: added latency p50, gateway − direct')!;
    expect(added.value).toBeCloseTo(report.run.percentiles['gateway order'].p50 - report.run.percentiles['direct order'].p50, 2);
    expect(added.floor).toBeCloseTo(report.run.percentiles['direct order'].p50, 2);
  }, 90_000);
});
