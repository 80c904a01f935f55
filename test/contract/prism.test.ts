/**
 * The served contract against the running gateway, as a client's CI would check it: Prism's
 * validating proxy (`prism proxy --errors`, which answers a violation itself instead of passing it
 * on) in front of a demo-like gateway (no gateway keys, futures on, the KuCoin simulator behind
 * it), the rollout playbook sent through it. Every answer must be the gateway's own, with no
 * violation reported either way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { type RunningGateway, startGateway } from '../support/gateway.js';
import { request, requestUnchecked, type RequestOptions } from '../support/http-client.js';
import { freePort, simulator, startGatewayProcess, stopGatewayProcesses } from '../support/process.js';

const SIM_CREDENTIALS = { SIM_KEY: 'prism-key', SIM_SECRET: 'prism-secret-0123456789abcdef', SIM_PASSPHRASE: 'prism-passphrase' };
const PRISM = createRequire(import.meta.url).resolve('@stoplight/prism-cli/dist/index.js');

let gateway: RunningGateway;
let prism: ChildProcess | undefined;
let prismUrl: string;
let prismOutput = '';
const dir = mkdtempSync(join(tmpdir(), 'prism-'));

function startPrism(contractFile: string, upstream: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PRISM, 'proxy', '--errors', '-h', '127.0.0.1', '-p', String(port), contractFile, upstream], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1', SCARF_ANALYTICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => reject(new Error(`prism did not start in 20 s:\n${prismOutput}`)), 20_000);
    const read = (chunk: Buffer) => {
      prismOutput += String(chunk);
      if (/Prism is listening/.test(prismOutput)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`prism exited with ${code}:\n${prismOutput}`));
    });
  });
}

beforeAll(async () => {
  const sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } });
  // As `npm run demo` runs it: futures on, KuCoin credentials, and no GATEWAY_API_KEYS.
  gateway = await startGateway({ FEATURE_FUTURES: 'true', ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS) });
  const contract = await request(gateway.baseUrl, 'GET', '/api/openapi.json');
  const contractFile = join(dir, 'openapi.json');
  writeFileSync(contractFile, contract.text);
  const port = await freePort();
  prismUrl = `http://127.0.0.1:${port}`;
  prism = await startPrism(contractFile, gateway.baseUrl, port);
}, 40_000);

afterAll(async () => {
  if (prism && prism.exitCode === null) {
    const exited = new Promise((resolve) => prism!.once('exit', resolve));
    process.kill(prism.pid!, 'SIGTERM');
    await exited;
  }
  await gateway?.stop();
  await stopGatewayProcesses();
  rmSync(dir, { recursive: true, force: true });
});

let sent = 0;
/**
 * One call through Prism. The answer must be the gateway's (its request id echoed: Prism's own
 * answers to a violation carry none) and carry no `sl-violations` header (Prism's report of a
 * response that breaks the contract).
 */
async function viaPrism(method: string, path: string, expected: number, init: RequestOptions = {}) {
  const id = `prism-${++sent}`;
  const res = await request(prismUrl, method, path, { ...init, headers: { ...init.headers, 'x-request-id': id } });
  expect(res.headers.get('sl-violations'), `${method} ${path}: ${res.headers.get('sl-violations')}`).toBeNull();
  expect(res.headers.get('x-request-id'), `${method} ${path} answered by Prism, not the gateway: ${res.text.slice(0, 400)}`).toBe(id);
  expect(res.status, `${method} ${path}: ${res.text.slice(0, 400)}`).toBe(expected);
  expect(String(res.body?.type ?? ''), 'a Prism-made problem').not.toContain('stoplight.io/prism');
  return res;
}

describe('the rollout playbook through prism proxy --errors, against the demo gateway', () => {
  it('every answer is the gateway\'s and none violates the served contract', async () => {
    await viaPrism('GET', '/api/health', 200);
    await viaPrism('GET', '/api/futures/positions', 200);
    const leverage = await viaPrism('PUT', '/api/futures/leverage', 200, { json: { symbol: 'BTCUSDTM', leverage: 5, marginMode: 'cross' } });
    expect(leverage.body.data).toMatchObject({ symbol: 'XBTUSDTM', marginMode: 'cross' });
    await viaPrism('GET', '/api/futures/funding/BTCUSDTM', 200);
    const order = await viaPrism('POST', '/api/futures/orders', 201, { json: { symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty: 1, marginMode: 'cross' } });
    expect(order.body.data.orderId).toEqual(expect.any(String));
    const orders = await viaPrism('GET', '/api/futures/orders?symbol=BTC-USDT', 200);
    expect(orders.body.success).toBe(true);
    await viaPrism('DELETE', '/api/futures/positions/BTCUSDTM', 200);
    // An error the gateway decides (Prism passes the request: it is valid by the contract).
    const missing = await viaPrism('GET', '/api/futures/orders/999999999999999999', 404);
    expect(missing.body.code).toBe('ORDER_NOT_FOUND');
    expect(prismOutput).not.toMatch(/Violation:|\[VALIDATOR\]\s+.*(error|warning)/i);
  }, 30_000);

  it('is a proxy that does catch violations: a request the contract forbids is answered by Prism itself', async () => {
    // Prism's own 422 is not a gateway answer, so openapi.yaml cannot describe it: unchecked on purpose.
    const res = await requestUnchecked(prismUrl, 'PUT', '/api/futures/leverage', { json: { symbol: 'BTCUSDTM', leverage: 5, marginMode: 'sideways' } });
    expect(res.status).toBe(422);
    expect(res.body.type).toContain('stoplight.io/prism');
    expect(res.body.validation).toEqual([expect.objectContaining({ location: ['body', 'marginMode'] })]);
    // ... and it is told apart from the gateway's answers by what viaPrism checks: no request id.
    expect(res.headers.get('x-request-id')).toBeNull();
  });
});
