/**
 * The contracts a start reads: the JSON written by `npm run build` while it matches the YAML, the
 * YAML itself otherwise (src/contract/documents.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOpenApiDocument, readContract, writeBuiltContract } from '../../src/contract/documents.js';
import { openapiPath } from '../../src/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading a contract', () => {
  it('gives what the YAML says, with or without a build', () => {
    expect(loadOpenApiDocument()).toEqual(parse(readFileSync(openapiPath, 'utf8')));
  });

  it('reads the built JSON while the YAML is unchanged, and the YAML once it has changed', () => {
    const yamlPath = join(dir, 'api.yaml');
    const builtPath = join(dir, 'built', 'api.json');
    writeFileSync(yamlPath, 'info: { title: one }\n');
    writeBuiltContract(yamlPath, builtPath);
    expect(readContract(yamlPath, builtPath)).toEqual({ info: { title: 'one' } });

    // Proof that the JSON is what was read: a built document that differs, under the same hash.
    const built = JSON.parse(readFileSync(builtPath, 'utf8')) as { sha256: string };
    writeFileSync(builtPath, JSON.stringify({ sha256: built.sha256, document: { from: 'json' } }));
    expect(readContract(yamlPath, builtPath)).toEqual({ from: 'json' });

    writeFileSync(yamlPath, 'info: { title: two }\n');
    expect(readContract(yamlPath, builtPath)).toEqual({ info: { title: 'two' } });
  });

  it('parses the YAML when the built file is missing or unreadable', () => {
    const yamlPath = join(dir, 'other.yaml');
    writeFileSync(yamlPath, 'a: 1\n');
    expect(readContract(yamlPath, join(dir, 'missing.json'))).toEqual({ a: 1 });
    writeFileSync(join(dir, 'broken.json'), '{"sha256":');
    expect(readContract(yamlPath, join(dir, 'broken.json'))).toEqual({ a: 1 });
  });

  it('refuses to build a contract JSON cannot carry', () => {
    const yamlPath = join(dir, 'infinite.yaml');
    writeFileSync(yamlPath, 'maximum: .inf\n');
    expect(() => writeBuiltContract(yamlPath, join(dir, 'infinite.json'))).toThrow(/JSON round trip/);
  });
});
