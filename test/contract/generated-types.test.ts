/**
 * What a front-end team gets from the contract: openapi-typescript 7 types (with its default
 * settings, and with `defaultNonNullable: false`) and openapi-fetch over them. Every request the
 * README sends to the gateway with curl is written as an openapi-fetch call, and every member of
 * its success answer's `data` is read, in a file type-checked with strict `tsc` and no casts.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openapiPath, projectRoot } from '../../src/paths.js';

type Json = { [key: string]: unknown };
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const spec = parse(readFileSync(openapiPath, 'utf8')) as Json;
/** The README and every document under docs/: where the documented requests are. */
const documents = ['README.md', ...readdirSync(join(projectRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)].map((file) => ({
  file,
  text: readFileSync(join(projectRoot, file), 'utf8'),
}));

function resolve(node: unknown): Json {
  while (isObject(node) && typeof node.$ref === 'string') {
    node = node.$ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), spec);
  }
  if (!isObject(node)) throw new Error('a $ref points at nothing');
  return node;
}

/** The `data` member's schema of an envelope (`allOf: [SuccessBase, {properties: {data}}]`), if it is one. */
function dataSchema(schema: Json): Json | undefined {
  for (const part of (schema.allOf ?? []) as unknown[]) {
    const data = (resolve(part).properties as Json | undefined)?.data;
    if (data !== undefined) return resolve(data);
  }
  return undefined;
}

export interface ReadmeCall {
  /** `README.md:12`, `docs/api.md:88`: where the curl command stands. */
  line: string;
  method: string;
  template: string;
  pathParams: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  comment: string;
}

/** Every curl command of the README and docs/ aimed at the gateway (port 3001), continuation lines joined. */
export function readmeCalls(): ReadmeCall[] {
  const templates = Object.keys(spec.paths as Json).map((template) => ({
    template,
    names: [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
    pattern: new RegExp('^' + template.replace(/\{\w+\}/g, '([^/]+)') + '$'),
  }));
  const calls: ReadmeCall[] = [];
  for (const { file, text } of documents) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let command = lines[i]!;
      const line = `${file}:${i + 1}`;
      while (/\\\s*$/.test(command) && i + 1 < lines.length) command = command.replace(/\\\s*$/, ' ') + lines[++i]!;
      if (!/\bcurl\b/.test(command)) continue;
      const url = command.match(/(?:localhost|127\.0\.0\.1):3001(\/[^\s'"]*)/)?.[1];
      if (url === undefined) continue;
      const method = command.match(/-X\s+([A-Z]+)/)?.[1] ?? 'GET';
      const [path, search = ''] = url.split('?') as [string, string?];
      const match = templates.map((t) => ({ t, m: path.match(t.pattern) })).find((x) => x.m !== null);
      if (match === undefined) continue;
      const json = command.match(/-d\s+'([^']*)'/)?.[1];
      calls.push({
        line,
        method,
        template: match.t.template,
        pathParams: Object.fromEntries(match.t.names.map((name, n) => [name, decodeURIComponent(match.m![n + 1]!)])),
        query: Object.fromEntries(new URLSearchParams(search)),
        body: json === undefined ? undefined : JSON.parse(json),
        comment: command.includes('#') ? command.slice(command.indexOf('#')) : '',
      });
    }
  }
  return calls;
}

/** A literal for a query value: numbers for integer parameters, strings otherwise. */
function queryLiteral(operation: Json, name: string, value: string): string {
  const parameter = ((operation.parameters ?? []) as unknown[]).map(resolve).find((p) => p.name === name);
  const type = parameter === undefined ? undefined : resolve(parameter.schema).type;
  return type === 'integer' || type === 'number' ? value : JSON.stringify(value);
}

function callSource(call: ReadmeCall, n: number): string | undefined {
  const operation = resolve((resolve((spec.paths as Json)[call.template]) as Json)[call.method.toLowerCase()]);
  const success = Object.entries(operation.responses as Json)
    .filter(([status]) => status.startsWith('2'))
    .map(([, response]) => resolve(response));
  const media = success.map((response) => (isObject(response.content) ? response.content['application/json'] : undefined)).find(isObject);
  if (media === undefined) return undefined;
  const envelope = media.schema === undefined ? undefined : dataSchema(resolve(media.schema));

  const init: string[] = [];
  const params: string[] = [];
  if (Object.keys(call.pathParams).length > 0) params.push(`path: ${JSON.stringify(call.pathParams)}`);
  if (Object.keys(call.query).length > 0) {
    params.push(`query: { ${Object.entries(call.query).map(([k, v]) => `${JSON.stringify(k)}: ${queryLiteral(operation, k, v)}`).join(', ')} }`);
  }
  if (params.length > 0) init.push(`params: { ${params.join(', ')} }`);
  if (call.body !== undefined) init.push(`body: ${JSON.stringify(call.body)}`);

  const reads: string[] = [];
  if (envelope !== undefined) {
    reads.push('  const data: {} = res.data.data;', '  void data;');
    const required = (schema: Json) => ((schema.required ?? []) as string[]).map((field) => `.${field}`);
    if (envelope.type === 'array') {
      for (const field of required(resolve(envelope.items))) reads.push(`  for (const item of res.data.data) void item${field};`);
    } else {
      for (const field of required(envelope)) reads.push(`  void res.data.data${field};`);
    }
    for (const field of call.comment.matchAll(/\bdata\.([A-Za-z.]+[A-Za-z])/g)) reads.push(`  void res.data.data.${field[1]};`);
  }
  return [
    `// ${call.line}`,
    `export async function call${n}(): Promise<void> {`,
    `  const res = await client.${call.method}(${JSON.stringify(call.template)}${init.length > 0 ? `, { ${init.join(', ')} }` : ''});`,
    `  if (res.error !== undefined) { const code: string = res.error.code; void code; return; }`,
    ...reads,
    `}`,
  ].join('\n');
}

/**
 * Each status of an operation carries its own codes: a client narrows on them, and a code the
 * operation cannot answer at that status does not type-check (`@ts-expect-error` fails when the
 * line compiles).
 */
const NARROWING = `
type ProblemOf<Op extends keyof operations, Status extends keyof operations[Op]['responses']> =
  operations[Op]['responses'][Status] extends { content: { 'application/problem+json': infer P } } ? P : never;
export const conflict: ProblemOf<'createOrder', 409>['code'] = 'IDEMPOTENCY_CONFLICT';
// @ts-expect-error an order is never refused for the kill switch's exposure rule
export const notAnOrderConflict: ProblemOf<'createOrder', 409>['code'] = 'UNSAFE_EXPOSURE';
export const unconfirmed: ProblemOf<'createOrder', 502>['code'] = 'ORDER_UNCONFIRMED';
// @ts-expect-error a cancel's lost answer is not an order's
export const notACancel: ProblemOf<'createOrder', 502>['code'] = 'CANCEL_UNCONFIRMED';
export const missingOrder: ProblemOf<'getOrder', 404>['code'] = 'ORDER_NOT_FOUND';
// @ts-expect-error a 404 never carries a 409 code
export const wrongStatus: ProblemOf<'getOrder', 404>['code'] = 'POSITION_BUSY';
export async function narrowed(): Promise<void> {
  const res = await client.POST('/api/futures/orders', { body: { symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty: 1 } });
  if (res.error?.code === 'ORDER_UNCONFIRMED') void res.error.clientOid;
  if (res.error?.code === 'IDEMPOTENCY_CONFLICT') void res.error.existingOrder?.orderId;
}
`;

function usageSource(): string {
  const calls = readmeCalls()
    .map(callSource)
    .filter((source): source is string => source !== undefined);
  return [
    `import createClient from 'openapi-fetch';`,
    `import type { operations, paths } from './openapi.js';`,
    `const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:3001' });`,
    ...calls,
    NARROWING,
    '',
  ].join('\n');
}

const compilerOptions: ts.CompilerOptions = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  types: [],
  skipLibCheck: true,
};

