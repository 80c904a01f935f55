/**
 * The long soak (issue 6): the short soak's load and sampling (test/reliability/soak-load.ts) for
 * minutes, against the simulator and the built gateway as child processes.
 *
 *   npm run build && npx tsx scripts/bench/soak.ts
 *   BENCH_SOAK_SECONDS=60 npx tsx scripts/bench/soak.ts
 *
 * Environment: BENCH_SOAK_SECONDS (measured load, default 300), BENCH_SOAK_WARMUP_SECONDS
 * (default 20, not measured), BENCH_SOAK_SAMPLE_SECONDS (default 10), BENCH_SOAK_READERS (4),
 * BENCH_SOAK_TRADERS (2), BENCH_SOAK_CHURNERS (2), BENCH_OUTPUT (default bench-results/soak.json).
 *
 * Reports its figures in the shared format (scripts/bench/figures.ts). Exit 0 whatever the
 * figures; non-zero only when the run is broken (a process did not start, the load could not run).
 * Both children are stopped by pid, also on failure and on Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { heapGrowth, runSoak, slopePerMinute, SOAK_STACK, type SoakResult } from '../../test/reliability/soak-load.js';
import { startStack, type Stack } from '../../test/reliability/stack.js';
import { stopGatewayProcesses } from '../../test/support/process.js';
import { benchRoot, figure, figuresTable, writeReport, type Figure } from './figures.js';
import { numberAtLeast } from './settings.js';

const SECONDS = numberAtLeast('BENCH_SOAK_SECONDS', 300, 0);
const WARMUP_SECONDS = numberAtLeast('BENCH_SOAK_WARMUP_SECONDS', 20, 0);
const SAMPLE_SECONDS = numberAtLeast('BENCH_SOAK_SAMPLE_SECONDS', 10, 0);
const READERS = numberAtLeast('BENCH_SOAK_READERS', 4, 0);
const TRADERS = numberAtLeast('BENCH_SOAK_TRADERS', 2, 0);
const CHURNERS = numberAtLeast('BENCH_SOAK_CHURNERS', 2, 0);
const OUTPUT = process.env.BENCH_OUTPUT ? resolve(benchRoot, process.env.BENCH_OUTPUT) : undefined;

/** "Flat" (see soak-load.ts): idle fds and handles after the load within this of before it. */
const FD_HANDLE_MARGIN = 3;
/** Post-GC heap slope allowed, MB per minute of load (see the note on the idempotency store). */
const HEAP_SLOPE_MB_PER_MIN = 1;

const MB = 2 ** 20;

