/**
 * The HTTP contract as the tests see it: every response a test receives is checked against
 * `openapi.yaml`, and every operation a response is matched to is recorded, so the suite can fail
 * when an operation of the spec is exercised by no test (see global-setup.ts).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

export interface Operation {
  operationId: string;
  method: string;
  pathTemplate: string;
}

export interface ObservedResponse {
  method: string;
  /** The request path as sent; a query string is ignored. */
  path: string;
  status: number;
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The raw response text, or an already-parsed JSON value (a raw string is parsed when the
   *  documented media type is JSON). Empty string or undefined for no body. */
  body?: unknown;
}

export interface Contract {
  listOperations(): Operation[];
  matchOperation(method: string, path: string): { operationId: string; pathTemplate: string } | undefined;
  /** Throws an Error describing every mismatch; returns normally when the response is documented. */
  assertResponse(response: ObservedResponse): void;
}

export interface ContractOptions {
  /** Called with the operationId of every response matched to an operation. */
  onExercised?: (operationId: string) => void;
}

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const SPEC_KEY = 'openapi';
const BODY_EXCERPT = 600;
// Siblings OpenAPI 3.1 allows beside a $ref without changing what it validates.
const REF_SIBLINGS = new Set(['$ref', 'summary', 'description']);
const SYNTHESISED = '/x-synthesised';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

export function createContract(spec: Json, options: ContractOptions = {}): Contract {
  // The whole document is registered once, so response schemas are compiled by JSON pointer and
  // their `#/components/...` refs (recursive ones included) resolve against the document itself.
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  ajv.addSchema(spec, SPEC_KEY, undefined, false);
  const validators = new Map<string, ValidateFunction>();

  const operations = collectOperations(spec);
  const routes = routeTable(operations);

  function resolve(node: Json | undefined, pointer: string): Located | undefined {
    return node === undefined ? undefined : deref(spec, node, pointer);
  }

  /** A schema that is only a reference is validated by its target, so validators are shared. */
  function validatorFor(schema: Located): ValidateFunction {
    const onlyRef = typeof schema.node.$ref === 'string' && Object.keys(schema.node).every((k) => REF_SIBLINGS.has(k));
    const pointer = onlyRef ? deref(spec, schema.node, schema.pointer).pointer : schema.pointer;
    let validate = validators.get(pointer);
    if (!validate) {
      validate = ajv.getSchema(`${SPEC_KEY}#${pointer}`);
      if (!validate) throw new Error(`openapi: no schema at ${pointer}`);
      validators.set(pointer, validate);
    }
    return validate;
  }

  function matchOperation(method: string, path: string) {
    const route = findRoute(routes, method, path);
    return route && 'operationId' in route ? { operationId: route.operationId, pathTemplate: route.pathTemplate } : undefined;
  }

  function assertResponse(response: ObservedResponse): void {
    const route = findRoute(routes, response.method, response.path);
    const headers = normaliseHeaders(response.headers);
    const problems: string[] = [];
    let label: string;
    let documented: Located | undefined;
    let where = '';

    if (route && 'operationId' in route) {
      // An answer to HEAD is the GET's without its body: it shows nothing of the body's schema, so
      // it does not count as exercising the operation.
      const headAsGet = response.method.toUpperCase() === 'HEAD' && route.method === 'get';
      if (!headAsGet) options.onExercised?.(route.operationId);
      label = `${route.operationId} (${route.method.toUpperCase()} ${route.pathTemplate})${headAsGet ? ', answering HEAD' : ''}`;
      const responses: Json = route.node.responses ?? {};
      const key = responseKey(responses, response.status);
      if (key === undefined) {
        problems.push(`status ${response.status} is not documented (documented: ${Object.keys(responses).join(', ')})`);
      } else {
        where = `#${route.pointer}/responses/${esc(key)}`;
        documented = resolve(responses[key], where.slice(1));
      }
    } else {
      // Not an operation: the gateway must answer like any unknown route (docs/api.md "Errors").
      label = route ? `none: no ${response.method.toUpperCase()} operation on this path` : 'none: unknown path';
      documented = unknownRouteResponse(response.status);
      if (documented) where = documented.pointer === SYNTHESISED ? '#/components/schemas/Problem' : `#${documented.pointer}`;
      else problems.push('the spec defines neither components.responses.NotFound/MethodNotAllowed/MisdirectedRequest nor components.schemas.Problem');
    }

    if (documented) {
      problems.push(...checkBody(documented, headers, response, validatorFor, resolve));
      problems.push(...checkHeaders(documented, headers, validatorFor, resolve));
    }
    if (problems.length > 0) throw new Error(describeMismatch(label, where, response, problems));
  }

  function unknownRouteResponse(status: number): Located | undefined {
    // 421: the Host check comes before routing, so any path, known or not, may answer it.
    const name = status === 404 ? 'NotFound' : status === 405 ? 'MethodNotAllowed' : status === 421 ? 'MisdirectedRequest' : undefined;
    if (name && spec.components?.responses?.[name]) {
      return resolve(spec.components.responses[name], `/components/responses/${name}`);
    }
    if (!spec.components?.schemas?.Problem) return undefined;
    const schema = { $ref: '#/components/schemas/Problem' };
    // Synthesised, so it has no pointer of its own; its schema is a pure reference, validated by its target.
    return { node: { content: { 'application/problem+json': { schema } } }, pointer: SYNTHESISED };
  }

  return {
    listOperations: () => operations.map(({ operationId, method, pathTemplate }) => ({ operationId, method, pathTemplate })),
    matchOperation,
    assertResponse,
  };
}

