/**
 * The layers of src/ and the rule that keeps them: a file imports only from its own layer or from
 * layers below it, and no set of files imports itself round in a circle. Both rules read the import
 * graph straight from the sources (`import`, `import type`, `export … from`, `import('…')`), so a
 * new upward import or a new circle fails here with the edge that causes it.
 *
 * Layers, bottom → top (a file's layer is decided by its folder, or its name at the root of src/):
 *
 *   0  generated       types generated from openapi.yaml / asyncapi.yaml (`npm run gen`)
 *   1  errors          the error catalogue: every layer above may fail with a catalogued error
 *   1  paths           where the repository's files are
 *   1  symbols         client spellings of a contract ↔ KuCoin's contract id (config validates
 *                      FUTURES_SYMBOLS with it, so it sits below config)
 *   2  config          environment → typed configuration
 *   2  contract        loads openapi.yaml / asyncapi.yaml (validation for both edges)
 *   3  observability   logs and metrics
 *   4  redis           the Redis every replica shares (REDIS_URL): connection, status, pub/sub
 *   5  request-scope   the caller and deadline of the request being served
 *   6  switch          the FEATURE_FUTURES kill switch
 *   7  kucoin          the KuCoin REST client, signer, stream connection and supervisor
 *   8  futures         the operations: orders, leverage, positions, market data, units
 *   9  account         the live account state: the KuCoin stream consumer (feed), its cache and
 *                      pushes, the read-your-writes fences (account view), snapshots, watch counts
 *  10  edge            what both edges ask of an inbound request: caller keys, Host/Origin
 *                      policy, request ids
 *  11  http, ws        the edges: REST, and the client socket /ws/futures with its messages;
 *                      neither imports the other
 *  12  gateway         composition: builds every layer and hands each its dependencies
 *  13  main            the process entry point
 *
 * The simulator (src/simulator/) is its own program: it may use the bottom layers (errors, paths,
 * config, observability) and the KuCoin wire types, never the gateway's operations, account state or
 * edges, and the gateway never imports the simulator.
 *
 * Where a lower layer needs something only a higher one can give (the operations waiting on a
 * KuCoin push the account feed receives), the lower layer declares an interface and the higher one
 * implements it; src/gateway.ts passes the implementation in at construction.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';

/** Ranks; two folders with the same rank may not import each other (edges are siblings, not stacked). */
const LAYERS: Record<string, number> = {
  generated: 0,
  errors: 1,
  paths: 1,
  symbols: 1,
  config: 2,
  contract: 2,
  observability: 3,
  redis: 4,
  'request-scope': 5,
  switch: 6,
  kucoin: 7,
  futures: 8,
  account: 9,
  edge: 10,
  http: 11,
  ws: 11,
  gateway: 12,
  'shutdown-signals': 12,
  main: 13,
};

/** What the simulator may import from the gateway's tree besides itself. */
const SIMULATOR_MAY_USE = new Set(['generated', 'errors', 'paths', 'symbols', 'config', 'observability', 'kucoin']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const rel = (path: string) => relative(projectRoot, path).split(sep).join('/');

/** The layer a repository file belongs to: its first folder under src/ (or generated/), or its name at the root of src/. */
function layerOf(file: string): string {
  const parts = rel(file).split('/');
  if (parts[0] === 'generated') return 'generated';
  if (parts[0] !== 'src') return `outside:${parts[0]}`;
  const top = parts[1] ?? '';
  return parts.length > 2 ? top : top.replace(/\.ts$/, '');
}

/** Module specifiers: static imports and re-exports (`import type` included), side-effect imports, dynamic imports. */
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Comments blanked out, so an example in a comment is not an import. */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

function importsOf(file: string): string[] {
  const text = withoutComments(readFileSync(file, 'utf8'));
  const out: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2];
    if (!specifier || !specifier.startsWith('.')) continue;
    // NodeNext: sources import `./x.js`, the file is `./x.ts`.
    out.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
  }
  return out;
}

type Edge = { from: string; to: string };

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(join(projectRoot, 'src'))) graph.set(file, importsOf(file));
  return graph;
}

function upwardImports(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    const fromLayer = layerOf(file);
    for (const target of targets) {
      const toLayer = layerOf(target);
      if (toLayer === fromLayer) continue;
      const edge = `${rel(file)} (${fromLayer}) → ${rel(target)} (${toLayer})`;
      if (fromLayer === 'simulator') {
        if (!SIMULATOR_MAY_USE.has(toLayer)) bad.push(edge);
        continue;
      }
      const from = LAYERS[fromLayer];
      const to = LAYERS[toLayer];
      if (from === undefined || to === undefined || to >= from) bad.push(edge);
    }
  }
  return bad.sort();
}

/** Every circle of imports, as its strongly connected component (Tarjan), each printed with the edges inside it. */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components.map((component) => {
    const members = new Set(component);
    const edges: Edge[] = [];
    for (const from of component) for (const to of graph.get(from) ?? []) if (members.has(to)) edges.push({ from, to });
    return edges.map(({ from, to }) => `${rel(from)} → ${rel(to)}`).sort();
  });
}

describe('src/ layers', () => {
  const graph = importGraph();

  it('reads the import graph (a sanity check on the parser)', () => {
    const gateway = graph.get(join(projectRoot, 'src/gateway.ts')) ?? [];
    expect(gateway.map(rel)).toContain('src/config/config.ts');
    // Every relative import resolves to a file of the tree: a missed rename would hide an edge.
    const unresolved = [...graph].flatMap(([file, targets]) =>
      targets.filter((target) => !graph.has(target) && layerOf(target) !== 'generated').map((target) => `${rel(file)} → ${rel(target)}`),
    );
    expect(unresolved).toEqual([]);
  });

  it('every file belongs to a known layer', () => {
    const unknown = [...graph.keys()].map(layerOf).filter((layer) => layer !== 'simulator' && LAYERS[layer] === undefined);
    expect([...new Set(unknown)]).toEqual([]);
  });

  it('imports run only downwards (an edge listed here runs sideways or upwards)', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('no circle of imports (each listed circle is the set of edges that close it)', () => {
    expect(circles(graph)).toEqual([]);
  });
});