/** Strict tsc diagnostics of `usage.ts` against types generated with `options`, one line each. */
export async function typeCheckReadmeCalls(dir: string, options: { defaultNonNullable: boolean }): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'openapi.ts'), astToString(await openapiTS(pathToFileURL(openapiPath), { silent: true, ...options })));
  writeFileSync(join(dir, 'usage.ts'), usageSource());
  const program = ts.createProgram([join(dir, 'usage.ts')], compilerOptions);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** The TypeScript blocks of docs/api.md's "Typed clients" section, importing the repository's generated client. */
function readmeClientSnippets(): string[] {
  const api = documents.find((d) => d.file === 'docs/api.md')!.text;
  const start = api.indexOf('## Typed clients');
  const end = api.indexOf('\n## ', start + 1);
  const section = api.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.replaceAll(`'./generated/client.js'`, `'${join(projectRoot, 'generated', 'client.js')}'`));
}

const root = join(projectRoot, '.tmp', `generated-types-${process.pid}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('types generated from openapi.yaml, used as the README uses the gateway', () => {
  it('finds the README requests to check (orders, leverage, switch, reads)', () => {
    const calls = readmeCalls();
    const bodies = calls.filter((c) => c.body !== undefined).map((c) => `${c.method} ${c.template}`);
    expect(bodies).toEqual(expect.arrayContaining(['POST /api/futures/orders', 'PUT /api/futures/leverage', 'PUT /api/admin/futures-switch']));
    expect(calls.some((c) => c.body !== undefined && JSON.stringify(c.body) === '{"symbol":"BTCUSDTM","side":"BUY","type":"MARKET","qty":1}')).toBe(true);
    expect(usageSource()).not.toMatch(/\bas\s+[A-Za-z{]/);
  });

  it('compiles the README\'s client snippets against generated/client.ts under strict tsc', () => {
    const snippets = readmeClientSnippets();
    expect(snippets.length).toBeGreaterThan(0);
    const dir = join(root, 'readme');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const files = snippets.map((snippet, i) => {
      expect(snippet).not.toMatch(/\bas\s+[A-Za-z{]/);
      const file = join(dir, `snippet-${i}.ts`);
      writeFileSync(file, `${snippet}\nexport {};\n`);
      return file;
    });
    const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram(files, compilerOptions)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 60_000);

  for (const defaultNonNullable of [true, false]) {
    it(`compiles under strict tsc with openapi-typescript's defaultNonNullable: ${defaultNonNullable}`, async () => {
      const diagnostics = await typeCheckReadmeCalls(join(root, String(defaultNonNullable)), { defaultNonNullable });
      expect(diagnostics).toEqual([]);
    }, 60_000);
  }
});
