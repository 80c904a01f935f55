import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { asyncapiPath, builtContractPath, openapiPath } from '../paths.js';

export type JsonObject = Record<string, unknown>;

/**
 * A contract as an object. The YAML files are the contracts, but parsing them with `yaml` (and
 * loading `yaml` at all) was about a third of a start's CPU. So `npm run build` also writes each
 * one as JSON, stamped with the sha256 of the YAML it came from (writeBuiltContract), and this
 * reads that JSON instead, but only while the YAML still has that hash: a dev run without a
 * build, a stale build or an unreadable file all fall back to parsing the YAML, so nobody is ever
 * served an outdated contract.
 */
export function readContract(yamlPath: string, builtPath = builtContractPath(yamlPath)): JsonObject {
  const source = readFileSync(yamlPath, 'utf8');
  const built = readBuilt(builtPath);
  return built?.sha256 === sha256(source) ? built.document : parseYaml(source);
}

interface BuiltContract {
  sha256: string;
  document: JsonObject;
}

function readBuilt(path: string): BuiltContract | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BuiltContract;
  } catch {
    return undefined;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// Loaded only when needed: with a current build a start never needs it.
const require = createRequire(import.meta.url);
const parseYaml = (source: string) => (require('yaml') as typeof import('yaml')).parse(source) as JsonObject;

/** For `npm run build` (scripts/write-dist-entry.mjs): one contract as JSON, stamped with its YAML's hash. */
export function writeBuiltContract(yamlPath: string, builtPath = builtContractPath(yamlPath)): void {
  const source = readFileSync(yamlPath, 'utf8');
  const document = parseYaml(source);
  // JSON cannot carry all YAML can (.inf and .nan, say): such a contract cannot be built.
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(document)), document)) throw new Error(`${yamlPath} does not survive a JSON round trip`);
  mkdirSync(dirname(builtPath), { recursive: true });
  writeFileSync(builtPath, JSON.stringify({ sha256: sha256(source), document } satisfies BuiltContract));
}

/** openapi.yaml as an object (see readContract); callers must not mutate it. */
export function loadOpenApiDocument(): JsonObject {
  return readContract(openapiPath);
}

const EXTERNAL_REF = /^\.\/openapi\.yaml#\/components\/schemas\/([A-Za-z0-9_]+)$/;
const LOCAL_REF = /^#\/components\/schemas\/([A-Za-z0-9_]+)$/;

/**
 * asyncapi.yaml points at openapi.yaml for the shapes both channels share (written once). Served
 * alone, those relative refs would dangle, so the served copy carries the referenced schemas (and
 * everything they reference) in its own `components.schemas`, with the refs rewritten to point there.
 */
export function bundleAsyncApiDocument(openapi: JsonObject): JsonObject {
  const doc = readContract(asyncapiPath);
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