function figures(r: SoakResult): Figure[] {
  const heap = heapGrowth(r.samples);
  const slope = slopePerMinute(r.samples, (s) => s.heapUsed) / MB;
  const rssSlope = slopePerMinute(r.samples, (s) => s.rss) / MB;
  const minutes = r.measuredMs / 60_000;
  const fiveXx = Object.entries(r.statuses).filter(([s]) => Number(s) >= 500).reduce((a, [, n]) => a + n, 0);
  return [
    figure('requests served (HTTP + WS sessions)', r.requests, 'requests', null, { note: `${(r.requests / (r.measuredMs / 1000)).toFixed(0)}/s over ${minutes.toFixed(1)} min; ${r.orders} orders (${r.replays} replays), ${r.wsSessions} WS sessions` }),
    figure('failed requests', r.failures, 'requests', { op: '=', value: 0 }, r.failureSamples.length > 0 ? { note: r.failureSamples[0]!.slice(0, 200) } : {}),
    figure('5xx answers', fiveXx, 'answers', { op: '=', value: 0 }),
    figure('heap growth after warm-up (post-GC samples, Theil–Sen slope)', slope, 'MB/min', { op: '<=', value: HEAP_SLOPE_MB_PER_MIN }, {
      note: `post-GC heap ${((r.samples[0]?.heapUsed ?? 0) / MB).toFixed(1)} → ${((r.samples.at(-1)?.heapUsed ?? 0) / MB).toFixed(1)} MB; includes the idempotency store filling (one entry per order, at most 10 000)`,
    }),
    figure('heap growth, min of last third − min of first third (post-GC)', heap.growth / MB, 'MB', null),
    figure('idle post-GC heap, after − before the load', (r.after.heapUsed - r.baseline.heapUsed) / MB, 'MB', null, { note: `${(r.baseline.heapUsed / MB).toFixed(1)} → ${(r.after.heapUsed / MB).toFixed(1)} MB, ${r.orders} orders kept by the idempotency store` }),
    figure('RSS growth after warm-up (Theil–Sen slope)', rssSlope, 'MB/min', null, { note: `idle RSS ${(r.baseline.rss / MB).toFixed(1)} → ${(r.after.rss / MB).toFixed(1)} MB; reported, not judged (the allocator keeps pages)` }),
    figure('open fds, idle after − idle before', r.after.fds - r.baseline.fds, 'fds', { op: '<=', value: FD_HANDLE_MARGIN }, { note: `${r.baseline.fds} → ${r.after.fds} (peak ${r.peak.fds} under load)` }),
    figure('active handles, idle after − idle before', r.after.handles - r.baseline.handles, 'handles', { op: '<=', value: FD_HANDLE_MARGIN }, { note: `${r.baseline.handles} → ${r.after.handles} (peak ${r.peak.handles} under load)` }),
  ];
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const problems: string[] = [];
  let stack: Stack | undefined;
  let result: SoakResult | undefined;
  const interrupted = () => {
    console.error('\ninterrupted: stopping the gateway and the simulator');
    void stopGatewayProcesses().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    if (!existsSync(resolve(benchRoot, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
    console.log(`soak: ${WARMUP_SECONDS}s warm-up, then ${SECONDS}s of load, a post-GC sample every ${SAMPLE_SECONDS}s`);
    stack = await startStack(SOAK_STACK);
    result = await runSoak(stack, {
      warmupMs: WARMUP_SECONDS * 1000,
      durationMs: SECONDS * 1000,
      sampleEveryMs: SAMPLE_SECONDS * 1000,
      readers: READERS,
      traders: TRADERS,
      churners: CHURNERS,
      onSample: (s) =>
        console.log(`  t=${(s.t / 1000).toFixed(0).padStart(4)}s  requests=${String(s.requests).padStart(7)}  heap=${(s.heapUsed / MB).toFixed(1)}MB  rss=${(s.rss / MB).toFixed(1)}MB  fds=${s.fds}  handles=${s.handles}`),
    });
    if (result.samples.length < 2) problems.push('fewer than two samples: raise BENCH_SOAK_SECONDS');
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    await stack?.stop().catch((error: unknown) => problems.push(`stopping: ${String(error)}`));
    await stopGatewayProcesses();
  }

  if (result) {
    const list = figures(result);
    const report = {
      benchmark: 'soak',
      title: 'Soak: steady mixed load, memory and handles',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, sampleSeconds: SAMPLE_SECONDS, readers: READERS, traders: TRADERS, churners: CHURNERS, node: process.version, cpus: cpus().length },
      figures: list,
      problems,
      samples: result.samples,
      baseline: result.baseline,
      after: result.after,
      statuses: result.statuses,
    };
    console.log(`\nSoak (${(result.measuredMs / 60_000).toFixed(1)} min after ${WARMUP_SECONDS}s warm-up, node ${process.version}, ${cpus().length} cpus)\n`);
    console.log(figuresTable(list));
    console.log(`\nwrote ${writeReport(report, OUTPUT)}`);
  }
  if (problems.length > 0) {
    console.error(`\nsoak broken:\n- ${problems.join('\n- ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await stopGatewayProcesses();
    process.exit(1);
  },
);
