/**
 * Sums a V8 CPU profile (`node --cpu-prof`) by self time, to see what a benchmark's server spends on.
 *
 *   npx tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top=30]
 *
 * Prints self time by package or source file (node_modules/<pkg>, src/<file>, node: internals,
 * GC, idle) and by function (name and file:line), each as a share of the non-idle time; then the
 * inclusive time (self and everything called) of the gateway's own functions (src/), counted once
 * per call tree even when they recurse.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

function group(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  if (url === '') return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  if (url.startsWith('node:')) return url;
  const src = /\/(src|scripts)\/(.*)$/.exec(url);
  return src ? `${src[1]}/${src[2]}` : url;
}

const files = new Map<string, number>();
const functions = new Map<string, number>();
let busy = 0;
for (const [id, us] of self) {
  const { functionName, url, lineNumber, columnNumber } = byId.get(id)!.callFrame;
  const g = group(url, functionName);
  files.set(g, (files.get(g) ?? 0) + us);
  if (g !== '(idle)') busy += us;
  const key = `${functionName || "(anonymous)"} ${g}:${lineNumber + 1}:${columnNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / busy) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  }
};
console.log(`${file}: ${(busy / 1000).toFixed(0)} ms busy`);
print('self time by package / file', files);
print('self time by function', functions);

// Inclusive time of the gateway's own functions: a node's self time counts for every distinct
// src/ function on its path from the root.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const { functionName, url, lineNumber, columnNumber } = byId.get(at)!.callFrame;
    const g = group(url, functionName);
    if (!g.startsWith('src/')) continue;
    const key = `${functionName || '(anonymous)'} ${g}:${lineNumber + 1}:${columnNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
print('inclusive time of the gateway\'s own functions (src/)', inclusive);
