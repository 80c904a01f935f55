/**
 * Request generators derived from openapi.yaml, for the reliability properties: valid requests from
 * each operation's parameter and body schemas, and mutated (invalid) ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../../src/paths.js';

type Json = Record<string, any>;

export const spec: Json = parseYaml(readFileSync(join(projectRoot, 'openapi.yaml'), 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: false, logger: false });
ajv.addSchema(spec, 'openapi', undefined, false);
/** Query/path/header parameters arrive as strings: validity is judged with type coercion, as a router does. */
const ajvCoerce = new Ajv2020({ strict: false, allErrors: false, logger: false, coerceTypes: true });
ajvCoerce.addSchema(spec, 'openapi', undefined, false);

export function deref(node: Json): Json {
  let out = node;
  while (out && typeof out.$ref === 'string') {
    out = out.$ref
      .slice(2)
      .split('/')
      .reduce((n: Json, key: string) => n[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return out;
}

/** Spellings the contract documents for BTC, plus other listed contracts (test/kucoin/fixtures). */
export const VALID_SYMBOLS = ['XBTUSDTM', 'BTCUSDTM', 'BTC-USDT', 'BTCUSDT', 'BTC/USDT:USDT', 'btcusdtm', 'ETHUSDTM', 'ETH-USDT', 'SOLUSDTM', 'XBTUSDM'];

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Json;
}

export interface Op {
  operationId: string;
  method: string;
  pathTemplate: string;
  params: Param[];
  body?: { required: boolean; schema: Json };
  secured: boolean;
  /** Documented response statuses. */
  statuses: string[];
}

export function operations(): Op[] {
  const ops: Op[] = [];
  for (const [pathTemplate, item] of Object.entries<Json>(spec.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      const op = item[method];
      if (!op) continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Json) => deref(p)) as Param[];
      const body = op.requestBody ? deref(op.requestBody) : undefined;
      ops.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        pathTemplate,
        params,
        ...(body ? { body: { required: body.required === true, schema: body.content['application/json'].schema } } : {}),
        secured: (op.security ?? spec.security ?? []).length > 0,
        statuses: Object.keys(op.responses ?? {}),
      });
    }
  }
  return ops;
}

const validators = new Map<string, (v: unknown) => boolean>();
function validatorFor(schema: Json, coerce: boolean): (v: unknown) => boolean {
  const key = `${coerce}:${JSON.stringify(schema)}`;
  let v = validators.get(key);
  if (!v) {
    // Wrapped in an object so coercion can replace the value in place.
    const fn = (coerce ? ajvCoerce : ajv).compile({ type: 'object', properties: { v: rebase(schema) }, required: ['v'] });
    v = (value: unknown) => fn({ v: value }) as boolean;
    validators.set(key, v);
  }
  return v;
}
/** Local refs point into the registered document. */
function rebase(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, '"$ref":"openapi#/'));
}
export const isValid = (schema: Json, value: unknown) => validatorFor(schema, false)(value);
export const isValidParam = (schema: Json, value: string | string[]) => validatorFor(schema, true)(value);

// ---- valid values -------------------------------------------------------------------------

export function valueArb(raw: Json, name = ''): fc.Arbitrary<unknown> {
  const schema = deref(raw);
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (raw.$ref === '#/components/schemas/SymbolInput' || name === 'symbol') {
    return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...VALID_SYMBOLS) }, { weight: 1, arbitrary: patternString(schema) });
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return schema.pattern ? patternString(schema) : fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number': {
      const min = schema.exclusiveMinimum ?? schema.minimum ?? -1000;
      const max = schema.maximum ?? 100_000;
      return fc.oneof(
        fc.integer({ min: Math.ceil(min) + (schema.exclusiveMinimum !== undefined ? 1 : 0), max: Math.min(max, 100) }),
        fc.double({ min, max, minExcluded: schema.exclusiveMinimum !== undefined, noNaN: true, noDefaultInfinity: true }),
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'object': {
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, sub] of Object.entries<Json>(schema.properties ?? {})) props[key] = valueArb(sub, key);
      return fc.record(props, { requiredKeys: schema.required ?? [] }).filter((v) => isValid(raw, v));
    }
    default:
      return fc.constant(null);
  }
}

