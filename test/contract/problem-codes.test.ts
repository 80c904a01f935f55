/**
 * Each error status of each operation names the codes it can answer (an `enum` on `code` over
 * `Problem`), so generated clients get a union per status instead of the whole catalogue. The
 * catalogue (`x-error-catalogue`) stays the one list: every enum names only catalogue codes of the
 * status it answers, and every catalogue code is answered somewhere. Whether the enums hold what the
 * gateway really sends is checked wherever a test sees an answer (test/support/http-contract.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { errorCatalogue } from '../../src/errors.js';
import { openapiPath } from '../../src/paths.js';

type Json = Record<string, any>;
const spec = parse(readFileSync(openapiPath, 'utf8')) as Json;
const catalogue = new Map<string, number>((spec.components.schemas.ErrorCode['x-error-catalogue'] as { code: string; status: number }[]).map((e) => [e.code, e.status]));

function resolve(node: Json): Json {
  while (typeof node.$ref === 'string') node = node.$ref.slice(2).split('/').reduce((at: Json, key: string) => at[key.replace(/~1/g, '/')], spec);
  return node;
}

/** The `code` enum a problem schema narrows to (through `allOf`), or undefined when it does not narrow. */
function codeEnum(schema: Json): string[] | undefined {
  const own = resolve(schema);
  const direct = own.properties?.code?.enum as string[] | undefined;
  if (direct) return direct;
  for (const part of (own.allOf ?? []) as Json[]) {
    const found = codeEnum(part);
    if (found) return found;
  }
  return undefined;
}

interface ProblemAnswer {
  where: string;
  status: number;
  codes: string[] | undefined;
}

const answers: ProblemAnswer[] = [];
for (const [path, item] of Object.entries(spec.paths as Json)) {
  for (const [method, operation] of Object.entries(item as Json)) {
    if (method === 'parameters') continue;
    for (const [status, response] of Object.entries((operation as Json).responses as Json)) {
      const media = resolve(response as Json).content?.['application/problem+json'];
      if (media) answers.push({ where: `${(operation as Json).operationId} ${status}`, status: Number(status), codes: codeEnum(media.schema) });
    }
  }
}
for (const [name, response] of Object.entries(spec.components.responses as Json)) {
  const media = resolve(response as Json).content?.['application/problem+json'];
  const status = catalogue.get(codeEnum(media.schema)?.[0] ?? '');
  if (media && status !== undefined) answers.push({ where: `components.responses.${name}`, status, codes: codeEnum(media.schema) });
}

describe('per-status error codes of each operation', () => {
  it('finds the problem answers', () => {
    expect(answers.length).toBeGreaterThan(100);
  });

  it('every problem answer narrows `code` to codes of the catalogue with its status', () => {
    const wrong = answers.flatMap(({ where, status, codes }) =>
      codes === undefined || codes.length === 0
        ? [`${where}: no code enum`]
        : codes.filter((code) => catalogue.get(code) !== status).map((code) => `${where}: ${code} is ${catalogue.get(code) ?? 'not in the catalogue'}, not ${status}`),
    );
    expect(wrong).toEqual([]);
  });

  it('every catalogue code is answered by some operation (METHOD_NOT_ALLOWED: by paths, components.responses.MethodNotAllowed)', () => {
    const answered = new Set(answers.filter((a) => !a.where.startsWith('components.') || a.where.endsWith('.MethodNotAllowed')).flatMap((a) => a.codes ?? []));
    expect([...catalogue.keys()].filter((code) => !answered.has(code))).toEqual([]);
  });

  it('the catalogue is the gateway\'s (src/errors.ts)', () => {
    expect(Object.fromEntries(catalogue)).toEqual(Object.fromEntries(Object.entries(errorCatalogue).map(([code, { status }]) => [code, status])));
  });

  it.each([
    ['createOrder 409', ['IDEMPOTENCY_CONFLICT', 'DUPLICATE_CLIENT_OID'], ['RISK_LIMIT_CHANGE_CANCELS_ORDERS', 'UNSAFE_EXPOSURE']],
    ['createOrder 502', ['ORDER_UNCONFIRMED'], ['CANCEL_UNCONFIRMED']],
    ['cancelOrder 502', ['CANCEL_UNCONFIRMED'], ['ORDER_UNCONFIRMED']],
    ['setLeverage 409', ['RISK_LIMIT_CHANGE_CANCELS_ORDERS', 'MARGIN_MODE_CHANGE_BLOCKED'], ['IDEMPOTENCY_CONFLICT']],
    ['getOrder 404', ['ORDER_NOT_FOUND', 'NOT_FOUND'], []],
    ['getPosition 404', ['NOT_FOUND', 'POSITION_NOT_FOUND', 'UNKNOWN_SYMBOL'], ['ORDER_NOT_FOUND']],
    ['setFuturesSwitch 409', ['UNSAFE_EXPOSURE'], ['IDEMPOTENCY_CONFLICT']],
    ['getFuturesSwitch 403', ['FORBIDDEN'], ['ORIGIN_NOT_ALLOWED', 'UPSTREAM_FORBIDDEN']],
    ['listPositions 403', ['ORIGIN_NOT_ALLOWED', 'UPSTREAM_FORBIDDEN'], ['FORBIDDEN']],
    ['getHealth 400', ['VALIDATION_FAILED'], ['UPSTREAM_INVALID_REQUEST']],
    ['getOpenApiDocument 429', ['RATE_LIMITED'], ['UPSTREAM_RATE_LIMITED']],
  ])('%s: answers %j, never %j', (where, can, cannot) => {
    const codes = answers.find((a) => a.where === where)?.codes ?? [];
    expect(codes).toEqual(expect.arrayContaining(can));
    for (const code of cannot) expect(codes).not.toContain(code);
  });
});