// ---- routing -------------------------------------------------------------------------------

interface LocatedOperation extends Operation {
  node: Json;
  pointer: string;
}

interface RouteEntry {
  template: string;
  regex: RegExp;
  literalLength: number;
  params: number;
  operations: Map<string, LocatedOperation>;
}

function collectOperations(spec: Json): LocatedOperation[] {
  const out: LocatedOperation[] = [];
  for (const [template, rawItem] of Object.entries<Json>(spec.paths ?? {})) {
    const item = deref(spec, rawItem, `/paths/${esc(template)}`);
    for (const method of METHODS) {
      const op = item.node[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`openapi: ${method.toUpperCase()} ${template} has no operationId`);
      out.push({ operationId: op.operationId, method, pathTemplate: template, node: op, pointer: `${item.pointer}/${method}` });
    }
  }
  return out;
}

function routeTable(operations: LocatedOperation[]): RouteEntry[] {
  const byTemplate = new Map<string, RouteEntry>();
  for (const op of operations) {
    let entry = byTemplate.get(op.pathTemplate);
    if (!entry) {
      const pattern = op.pathTemplate
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      entry = {
        template: op.pathTemplate,
        regex: new RegExp(`^${pattern}$`),
        literalLength: op.pathTemplate.replace(/\{[^}]+\}/g, '').length,
        params: (op.pathTemplate.match(/\{[^}]+\}/g) ?? []).length,
        operations: new Map(),
      };
      byTemplate.set(op.pathTemplate, entry);
    }
    entry.operations.set(op.method, op);
  }
  // OpenAPI 3.1 §4.8.8.2: concrete paths are matched before templated ones; among templated
  // ones the most literal wins, as openapi-backend orders them.
  return [...byTemplate.values()].sort((a, b) => a.params - b.params || b.literalLength - a.literalLength);
}

/** The operation for method + path, or `{ pathOnly }` when some template matches the path but
 *  none with this method (a 405 case), or undefined for an unknown path. HEAD without an operation
 *  of its own is the GET operation (RFC 9110 §9.3.2), as the gateway routes it. */
