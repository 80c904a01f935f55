/**
 * `npm run bench`: every benchmark of issue 6, one after another on this machine, then every
 * figure of every report in one table, each next to its target.
 *
 *   npm run bench                                   all of them (about 10 minutes)
 *   BENCH_SUITES=own-overhead,fan-out npm run bench  only those
 *   BENCH_REDIS=0 npm run bench                      benchmark 1 without its gateway+redis rows (on by default here)
 *
 * Each benchmark is its own script (scripts/bench/<id>.ts, runnable alone) writing
 * bench-results/<id>.json in the format of figures.ts; its own settings are its environment
 * variables, documented at the top of each script. The gateway is built once here and the
 * benchmarks told so (BENCH_SKIP_BUILD=1).
 *
 * Exit 0 whatever the figures say: speed is reported, never judged. Non-zero only when a
 * benchmark is broken (it exited non-zero or wrote no report).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchRoot, figuresTable, markdownTable, writeReport, type BenchReport, type Figure } from './figures.js';

const BENCHMARKS = [
  { id: 'own-overhead', what: 'benchmark 1: own overhead against the chosen stack alone and a node:http floor' },
  { id: 'upstream-economy', what: 'benchmark 2: upstream economy, 200 polling clients' },
  { id: 'order-weight', what: 'upstream weight per order in steady state, orders per 30 s at the quota' },
  { id: 'proxied-latency', what: 'latency added to proxied calls: gateway, the stack alone as a proxy, a bare node:http proxy and direct signed calls; 50 clients closed and paced, 1 client' },
  { id: 'fan-out', what: 'benchmark 3: fan-out to 5,000 and 10,000 WebSocket clients beside a bare ws floor' },
  { id: 'start-rollback', what: 'benchmark 4: start and rollback' },
  { id: 'soak', what: 'soak: steady mixed load, memory and handles' },
  { id: 'replicas', what: 'replicas on Redis: economy with 3 replicas vs 1, kill switch propagation, what Redis adds per request' },
] as const;

const selected = (process.env.BENCH_SUITES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = selected.filter((id) => !BENCHMARKS.some((b) => b.id === id));
if (unknown.length > 0) {
  console.error(`BENCH_SUITES: unknown ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.id).join(', ')}`);
  process.exit(2);
}
const runs = BENCHMARKS.filter((b) => selected.length === 0 || selected.includes(b.id));

const started = new Date();
console.log(`npm run bench: ${runs.map((b) => b.id).join(', ')} — node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}`);
const build = spawnSync('npm', ['run', 'build'], { cwd: benchRoot, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('npm run build failed');
  process.exit(1);
}

const broken: string[] = [];
const summary: (Figure & { benchmark: string })[] = [];
for (const bench of runs) {
  const script = join(benchRoot, 'scripts', 'bench', `${bench.id}.ts`);
  const output = join(benchRoot, 'bench-results', `${bench.id}.json`);
  console.log(`\n=== ${bench.what} (scripts/bench/${bench.id}.ts)`);
  if (!existsSync(script)) {
    broken.push(`${bench.id}: scripts/bench/${bench.id}.ts does not exist`);
    continue;
  }
  const before = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: benchRoot,
    stdio: 'inherit',
    // Benchmark 1 in both modes of issue 16 target 1: the gateway+redis rows too, unless BENCH_REDIS is set.
    env: { ...process.env, BENCH_SKIP_BUILD: '1', ...(bench.id === 'own-overhead' && process.env.BENCH_REDIS === undefined ? { BENCH_REDIS: '1' } : {}) },
  });
  if (child.status !== 0) broken.push(`${bench.id}: exited with ${child.status ?? child.signal}`);
  if (!existsSync(output) || statSync(output).mtimeMs < before) {
    broken.push(`${bench.id}: wrote no report to ${output}`);
    continue;
  }
  const report = JSON.parse(readFileSync(output, 'utf8')) as BenchReport;
  for (const problem of report.problems ?? []) broken.push(`${bench.id}: ${problem}`);
  for (const f of report.figures ?? []) summary.push({ benchmark: bench.id, ...f });
}

console.log('\n=== Every figure next to its target\n');
console.log(figuresTable(summary.map(({ benchmark, ...f }) => ({ ...f, name: `${benchmark}: ${f.name}` }))));
const judged = summary.filter((f) => f.met !== null);
console.log(`\n${judged.filter((f) => f.met).length} of ${judged.length} targets met${broken.length ? `; ${broken.length} problem(s)` : ''}.`);
if (broken.length > 0) console.log(markdownTable(['problem'], broken.map((p) => [p])));

const file = writeReport({
  benchmark: 'summary',
  title: 'npm run bench: every figure next to its target',
  startedAt: started.toISOString(),
  finishedAt: new Date().toISOString(),
  settings: { suites: runs.map((b) => b.id) },
  figures: summary,
  problems: broken,
});
console.log(`\nwrote ${file}`);
process.exit(broken.length > 0 ? 1 : 0);
