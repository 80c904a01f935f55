import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { asyncapiPath, openapiPath } from '../paths.js';

export type JsonObject = Record<string, unknown>;

/** openapi.yaml, parsed once per process; callers must not mutate it. */
export function loadOpenApiDocument(): JsonObject {
  return parse(readFileSync(openapiPath, 'utf8')) as JsonObject;
}

const EXTERNAL_REF = /^\.\/openapi\.yaml#\/components\/schemas\/([A-Za-z0-9_]+)$/;
const LOCAL_REF = /^#\/components\/schemas\/([A-Za-z0-9_]+)$/;

/**
 * asyncapi.yaml points at openapi.yaml for the shapes both channels share (written once). Served
 * alone, those relative refs would dangle, so the served copy carries the referenced schemas (and
 * everything they reference) in its own `components.schemas`, with the refs rewritten to point there.
 */
export function bundleAsyncApiDocument(openapi: JsonObject): JsonObject {
  const doc = parse(readFileSync(asyncapiPath, 'utf8')) as JsonObject;
  const sourceSchemas = ((openapi.components as JsonObject | undefined)?.schemas ?? {}) as JsonObject;
  const pending: string[] = [];

  const rewrite = (node: unknown, pattern: RegExp): unknown => {
    if (Array.isArray(node)) return node.map((item) => rewrite(item, pattern));
    if (node === null || typeof node !== 'object') return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      const match = key === '$ref' && typeof value === 'string' ? pattern.exec(value) : null;
      if (match?.[1]) {
        pending.push(match[1]);
        out[key] = `#/components/schemas/${match[1]}`;
      } else {
        out[key] = rewrite(value, pattern);
      }
    }
    return out;
  };

  const bundled = rewrite(doc, EXTERNAL_REF) as JsonObject;
  const bundledSchemas = ((bundled.components as JsonObject).schemas ??= {}) as JsonObject;
  const copied = new Set<string>();
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (copied.has(name)) continue;
    const schema = sourceSchemas[name];
    if (schema === undefined) throw new Error(`asyncapi.yaml refers to openapi.yaml schema ${name}, which does not exist`);
    if (name in bundledSchemas) throw new Error(`schema ${name} is defined in both asyncapi.yaml and openapi.yaml`);
    bundledSchemas[name] = rewrite(schema, LOCAL_REF);
    copied.add(name);
  }
  return bundled;
}