function findRoute(routes: RouteEntry[], method: string, rawPath: string): LocatedOperation | { pathOnly: true } | undefined {
  const path = rawPath.split(/[?#]/)[0]!;
  const candidates = routes.filter((route) => route.regex.test(path));
  for (const route of candidates) {
    const wanted = method.toLowerCase();
    const operation = route.operations.get(wanted) ?? (wanted === 'head' ? route.operations.get('get') : undefined);
    if (operation) return operation;
  }
  return candidates.length > 0 ? { pathOnly: true } : undefined;
}

// ---- response checks -----------------------------------------------------------------------

interface Located {
  node: Json;
  pointer: string;
}

type Resolve = (node: Json | undefined, pointer: string) => Located | undefined;
type ValidatorFor = (schema: Located) => ValidateFunction;

function responseKey(responses: Json, status: number): string | undefined {
  const keys = Object.keys(responses);
  return (
    keys.find((k) => k === String(status)) ??
    keys.find((k) => k.toUpperCase() === `${String(status)[0]}XX`) ??
    keys.find((k) => k === 'default')
  );
}

function checkBody(
  documented: Located,
  headers: Map<string, string>,
  response: ObservedResponse,
  validatorFor: ValidatorFor,
  resolve: Resolve,
): string[] {
  const text = typeof response.body === 'string' ? response.body : undefined;
  const empty = response.body === undefined || text === '';
  const content: Json = documented.node.content ?? {};
  const mediaTypes = Object.keys(content);
  if (mediaTypes.length === 0) {
    return empty ? [] : ['the documented response has no content, but the body is not empty'];
  }

  const contentType = (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const mediaType = mediaTypes.find((m) => mediaTypeMatches(m, contentType));
  if (!mediaType) {
    return [`content-type "${contentType || '(none)'}" is not documented (documented: ${mediaTypes.join(', ')})`];
  }
  // RFC 9110 §9.3.2: the GET's headers, Content-Type included, and no content at all.
  if (response.method.toUpperCase() === 'HEAD') return empty ? [] : ['an answer to HEAD has a body'];
  const media = resolve(content[mediaType], `${documented.pointer}/content/${esc(mediaType)}`)!;

  if (!isJson(contentType)) {
    return text === undefined && !empty ? [`a ${contentType} body must be text`] : [];
  }
  let value = response.body;
  if (text !== undefined) {
    try {
      value = JSON.parse(text);
    } catch {
      return [`the body is not valid JSON`];
    }
  }
  if (media.node.schema === undefined) return [];
  const validate = validatorFor({ node: media.node.schema, pointer: `${media.pointer}/schema` });
  return validate(value) ? [] : formatErrors('body', validate.errors);
}

function checkHeaders(
  documented: Located,
  headers: Map<string, string>,
  validatorFor: ValidatorFor,
  resolve: Resolve,
): string[] {
  const problems: string[] = [];
  for (const [name, raw] of Object.entries<Json>(documented.node.headers ?? {})) {
    // OpenAPI 3.1 §4.8.17.1: a documented Content-Type header is ignored.
    if (name.toLowerCase() === 'content-type') continue;
    const header = resolve(raw, `${documented.pointer}/headers/${esc(name)}`)!;
    const value = headers.get(name.toLowerCase());
    if (value === undefined) {
      if (header.node.required === true) problems.push(`required header ${name} is missing`);
      continue;
    }
    // Only simple-typed headers are checked: style/explode serialisation of arrays and objects
    // (OpenAPI 3.1 §4.8.12.4) is more than these tests need.
    const schema = resolve(header.node.schema, `${header.pointer}/schema`);
    if (!schema || !['string', 'integer', 'number', 'boolean'].includes(schema.node.type)) continue;
    const validate = validatorFor(schema);
    if (!validate(headerValue(value, schema.node.type))) problems.push(...formatErrors(`header ${name}: ${JSON.stringify(value)}`, validate.errors));
  }
  return problems;
}

/** A header's text as the JSON value its schema describes; left as text when it is not one. */
function headerValue(text: string, type: string): unknown {
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (type === 'integer' || type === 'number') return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  return text;
}

function mediaTypeMatches(documented: string, actual: string): boolean {
  const [type, subtype] = documented.toLowerCase().split('/');
  const [actualType, actualSubtype] = actual.split('/');
  return (type === '*' || type === actualType) && (subtype === '*' || subtype === actualSubtype);
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

// ---- helpers -------------------------------------------------------------------------------

/** Follows local `$ref`s (OpenAPI Reference Objects) to the object they point at. */
function deref(spec: Json, node: Json, pointer: string): Located {
  const seen = new Set<string>();
  while (node && typeof node.$ref === 'string') {
    const ref: string = node.$ref;
    if (!ref.startsWith('#/')) throw new Error(`openapi: only local refs are supported, got ${ref} at ${pointer}`);
    if (seen.has(ref)) throw new Error(`openapi: circular reference ${ref}`);
    seen.add(ref);
    pointer = ref.slice(1);
    node = pointer
      .split('/')
      .slice(1)
      .reduce<any>((at, part) => at?.[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')], spec);
    if (node === undefined) throw new Error(`openapi: unresolved reference ${ref}`);
  }
  return { node, pointer };
}

/** A JSON pointer segment, percent-encoded so ajv can read it from a URI fragment (RFC 6901 §6). */
function esc(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}

function normaliseHeaders(headers: ObservedResponse['headers']): Map<string, string> {
  const entries: [string, string][] =
    headers instanceof Headers
      ? [...headers.entries()]
      : Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v]]));
  return new Map(entries.map(([k, v]) => [k.toLowerCase(), v]));
}

function formatErrors(what: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${what}${e.instancePath || ''} ${e.message ?? e.keyword} ${formatParams(e)}`.trim());
}

function formatParams(e: ErrorObject): string {
  const params = Object.entries(e.params).filter(([, v]) => v !== undefined);
  return params.length > 0 ? `(${params.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')})` : '';
}

function describeMismatch(label: string, where: string, response: ObservedResponse, problems: string[]): string {
  const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body) ?? '';
  const excerpt = body.length > BODY_EXCERPT ? `${body.slice(0, BODY_EXCERPT)}… (${body.length} chars)` : body;
  return [
    'response does not match openapi.yaml',
    `  operation: ${label}`,
    `  request:   ${response.method.toUpperCase()} ${response.path}`,
    `  status:    ${response.status}`,
    ...(where ? [`  contract:  ${decodeURIComponent(where)}`] : []),
    ...problems.map((p) => `  - ${p}`),
    `  body:      ${excerpt || '(empty)'}`,
  ].join('\n');
}

// ---- the project's contract ----------------------------------------------------------------

// src/paths.ts throws at import when openapi.yaml is missing; imported this way the error only
// surfaces when the project's contract is used, so fixture-based tests and unrelated test files
// still run while the spec is being written.
const paths = await import('../../src/paths.js').catch((error: unknown) => ({ error }));

let projectContract: Contract | undefined;

/** The contract built from the project's openapi.yaml, loaded on first use. */
export function defaultContract(): Contract {
  if ('error' in paths) throw paths.error;
  projectContract ??= createContract(parseYaml(readFileSync(paths.openapiPath, 'utf8')), { onExercised: recordExercised });
  return projectContract;
}

export const listOperations = (): Operation[] => defaultContract().listOperations();
export const matchOperation = (method: string, path: string) => defaultContract().matchOperation(method, path);
export const assertResponseMatchesContract = (response: ObservedResponse): void => defaultContract().assertResponse(response);

/** The environment variable naming the folder where workers record exercised operations. */
export const COVERAGE_DIR_ENV = 'CONTRACT_COVERAGE_DIR';

const recorded = new Set<string>();

/** Appends an operationId to this worker's own file (one per process and thread, so appends
 *  from parallel workers never interleave). No-op outside a run started with global-setup.ts. */
function recordExercised(operationId: string): void {
  const dir = process.env[COVERAGE_DIR_ENV];
  if (!dir || recorded.has(operationId)) return;
  recorded.add(operationId);
  appendFileSync(join(dir, `${process.pid}-${threadId}.txt`), `${operationId}\n`);
}
