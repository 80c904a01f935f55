/**
 * Smoke test of benchmark 1 (scripts/bench/own-overhead.ts): it runs end to end in smoke mode, every
 * measured answer had the expected status, and the JSON report has all its fields.
 * Never a speed assertion: speed is what `npm run bench` reports, not what CI judges.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDir, runBenchScript, skipBuild } from './run-script.js';
import { redisServerAvailable } from '../support/redis.js';

const dir = reportDir('bench-smoke-');

const runBench = (env: Record<string, string>) => runBenchScript('own-overhead.ts', env, 55_000);

describe('benchmark 1: own overhead (smoke mode)', () => {
  it('completes, sees only expected statuses and writes a complete JSON report', async () => {
    const output = join(dir, 'own-overhead.json');
    const run = await runBench({ BENCH_SECONDS: '0.3', BENCH_WARMUP_SECONDS: '0.1', BENCH_CONCURRENCY: '4', BENCH_SKIP_BUILD: skipBuild(), BENCH_OUTPUT: output });
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('| path');

    const report = JSON.parse(readFileSync(output, 'utf8')) as Record<string, unknown> & { results: Record<string, unknown>[] };
    for (const field of ['benchmark', 'startedAt', 'finishedAt', 'settings', 'machine', 'gatewayLogLines', 'gatewayRequests', 'feedGatewayLogLines', 'feedGatewayRequests', 'stackLogLines', 'stackRequests', 'allStatusesExpected', 'allTargetsMet', 'problems', 'results', 'figures']) {
      expect(report, field).toHaveProperty(field);
    }
    expect(report.allStatusesExpected).toBe(true);
    expect(report.problems).toEqual([]);
    // Every gateway request, warm-ups included, has its log line.
    expect(report.gatewayLogLines as number).toBeGreaterThanOrEqual(report.gatewayRequests as number);
    expect(report.feedGatewayLogLines as number).toBeGreaterThanOrEqual(report.feedGatewayRequests as number);
    expect(report.feedGatewayRequests as number).toBeGreaterThan(0);

    // The last is the open-order list answered from the live feed (a simulator behind a second gateway).
    const paths = ['POST /api/futures/orders', 'GET /api/health', 'GET /api/futures/positions', 'GET /api/admin/futures-switch', 'GET /api/futures/orders (from the stream'];
    expect(report.results).toHaveLength(paths.length * 3);
    // The chosen stack alone logs every request as well.
    expect(report.stackLogLines as number).toBeGreaterThanOrEqual(report.stackRequests as number);
    for (const path of paths) {
      for (const server of ['floor', 'stack', 'gateway']) {
        const row = report.results.find((r) => String(r.path).startsWith(path) && r.server === server);
        expect(row, `${server} ${path}`).toBeDefined();
        for (const field of ['expectedStatus', 'requests', 'wrongStatus', 'seconds', 'reqPerSec', 'p50Ms', 'p99Ms', 'cpuUsPerReq', 'cpuUtilisation', 'roundCpuUsPerReq', 'ratioToFloor', 'ratioToStack', 'target', 'met']) {
          expect(row, `${server} ${path} ${field}`).toHaveProperty(field);
        }
        expect(row!.requests as number).toBeGreaterThan(0);
        expect(row!.wrongStatus).toBe(0);
        expect(typeof row!.cpuUsPerReq).toBe('number');
        if (server !== 'floor') expect(typeof row!.ratioToFloor).toBe('number');
        if (server === 'gateway') {
          expect(typeof row!.met).toBe('boolean');
          // The target is the gateway against its stack alone (issue 16: ≤ 1.15×).
          expect(typeof row!.ratioToStack).toBe('number');
          expect(row!.target).toBe(1.15);
          expect(row!.met).toBe((row!.ratioToStack as number) <= 1.15);
        }
      }
    }
  }, 60_000);

  it('with BENCH_EQUAL_RATE also measures stack and gateway at one offered rate, printed without a target', async () => {
    const output = join(dir, 'own-overhead-equal-rate.json');
    const run = await runBench({ BENCH_EQUAL_RATE: '0.5', BENCH_ONLY: 'GET /api/health', BENCH_SECONDS: '0.4', BENCH_WARMUP_SECONDS: '0.1', BENCH_CONCURRENCY: '4', BENCH_SKIP_BUILD: skipBuild(), BENCH_OUTPUT: output });
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(output, 'utf8')) as { problems: unknown[]; allTargetsMet: boolean; settings: Record<string, unknown>; results: Record<string, any>[]; figures: { name: string; value: number; target?: unknown }[] };
    expect(report.problems).toEqual([]);
    expect(report.settings.equalRateShare).toBe(0.5);
    expect(report.results.map((r) => r.server)).toEqual(['floor', 'stack', 'gateway', 'stack', 'gateway']);
    const [, , closed, stack, gateway] = report.results;
    // Both at the same offered rate, half the gateway's closed-loop rate.
    expect(stack!.offeredRate).toBe(Math.round(closed!.reqPerSec * 0.5));
    expect(gateway!.offeredRate).toBe(stack!.offeredRate);
    expect(gateway!.wrongStatus).toBe(0);
    expect(gateway!.ratioToStack).toBeCloseTo(gateway!.cpuUsPerReq / stack!.cpuUsPerReq, 6);
    // The closed loops' figure alone is judged; the diagnostic row has no target.
    expect(report.allTargetsMet).toBe(closed!.met);
    const figure = report.figures.find((f) => f.name.includes(`at ${gateway!.offeredRate} requests/s each`))!;
    expect(figure.value).toBeCloseTo(gateway!.ratioToStack, 2);
    expect(figure.target ?? null).toBeNull();
    expect(run.stdout).toContain(`gateway at ${gateway!.offeredRate}/s`);
  }, 60_000);

  it.skipIf(!redisServerAvailable())('with BENCH_REDIS=1 also measures the gateway with REDIS_URL, beside the others, every request logged', async () => {
    const output = join(dir, 'own-overhead-redis.json');
    const run = await runBench({ BENCH_REDIS: '1', BENCH_ONLY: 'GET /api/futures/positions', BENCH_SECONDS: '0.3', BENCH_WARMUP_SECONDS: '0.1', BENCH_CONCURRENCY: '4', BENCH_SKIP_BUILD: skipBuild(), BENCH_OUTPUT: output });
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('gateway+redis');
    const report = JSON.parse(readFileSync(output, 'utf8')) as { problems: unknown[]; settings: Record<string, unknown>; results: Record<string, unknown>[]; figures: { name?: string; label?: string }[] };
    expect(report.problems).toEqual([]);
    expect(report.settings.redis).toBe(true);
    expect(report.results.map((r) => r.server)).toEqual(['floor', 'stack', 'gateway', 'gateway+redis']);
    const withRedis = report.results[3]!;
    expect(withRedis.requests as number).toBeGreaterThan(0);
    expect(withRedis.wrongStatus).toBe(0);
    expect(withRedis.target).toBe(1.15);
    expect(withRedis.met).toBe((withRedis.ratioToStack as number) <= 1.15);
    expect(JSON.stringify(report.figures)).toContain('with REDIS_URL');
  }, 60_000);
});
