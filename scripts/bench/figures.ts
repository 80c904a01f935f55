/**
 * What every benchmark of `npm run bench` reports: its figures, each next to its target, in a
 * JSON file under bench-results/. scripts/bench/run.ts runs the benchmarks one after another and
 * prints every figure of every report in one summary table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const benchRoot = resolve(import.meta.dirname, '..', '..');

/**
 * `npm run build` unless BENCH_SKIP_BUILD=1 (npm run bench has built once already), then checks
 * that the built gateway is there. False, with the reason printed, when it cannot be run.
 */
export function buildGateway(): boolean {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    console.log('building the gateway (npm run build)...');
    if (spawnSync('npm', ['run', 'build'], { cwd: benchRoot, stdio: 'inherit' }).status !== 0) {
      console.error('npm run build failed');
      return false;
    }
  }
  if (!existsSync(resolve(benchRoot, 'dist/main.js'))) {
    console.error('dist/main.js is missing: run without BENCH_SKIP_BUILD, or npm run build');
    return false;
  }
  return true;
}

export interface Target {
  op: '<' | '<=' | '=';
  value: number;
}

export interface Figure {
  /** What was measured, e.g. "p99 push delay to the last client". */
  name: string;
  /** null when it could not be measured (the note says why). */
  value: number | null;
  unit: string;
  target: Target | null;
  /** The same figure for the floor it is compared with, where there is one. */
  floor?: number | null;
  /** true/false against the target; null without a target or a value. */
  met: boolean | null;
  note?: string;
}

export function figure(name: string, value: number | null, unit: string, target: Target | null, extra: { floor?: number | null; note?: string } = {}): Figure {
  return { name, value, unit, target, ...extra, met: isMet(value, target) };
}

export function isMet(value: number | null, target: Target | null): boolean | null {
  if (target === null || value === null || !Number.isFinite(value)) return null;
  switch (target.op) {
    case '<':
      return value < target.value;
    case '<=':
      return value <= target.value;
    case '=':
      return value === target.value;
  }
}

export interface BenchReport {
  /** File-name-safe id, e.g. "fan-out"; the report goes to bench-results/<benchmark>.json by default. */
  benchmark: string;
  title: string;
  startedAt: string;
  finishedAt: string;
  settings: Record<string, unknown>;
  figures: Figure[];
  /** Anything that makes the run invalid (wrong answers, a server that did not start); empty when sound. */
  problems: string[];
  [more: string]: unknown;
}

export function writeReport(report: BenchReport, output = resolve(benchRoot, 'bench-results', `${report.benchmark}.json`)): string {
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
  return output;
}

/** The nearest-rank p-th percentile (0 < p ≤ 100) of values sorted ascending; null when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export function formatTarget(target: Target | null, unit: string): string {
  return target === null ? '' : `${target.op} ${target.value} ${unit}`.trim();
}

/** A markdown table with padded columns. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function figuresTable(figures: Figure[]): string {
  const fmt = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1));
  return markdownTable(
    ['figure', 'value', 'unit', 'target', 'floor', 'met?', 'note'],
    figures.map((f) => [f.name, fmt(f.value), f.unit, formatTarget(f.target, f.unit), f.floor === undefined ? '' : fmt(f.floor), f.met === null ? '' : f.met ? 'yes' : 'NO', f.note ?? '']),
  );
}
