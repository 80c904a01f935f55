/**
 * src/main.ts as operators run it: configuration from the environment and `.env` (README
 * "Configuration"), start-up failures, and what reaches stdout/stderr (docs/operations.md "Observability and
 * security").
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request, type HttpResponse } from '../support/http-client.js';
import { logEntries, makeTempDir, spawnGatewayProcess, startGatewayProcess, stopGatewayProcesses } from '../support/process.js';
import { assertServerMessage } from '../support/ws-contract.js';

afterEach(stopGatewayProcesses);

/** A working directory holding a `.env` with `lines`, written one append at a time as the playbook does. */
function cwdWithEnvFile(...lines: string[]): string {
  const dir = makeTempDir();
  writeFileSync(join(dir, '.env'), '');
  for (const line of lines) appendFileSync(join(dir, '.env'), `${line}\n`);
  return dir;
}

type Env = Record<string, string>;

describe('.env and the environment', { timeout: 30_000 }, () => {
  it.each<{ title: string; lines: string[]; env: Env; want: { enabled: boolean; status: number; code: string } }>([
    {
      title: 'a later .env line wins: FEATURE_FUTURES=false appended after true turns futures off',
      lines: ['FEATURE_FUTURES=true', 'LOG_LEVEL=info', 'FEATURE_FUTURES=false'],
      env: {},
      want: { enabled: false, status: 404, code: 'NOT_FOUND' },
    },
    {
      title: '.env alone turns futures on (no credentials: 401 CREDENTIALS_MISSING)',
      lines: ['FEATURE_FUTURES=true'],
      env: {},
      want: { enabled: true, status: 401, code: 'CREDENTIALS_MISSING' },
    },
    {
      title: 'the environment overrides .env',
      lines: ['FEATURE_FUTURES=true'],
      env: { FEATURE_FUTURES: 'false' },
      want: { enabled: false, status: 404, code: 'NOT_FOUND' },
    },
  ])('$title', async ({ lines, env, want }) => {
    const gateway = await startGatewayProcess({ cwd: cwdWithEnvFile(...lines), env });

    const health = await request(gateway.baseUrl, 'GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body.data.futures.enabled).toBe(want.enabled);

    const positions = await request(gateway.baseUrl, 'GET', '/api/futures/positions');
    expect(positions.status).toBe(want.status);
    expect(positions.body.code).toBe(want.code);
  });
});

describe('a bad configuration value', { timeout: 30_000 }, () => {
  const shortKey = 'short-key-12345'; // 15 characters: one too few
  it.each<{ title: string; env: Env; dotenv: string[]; names: string; secret: string | undefined }>([
    { title: 'PORT=abc', env: { PORT: 'abc' }, dotenv: [], names: 'PORT', secret: undefined },
    { title: 'FEATURE_FUTURES=maybe', env: { FEATURE_FUTURES: 'maybe' }, dotenv: [], names: 'FEATURE_FUTURES', secret: undefined },
    { title: 'FEATURE_FUTURES=maybe in .env', env: {}, dotenv: ['FEATURE_FUTURES=maybe'], names: 'FEATURE_FUTURES', secret: undefined },
    {
      title: 'KUCOIN_FUTURES_KEY set alone',
      env: { KUCOIN_FUTURES_KEY: 'kc-lonely-key-4f1c2b7e9a0d3c5e' },
      dotenv: [],
      names: 'KUCOIN_FUTURES_SECRET',
      secret: 'kc-lonely-key-4f1c2b7e9a0d3c5e',
    },
    { title: 'a gateway API key shorter than 16 characters', env: { GATEWAY_API_KEYS: shortKey }, dotenv: [], names: 'GATEWAY_API_KEYS', secret: shortKey },
  ])('$title: exit 1 with one stderr line naming the variable', async ({ env, dotenv, names, secret }) => {
    const child = spawnGatewayProcess({ env, ...(dotenv.length > 0 ? { cwd: cwdWithEnvFile(...dotenv) } : {}) });
    const exit = await child.exited;

    expect(exit).toEqual({ code: 1, signal: null });
    const stderr = child.stderrLines().filter((line) => line !== '');
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^invalid configuration: /);
    expect(stderr[0]).toContain(names);
    if (secret !== undefined) expect(stderr[0]).not.toContain(secret);
    expect(child.stdoutLines().join('')).toBe('');
  });
});

