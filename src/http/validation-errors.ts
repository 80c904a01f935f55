import type { ErrorObject } from 'ajv';
import type { FieldError } from '../errors.js';

const LOCATIONS: Record<string, FieldError['location']> = {
  requestBody: 'body',
  query: 'query',
  path: 'path',
  headers: 'header',
};

/**
 * openapi-backend validates one combined object `{ path, query, headers, requestBody }`; ajv paths
 * such as `/requestBody/qty` become `{ location: 'body', field: 'qty' }` so each bad field is named.
 */
export function toFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors) {
    // if/then/else failures repeat the branch's own error; the branch error is the useful one.
    if (error.keyword === 'if') continue;
    const segments = error.instancePath.split('/').slice(1).map(decodePointer);
    const location = LOCATIONS[segments[0] ?? 'requestBody'] ?? 'body';
    const fieldPath = segments.slice(1);
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') fieldPath.push(params.missingProperty);
    if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') fieldPath.push(params.additionalProperty);
    // `not: { required: [price] }` (MARKET orders) names the forbidden field in the schema, which
    // ajv hands over with `verbose: true`.
    const forbidden = error.keyword === 'not' ? (error.schema as { required?: unknown } | undefined)?.required : undefined;
    if (Array.isArray(forbidden) && forbidden.length === 1) fieldPath.push(String(forbidden[0]));
    const field = fieldPath.join('.');
    const message = describe(error);
    const key = `${location}|${field}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ location, field, message });
  }
  return out;
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not allowed';
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'not':
      return 'is not allowed here';
    default:
      return error.message ?? 'is invalid';
  }
}

function decodePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

export function summarise(errors: readonly FieldError[]): string {
  if (errors.length === 0) return 'The request is invalid.';
  return errors.map((e) => `${e.location}${e.field ? '.' + e.field : ''} ${e.message}`).join('; ');
}
