/**
 * Smoke test of the replicas benchmark (scripts/bench/replicas.ts): run tiny, it starts Redis, the
 * simulator and the built gateways, runs the economy (3 sharing Redis, 1 alone), the flips and the
 * per-request overhead, stops everything, and writes a report with every figure and no problem.
 * Never a speed or target assertion: those are what the benchmark reports, not what CI judges.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDir, runBenchScript, skipBuild } from './run-script.js';

const dir = reportDir('bench-replicas-smoke-');

describe('benchmark: replicas on Redis (smoke mode)', () => {
  it('runs every part end to end and writes a complete report without problems', async () => {
    const output = join(dir, 'replicas.json');
    const run = await runBenchScript(
      'replicas.ts',
      { BENCH_REPLICAS_CLIENTS: '5', BENCH_REPLICAS_SECONDS: '2', BENCH_REPLICAS_FLIPS: '4', BENCH_REPLICAS_OVERHEAD_SECONDS: '1', BENCH_REPLICAS_OUTPUT: output, BENCH_SKIP_BUILD: skipBuild() },
      170_000,
    );
    expect(run.code, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('| figure');

    const report = JSON.parse(readFileSync(output, 'utf8')) as { benchmark: string; problems: string[]; figures: Array<{ name: string; value: number | null }> };
    expect(report.benchmark).toBe('replicas');
    expect(report.problems).toEqual([]);
    const value = (name: string) => {
      const found = report.figures.find((f) => f.name === name);
      expect(found, name).toBeDefined();
      return found!.value;
    };
    for (const mode of ['3 replicas sharing Redis', '1 replica, no Redis']) {
      for (const name of ['client reads answered', 'client reads answered 200', 'p99 read latency', 'KuCoin 429s', 'most Futures weight in any 30 s', "most Futures weight in one of KuCoin's 30 s windows"]) {
        expect(typeof value(`economy, ${mode}: ${name}`), `${mode}: ${name}`).toBe('number');
      }
      expect(value(`economy, ${mode}: client reads answered 200`)).toBeGreaterThan(0);
    }
    // Propagation is measured, or the report says every flip failed to propagate (no shared switch).
    const unreached = value('kill switch flips that never reached every replica within 3000 ms');
    expect(typeof unreached).toBe('number');
    const p99 = value('kill switch propagation to all 3 replicas: p99');
    if (unreached !== 4) expect(typeof p99).toBe('number');
    else expect(p99).toBeNull();
    for (const route of ['/api/health (no shared state)', '/api/futures/contracts (inbound limit, shared with Redis)']) {
      for (const name of ['p50 latency', 'p99 latency', 'requests per second', 'gateway CPU per request']) {
        expect(typeof value(`GET ${route}, ${name}, REDIS_URL`), `${route} ${name}`).toBe('number');
      }
      expect(typeof value(`GET ${route}, redis-server CPU per request`)).toBe('number');
    }
  }, 180_000);
});