describe('stdout and stderr', { timeout: 30_000 }, () => {
  const secrets = {
    KUCOIN_FUTURES_KEY: 'kc-key-proc-6d0e2a9b4c71f853',
    KUCOIN_FUTURES_SECRET: 'kc-secret-proc-1b8f3e5d-77a2-4c90',
    KUCOIN_FUTURES_PASSPHRASE: 'kc-pass-proc-Zq81vW04',
    GATEWAY_API_KEYS: 'gw-key-proc-3a5f9c0e8b7d6a21',
    ADMIN_API_KEYS: 'admin-key-proc-e4c2a0b9f7d5c3a1',
  };
  const wrongKey = 'not-a-key-proc-90ab12cd34ef56aa';
  const querySecret = 'sk-live-proc-77f1c0de5ab94e21';

  it('carry no secret, and one line per request with its request id', async () => {
    // An upstream nobody listens on: whatever a handler sends upstream fails fast and stays local.
    const gateway = await startGatewayProcess({ env: { ...secrets, FEATURE_FUTURES: 'true', FUTURES_BASE_URL: 'http://127.0.0.1:9' } });
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    const responses: HttpResponse[] = [];

    const echoed = await request(gateway.baseUrl, 'GET', '/api/futures/positions', {
      headers: { ...bearer(wrongKey), 'x-request-id': 'proc-wrong-key-1' },
    });
    expect(echoed.status).toBe(401);
    expect(echoed.headers.get('x-request-id')).toBe('proc-wrong-key-1');
    expect(echoed.body.requestId).toBe('proc-wrong-key-1');
    responses.push(echoed);

    responses.push(
      await request(gateway.baseUrl, 'GET', `/api/futures/positions?currency=USDT&api_key=${querySecret}`, { headers: bearer(secrets.GATEWAY_API_KEYS) }),
      await request(gateway.baseUrl, 'GET', `/api/futures/positions?currency=${secrets.KUCOIN_FUTURES_SECRET}`, { headers: bearer(secrets.GATEWAY_API_KEYS) }),
      await request(gateway.baseUrl, 'GET', '/api/futures/positions?currency=USDT', { headers: bearer(secrets.GATEWAY_API_KEYS) }),
      await request(gateway.baseUrl, 'GET', '/api/admin/futures-switch', { headers: bearer(secrets.GATEWAY_API_KEYS) }),
    );
    expect(responses.at(-1)!.status).toBe(401);

    const ws = new WebSocket(`${gateway.wsUrl}/ws/futures?token=${querySecret}`, { headers: bearer(secrets.GATEWAY_API_KEYS) });
    const hello = await new Promise<unknown>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))));
      ws.once('error', reject);
    });
    assertServerMessage(hello);
    expect(hello.type).toBe('futures_connected');
    ws.close();

    const flip = await request(gateway.baseUrl, 'PUT', '/api/admin/futures-switch', {
      headers: { ...bearer(secrets.ADMIN_API_KEYS), 'x-request-id': 'proc-flip-1' },
      json: { enabled: false, reason: 'process test' },
    });
    expect(flip.status).toBe(200);
    expect(flip.body.data).toMatchObject({ enabled: false, previous: true });
    expect(flip.headers.get('x-request-id')).toBe('proc-flip-1');
    responses.push(flip);

    const off = await request(gateway.baseUrl, 'GET', '/api/futures/positions', { headers: bearer(secrets.GATEWAY_API_KEYS) });
    expect(off.status).toBe(404);
    responses.push(off);

    // Stopping first, so every line the process wrote has been read.
    expect(await gateway.stop()).toEqual({ code: 0, signal: null });
    const output = [...gateway.stdoutLines(), ...gateway.stderrLines()].join('\n');
    for (const value of [...Object.values(secrets), wrongKey, querySecret]) expect(output).not.toContain(value);

    const entries = logEntries(gateway);
    for (const response of responses) {
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      expect(entries).toContainEqual(expect.objectContaining({ req: expect.objectContaining({ id }), res: { statusCode: response.status } }));
    }
    expect(entries).toContainEqual(expect.objectContaining({ event: 'futures_switch_flip', from: true, to: false, requestId: 'proc-flip-1' }));
  });
});
