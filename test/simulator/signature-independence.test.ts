/**
 * The simulator checks signatures with its own code: nothing under src/simulator/ may reach the
 * gateway's signer (src/kucoin/signer.ts), directly or through another module, or the two would
 * agree with each other whatever KuCoin does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const signer = join(root, 'src/kucoin/signer.ts');

const sourcesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });

/** Relative module specifiers of a file: static imports and re-exports, type-only ones included, and dynamic imports. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every source file reachable from `entries`, with the first file that imported it. */
function reachable(entries: string[]): Map<string, string> {
  const seen = new Map<string, string>(entries.map((file) => [file, '(entry)']));
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const target of relativeImports(file)) {
      if (seen.has(target)) continue;
      seen.set(target, file);
      queue.push(target);
    }
  }
  return seen;
}

describe("the simulator's import graph", () => {
  const entries = sourcesUnder(join(root, 'src/simulator'));
  const graph = reachable(entries);

  it('is read at all (the walk finds the simulator verifier and the shared wire types)', () => {
    expect(entries.length).toBeGreaterThan(10);
    expect(graph.has(join(root, 'src/simulator/rest/kucoin-signature.ts'))).toBe(true);
    expect(graph.has(join(root, 'src/kucoin/payloads.ts'))).toBe(true);
  });

  it("does not reach the gateway's signer", () => {
    const importer = graph.get(signer);
    expect(importer === undefined ? undefined : relative(root, importer)).toBeUndefined();
  });
});
