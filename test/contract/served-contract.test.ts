/**
 * The contract a gateway serves at /api/openapi.json describes THAT gateway: a keyless one (the
 * demo) must not claim the bearer key is required, or a validating proxy built from it (Prism
 * with --errors) answers 401 to calls the gateway accepts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApiDocument } from '../../src/contract/documents.js';
import { projectRoot } from '../../src/paths.js';
import { type RunningGateway, startGateway, TEST_ADMIN_KEY, TEST_API_KEY } from '../support/gateway.js';
import { request } from '../support/http-client.js';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations(doc: Json): { id: string; path: string; security: Json[] | undefined }[] {
  return Object.entries<Json>(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ id: item[m].operationId as string, path, security: item[m].security as Json[] | undefined })),
  );
}

const keyless: { gateway?: RunningGateway; doc?: Json } = {};
const keyed: { gateway?: RunningGateway; doc?: Json } = {};
const dir = mkdtempSync(join(tmpdir(), 'served-contract-'));

beforeAll(async () => {
  keyless.gateway = await startGateway({ FEATURE_FUTURES: 'true' });
  keyed.gateway = await startGateway({ FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY, ADMIN_API_KEYS: TEST_ADMIN_KEY });
  keyless.doc = (await request(keyless.gateway.baseUrl, 'GET', '/api/openapi.json')).body;
  keyed.doc = (await request(keyed.gateway.baseUrl, 'GET', '/api/openapi.json')).body;
});
afterAll(async () => {
  await Promise.all([keyless.gateway?.stop(), keyed.gateway?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('the served OpenAPI document', () => {
  it('of a gateway without GATEWAY_API_KEYS makes the bearer key optional on every futures operation, and says so', () => {
    const futures = operations(keyless.doc!).filter((op) => op.path.startsWith('/api/futures'));
    expect(futures.length).toBeGreaterThan(10);
    for (const op of futures) {
      // `{}` first: an empty requirement, satisfied by a call with no credentials at all.
      expect(op.security, op.id).toEqual([{}, { gatewayApiKey: [] }]);
    }
    expect(keyless.doc!.info['x-gateway-api-keys']).toBe('not-configured');
    expect(keyless.doc!.info.description).toContain('runs without gateway API keys');
  });

  it('of a gateway without GATEWAY_API_KEYS still requires the admin key on admin operations (they answer 403)', async () => {
    const admin = operations(keyless.doc!).filter((op) => op.path.startsWith('/api/admin'));
    expect(admin.length).toBeGreaterThan(0);
    for (const op of admin) expect(op.security, op.id).toEqual([{ adminApiKey: [] }]);
    const res = await request(keyless.gateway!.baseUrl, 'GET', '/api/admin/futures-switch');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('of a keyless gateway matches what it does: a futures call without a key is not refused for want of one', async () => {
    // No KuCoin credentials here: the call gets past the key check and stops at CREDENTIALS_MISSING.
    const res = await request(keyless.gateway!.baseUrl, 'GET', '/api/futures/positions');
    expect(res.body.code).not.toBe('UNAUTHORIZED');
  });

  it('of a gateway with GATEWAY_API_KEYS is openapi.yaml itself: the key is required', async () => {
    expect(keyed.doc).toEqual(loadOpenApiDocument());
    const futures = operations(keyed.doc!).filter((op) => op.path.startsWith('/api/futures'));
    for (const op of futures) expect(op.security, op.id).toEqual([{ gatewayApiKey: [] }]);
    const res = await request(keyed.gateway!.baseUrl, 'GET', '/api/futures/positions');
    expect(res.status).toBe(401);
  });

  it('is a valid OpenAPI 3.1 document either way (the project\'s redocly lint)', async () => {
    const files = { keyless: join(dir, 'keyless.json'), keyed: join(dir, 'keyed.json') };
    writeFileSync(files.keyless, JSON.stringify(keyless.doc));
    writeFileSync(files.keyed, JSON.stringify(keyed.doc));
    expect(keyless.doc!.openapi).toBe('3.1.0');
    const redocly = join(projectRoot, 'node_modules', '.bin', 'redocly');
    const { stdout, stderr } = await promisify(execFile)(redocly, ['lint', '--config', join(projectRoot, 'redocly.yaml'), files.keyless, files.keyed], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' },
    });
    expect(`${stdout}${stderr}`).toMatch(/valid/i);
  }, 60_000);
});