function patternString(schema: Json): fc.Arbitrary<string> {
  const examples: string[] = (schema.examples ?? []).filter((e: unknown) => typeof e === 'string');
  const matching = fc
    .stringMatching(new RegExp(schema.pattern))
    .filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity));
  return examples.length > 0 ? fc.oneof(fc.constantFrom(...examples), matching) : matching;
}

// ---- requests -----------------------------------------------------------------------------

export interface GenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What was done to it, for the failure report. */
  note: string;
}

interface Parts {
  op: Op;
  path: Record<string, string>;
  query: [string, string][];
  headers: Record<string, string>;
  body?: unknown;
}

function partsArb(op: Op): fc.Arbitrary<Parts> {
  const pathArbs: Record<string, fc.Arbitrary<string>> = {};
  const queryArbs: Record<string, fc.Arbitrary<string>> = {};
  const headerArbs: Record<string, fc.Arbitrary<string>> = {};
  for (const p of op.params) {
    const arb = valueArb(p.schema, p.name).map(String);
    if (p.in === 'path') pathArbs[p.name] = arb;
    else if (p.in === 'query') queryArbs[p.name] = arb;
    else headerArbs[p.name] = arb;
  }
  const optional = (arbs: Record<string, fc.Arbitrary<string>>, required: string[]) => fc.record(arbs, { requiredKeys: required });
  return fc.record({
    path: fc.record(pathArbs),
    query: optional(queryArbs, op.params.filter((p) => p.in === 'query' && p.required).map((p) => p.name)).map((q) => Object.entries(q)),
    headers: optional(headerArbs, []),
    body: op.body ? valueArb(op.body.schema) : fc.constant(undefined),
  }).map((parts) => ({ op, ...parts }) as Parts);
}

function render(parts: Parts, note: string, rawPath?: Record<string, string>, rawBody?: { text: string; contentType?: string }): GenRequest {
  let path = parts.op.pathTemplate;
  for (const [name, value] of Object.entries(parts.path)) path = path.replace(`{${name}}`, rawPath?.[name] ?? encodeURIComponent(value));
  const query = parts.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const headers: Record<string, string> = { ...parts.headers };
  let body: string | undefined;
  if (rawBody) {
    body = rawBody.text;
    if (rawBody.contentType !== undefined) headers['content-type'] = rawBody.contentType;
  } else if (parts.body !== undefined) {
    body = JSON.stringify(parts.body);
    headers['content-type'] = 'application/json';
  }
  return { method: parts.op.method, path: query ? `${path}?${query}` : path, headers, ...(body !== undefined ? { body } : {}), note };
}

export const validRequestArb = (op: Op): fc.Arbitrary<GenRequest> => partsArb(op).map((p) => render(p, 'valid'));

// ---- mutations ----------------------------------------------------------------------------

const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 });
const unicode = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 });
const oddStrings = fc.constantFrom(
  '',
  ' ',
  'NaN',
  '-0',
  '1e308',
  '-1e308',
  'Infinity',
  '0x10',
  '99999999999999999999999',
  'null',
  'true',
  '[]',
  '{}',
  '..',
  '%',
  'BTC USDT',
  '<script>alert(1)</script>',
  "'; DROP TABLE orders; --",
  '🚀🚀🚀',
  'ＢＴＣＵＳＤＴＭ',
  'XBTUSDTM\u0000',
  'XBTUSDTM\r\nX-Injected: 1',
  'BTC/USDT/USDT',
  '../../admin/futures-switch',
  'A'.repeat(41),
  'A'.repeat(5000),
);
const badString = fc.oneof(oddStrings, unicode, controlChars);
/** Percent sequences that are not valid UTF-8 or not valid escapes at all, sent raw in the path. */
export const RAW_BAD_ESCAPES = ['%FF', '%E0%A4%A', '%', '%zz', '%C0%AF', 'XBT%00USDTM', '%ED%A0%80'];
const rawBadEscapes = fc.constantFrom(...RAW_BAD_ESCAPES);

