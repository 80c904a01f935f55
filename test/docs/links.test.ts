/**
 * Keeps the repository's documentation reachable and self-contained:
 * - a Markdown link in README.md or docs/*.md to a file of the repository names a file that exists,
 *   and its #anchor, when it has one into a Markdown document, names a heading there;
 * - a `docs/...` path named in src/, test/, scripts/ or README.md exists;
 * - references to documents that live outside the repository do not grow. The allowance is the
 *   count of those that predate this check; once they are replaced it becomes 0.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';

/**
 * Documents the repository must not depend on: reference notes kept beside it while it was built
 * (and the folder they lived in), which whoever clones it does not have.
 */
// `../shared/redis.js` is src/shared's module, imported from a sibling folder of src/, not the notes folder.
const OUTSIDE_DOCUMENT = /(?<![\w-])(?:kucoin-futures|design|style)\.md\b|\.\.\/shared\b(?!\/redis\.js)/g;

/** A repository-relative `docs/...` path, not part of a longer path or a URL route (`/api/docs/...`, `test/docs/...`). */
const DOCS_PATH = /(?<![\w./-])docs\/[\w./-]*[\w/]|(?<![\w./-])docs\//g;

const TEXT_FILE = /\.(?:ts|mts|cts|js|mjs|cjs|json|md|sh|ya?ml)$/;
const SCANNED_DIRS = ['src', 'test', 'scripts'];

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile() && TEXT_FILE.test(entry.name)) out.push(path);
  }
  return out;
}

const rel = (path: string) => relative(projectRoot, path).split(sep).join('/');
const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** README.md and every Markdown file under docs/. */
function markdownDocuments(): string[] {
  const docs = join(projectRoot, 'docs');
  return [join(projectRoot, 'README.md'), ...(existsSync(docs) ? filesUnder(docs).filter((path) => path.endsWith('.md')) : [])];
}

/** The files whose mentions of `docs/...` and of the outside documents are checked. */
function scannedFiles(): string[] {
  const ci = join(projectRoot, '.ci', 'run');
  return [join(projectRoot, 'README.md'), ...(existsSync(ci) ? [ci] : []), ...SCANNED_DIRS.flatMap((dir) => filesUnder(join(projectRoot, dir)))];
}

/** Fenced code blocks blanked out (line count kept): a link-like text in an example is not a link. */
function withoutCodeBlocks(markdown: string): string {
  return markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' '));
}

/** `[text](target)` and `![alt](target)` targets, with their line. */
export function markdownLinks(markdown: string): { target: string; line: number }[] {
  const text = withoutCodeBlocks(markdown);
  const links: { target: string; line: number }[] = [];
  for (const match of text.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ target: match[1]!, line: lineOf(text, match.index) });
  }
  return links;
}

/** A link target that names a repository file (not a URL, not an anchor in the same page). */
export function repositoryTarget(target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('//')) return undefined;
  const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
  return path === '' ? undefined : path;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2... */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of withoutCodeBlocks(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = match[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n += 1) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

export function docsPaths(text: string): { path: string; line: number }[] {
  return [...text.matchAll(DOCS_PATH)].map((match) => ({ path: match[0], line: lineOf(text, match.index) }));
}

export function outsideReferences(text: string): { name: string; line: number }[] {
  return [...text.matchAll(OUTSIDE_DOCUMENT)].map((match) => ({ name: match[0], line: lineOf(text, match.index) }));
}

describe('documentation links', () => {
  it('finds links, repository targets and docs/ paths the way the checks below rely on', () => {
    // Built from parts, so this file's own text holds none of the paths and names it checks for.
    const [d, md] = ['docs', '.md'];
    const sample = `[a](${d}/x${md}#part) ![b](images/y.png) [c](https://example.com) [d](#anchor)\n\`\`\`\n[e](nope${md})\n\`\`\`\n`;
    expect(markdownLinks(sample).map((link) => repositoryTarget(link.target))).toEqual([`${d}/x${md}`, 'images/y.png', undefined, undefined]);
    expect(docsPaths(`see ${d}/kucoin${md}. and /api/${d}/websocket, test/${d}/readme.test.ts, \`${d}/images/a.png\``).map((hit) => hit.path)).toEqual([
      `${d}/kucoin${md}`,
      `${d}/images/a.png`,
    ]);
    expect([...headingAnchors('# WebSocket `/ws/futures`\n## Orders: idempotency and no blind retries\n```\n# not a heading\n```\n## Quantities (`qtyUnit`) and prices\n## Rollout\n## Rollout\n')]).toEqual([
      'websocket-wsfutures',
      'orders-idempotency-and-no-blind-retries',
      'quantities-qtyunit-and-prices',
      'rollout',
      'rollout-1',
    ]);
    expect(outsideReferences(`see design${md} §6 and kucoin-futures${md} §3; not redesign${md}`).map((hit) => hit.name)).toEqual([`design${md}`, `kucoin-futures${md}`]);
    expect(outsideReferences(`read ../${'shared'}/notes and style${md}`).map((hit) => hit.name)).toEqual([`../${'shared'}`, `style${md}`]);
  });

  it('every Markdown link in README.md and docs/ to a repository file names one that exists', () => {
    const broken: string[] = [];
    for (const file of markdownDocuments()) {
      for (const { target, line } of markdownLinks(readFileSync(file, 'utf8'))) {
        const path = repositoryTarget(target);
        if (path === undefined) continue;
        const resolved = path.startsWith('/') ? join(projectRoot, path) : join(dirname(file), path);
        if (!existsSync(resolved)) broken.push(`${rel(file)}:${line} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every #anchor of a link in README.md and docs/ names a heading of its Markdown document', () => {
    const broken: string[] = [];
    for (const file of markdownDocuments()) {
      for (const { target, line } of markdownLinks(readFileSync(file, 'utf8'))) {
        const hash = target.indexOf('#');
        if (hash < 0 || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const path = target.slice(0, hash);
        const document = path === '' ? file : path.startsWith('/') ? join(projectRoot, path) : join(dirname(file), path);
        if (!document.endsWith('.md') || !existsSync(document)) continue;
        if (!headingAnchors(readFileSync(document, 'utf8')).has(decodeURIComponent(target.slice(hash + 1)))) broken.push(`${rel(file)}:${line} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every docs/ path named in src/, test/, scripts/ and README.md exists', () => {
    const missing: string[] = [];
    for (const file of scannedFiles()) {
      for (const { path, line } of docsPaths(readFileSync(file, 'utf8'))) {
        if (!existsSync(join(projectRoot, path))) missing.push(`${rel(file)}:${line} → ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the KuCoin reference is in the repository and README.md links to it', () => {
    const doc = join(projectRoot, 'docs', 'kucoin.md');
    expect(existsSync(doc) && statSync(doc).isFile()).toBe(true);
    expect(markdownLinks(readFileSync(join(projectRoot, 'README.md'), 'utf8')).map((link) => link.target)).toContain('docs/kucoin.md');
  });

  it('no file refers to a document outside the repository', () => {
    const found = [...scannedFiles(), ...markdownDocuments()].flatMap((file) =>
      outsideReferences(readFileSync(file, 'utf8')).map(({ name, line }) => `${rel(file)}:${line} ${name}`),
    );
    expect(found).toEqual([]);
  });
});