const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);
const deepJson = fc.constantFrom(
  nested(1000, '[', ']'),
  nested(5000, '[', ']'),
  nested(1000, '{"a":', '}'),
);
const badJsonValue = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1e308, -1e308, 'x', '', [], {}, [1, 2], { nested: { deep: [] } }, 'NaN', '-0', '1e308', 'Infinity'),
  badString,
  fc.integer(),
  fc.double(),
);
const malformedJson = fc.constantFrom('{"symbol":', '{symbol:"XBTUSDTM"}', "{'a':1}", '{"a":1,}', '{"a":NaN}', '{"a":1}{', 'null', '"string"', '42', 'true', '[', '}', '\u0000', '{"a":"\\u00"}');
const getBody = fc.option(fc.oneof(fc.constant({ text: '{"x":1}', contentType: 'application/json' }), fc.constant({ text: 'hello', contentType: 'text/plain' })), { nil: undefined });

/** Requests that are invalid by the contract, derived from a valid one. Empty when the operation takes no input. */
export function mutatedRequestArb(op: Op, options: { rawEscapes?: boolean } = {}): fc.Arbitrary<GenRequest> | undefined {
  const base = partsArb(op);
  const muts: fc.Arbitrary<GenRequest>[] = [];
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  const withGetBody = (req: GenRequest, extra: { text: string; contentType: string } | undefined): GenRequest =>
    op.body || !extra ? req : { ...req, body: extra.text, headers: { ...req.headers, 'content-type': extra.contentType }, note: `${req.note} + body on ${op.method}` };

  for (const p of pathParams) {
    muts.push(
      fc
        .tuple(base, badString.filter((s) => !isValidParam(p.schema, s) && s !== '.' && s !== '..'), getBody)
        .map(([parts, bad, extra]) => withGetBody(render({ ...parts, path: { ...parts.path, [p.name]: bad } }, `path ${p.name}=${JSON.stringify(bad).slice(0, 80)}`), extra)),
    );
    if (options.rawEscapes) {
      muts.push(fc.tuple(base, rawBadEscapes, getBody).map(([parts, raw, extra]) => withGetBody(render(parts, `raw path ${p.name}=${raw}`, { [p.name]: raw }), extra)));
    }
  }
  for (const p of queryParams) {
    muts.push(
      fc
        .tuple(base, badString.filter((s) => !isValidParam(p.schema, s)), getBody)
        .map(([parts, bad, extra]) =>
          withGetBody(render({ ...parts, query: [...parts.query.filter(([k]) => k !== p.name), [p.name, bad]] }, `query ${p.name}=${JSON.stringify(bad).slice(0, 80)}`), extra),
        ),
      // The same parameter twice: an array where the contract says one value.
      fc
        .tuple(base, valueArb(p.schema, p.name).map(String), valueArb(p.schema, p.name).map(String))
        .map(([parts, a, b]) => render({ ...parts, query: [...parts.query.filter(([k]) => k !== p.name), [p.name, a], [p.name, b]] }, `duplicate query ${p.name}=${a}&${p.name}=${b}`)),
    );
  }
  for (const p of headerParams) {
    muts.push(
      fc
        .tuple(base, fc.oneof(oddStrings, fc.stringMatching(/^[!-~]{41,60}$/)).filter((s) => !isValidParam(p.schema, s) && /^[\t -~]*$/.test(s) && s.trim() !== ''))
        .map(([parts, bad]) => render({ ...parts, headers: { ...parts.headers, [p.name]: bad } }, `header ${p.name}=${JSON.stringify(bad).slice(0, 80)}`)),
    );
  }
  // The gateway refuses query parameters the contract does not list (400 VALIDATION_FAILED).
  if (op.statuses.includes('400')) {
    muts.push(
      fc
        .tuple(base, fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/).filter((k) => !queryParams.some((p) => p.name === k)), badString, getBody)
        .map(([parts, key, v, extra]) => withGetBody(render({ ...parts, query: [...parts.query, [key, v]] }, `extra query ${key}`), extra)),
    );
  }
  if (op.body) {
    const schema = deref(op.body.schema);
    const props = Object.keys(schema.properties ?? {});
    const required: string[] = schema.required ?? [];
    const objectBase = base.filter((p) => typeof p.body === 'object' && p.body !== null);
    if (required.length > 0) {
      muts.push(
        fc.tuple(objectBase, fc.constantFrom(...required)).map(([parts, key]) => {
          const body = { ...(parts.body as Json) };
          delete body[key];
          return render({ ...parts, body }, `body without required ${key}`);
        }),
      );
    }
    muts.push(
      fc
        .tuple(objectBase, fc.constantFrom(...props), badJsonValue)
        .map(([parts, key, bad]) => ({ parts, body: { ...(parts.body as Json), [key]: bad }, key, bad }))
        .filter(({ body }) => !isValid(op.body!.schema, body))
        .map(({ parts, body, key, bad }) => render({ ...parts, body }, `body ${key}=${JSON.stringify(bad)?.slice(0, 80)}`)),
      fc
        .tuple(objectBase, fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !props.includes(k) && k !== '__proto__'), badJsonValue)
        .map(([parts, key, v]) => render({ ...parts, body: { ...(parts.body as Json), [key]: v } }, `body extra field ${JSON.stringify(key)}`)),
      fc.tuple(objectBase, fc.constantFrom(...props), deepJson).map(([parts, key, deep]) => {
        const text = JSON.stringify({ ...(parts.body as Json), [key]: '__DEEP__' }).replace('"__DEEP__"', deep);
        return render(parts, `body ${key} nested ${deep.length} chars`, undefined, { text, contentType: 'application/json' });
      }),
      fc.tuple(base, deepJson).map(([parts, deep]) => render(parts, `whole body nested ${deep.slice(0, 5)}`, undefined, { text: deep, contentType: 'application/json' })),
      fc.tuple(base, malformedJson).map(([parts, text]) => render(parts, `malformed JSON ${JSON.stringify(text)}`, undefined, { text, contentType: 'application/json' })),
      base.map((parts) => render(parts, 'empty JSON body', undefined, { text: '', contentType: 'application/json' })),
      fc
        .tuple(
          base,
          fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=xyz',
            'application/xml',
            'application/json; charset=latin1',
            'application/octet-stream',
          ),
        )
        .map(([parts, contentType]) => {
          const json = JSON.stringify(parts.body ?? {});
          const text =
            contentType === 'application/x-www-form-urlencoded' ? new URLSearchParams(Object.entries(parts.body as Json).map(([k, v]): [string, string] => [k, String(v)])).toString()
            : contentType.startsWith('multipart') ? `--xyz\r\nContent-Disposition: form-data; name="body"\r\n\r\n${json}\r\n--xyz--\r\n`
            : json;
          return render(parts, `content-type ${contentType}`, undefined, { text, contentType });
        }),
    );
    // Numbers JSON.stringify cannot write: -0, and a literal beyond double range (parses to Infinity).
    const numeric = props.filter((k) => ['number', 'integer'].includes(deref(schema.properties[k]).type));
    if (numeric.length > 0) {
      muts.push(
        fc.tuple(objectBase, fc.constantFrom(...numeric), fc.constantFrom('-0', '1e309', '-1e309', '1e308', '0', '-1')).filter(([parts, key, lit]) => !isValid(op.body!.schema, { ...(parts.body as Json), [key]: JSON.parse(lit) === Infinity ? 1e308 * 10 : JSON.parse(lit) }) ).map(([parts, key, lit]) => {
          const text = JSON.stringify({ ...(parts.body as Json), [key]: '__NUM__' }).replace('"__NUM__"', lit);
          return render(parts, `body ${key}=${lit} (raw)`, undefined, { text, contentType: 'application/json' });
        }),
      );
    }
  }
  return muts.length > 0 ? fc.oneof(...muts) : undefined;
}
