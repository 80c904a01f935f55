/**
 * The repository's example client (examples/playbook.ts, on generated/client.ts) against a gateway
 * with the KuCoin simulator behind it: the playbook runs to the end, every answer it gets is checked
 * against openapi.yaml and every frame against asyncapi.yaml, and the program holds no cast.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlaybook } from '../../examples/playbook.js';
import { projectRoot } from '../../src/paths.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { type RunningGateway, startGateway, TEST_API_KEY } from '../support/gateway.js';
import { assertResponseMatchesContract } from '../support/http-contract.js';
import { simulator, startGatewayProcess, stopGatewayProcesses } from '../support/process.js';
import { assertServerMessage } from '../support/ws-contract.js';

const SIM_CREDENTIALS = { SIM_KEY: 'example-key', SIM_SECRET: 'example-secret-0123456789abcdef', SIM_PASSPHRASE: 'example-passphrase' };

let gateway: RunningGateway;

beforeAll(async () => {
  const sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } });
  gateway = await startGateway({ FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: TEST_API_KEY, ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS) });
}, 40_000);

afterAll(async () => {
  await gateway?.stop();
  await stopGatewayProcesses();
});

describe('examples/playbook.ts, the generated client in use', () => {
  it('runs the playbook against the simulator; every answer and frame matches the contracts', async () => {
    const lines: string[] = [];
    const checked: string[] = [];
    const frames: unknown[] = [];
    await runPlaybook({
      baseUrl: gateway.baseUrl,
      apiKey: TEST_API_KEY,
      print: (line) => lines.push(line),
      middleware: [
        {
          async onResponse({ request, response }) {
            const url = new URL(request.url);
            const body = await response.clone().text();
            assertResponseMatchesContract({ method: request.method, path: url.pathname, status: response.status, headers: response.headers, body });
            checked.push(`${request.method} ${url.pathname} ${response.status}`);
          },
        },
      ],
      onSocketFrame: (text) => frames.push(JSON.parse(text)),
    });

    expect(lines).toEqual([
      expect.stringMatching(/^health: ok, version \S+, futures on$/),
      'positions: 0 open',
      'leverage: XBTUSDTM cross 5x',
      expect.stringMatching(/^funding: XBTUSDTM rate -?[0-9.e-]+, next \d{4}-\d\d-\d\dT/),
      expect.stringMatching(/^order: BUY 1 XBTUSDTM MARKET accepted, orderId \S+, clientOid \S+$/),
      'position: XBTUSDTM LONG 1 (0.001 BTC), cross',
      expect.stringMatching(/^close: XBTUSDTM closing order \S+ accepted$/),
      expect.stringMatching(/^socket: futures_connected, watching XBTUSDTM\b.*, heartbeat \d+ ms$/),
      expect.stringMatching(/^socket: position_update snapshot, [01] positions$/),
      'socket: order_update snapshot, 0 orders',
      ...lines.filter((line) => line.startsWith('socket: funding_tick')).map(() => expect.stringMatching(/^socket: funding_tick snapshot, [A-Z0-9]+ rate /)),
      'socket: pong playbook',
    ]);
    expect(lines.some((line) => line.startsWith('socket: funding_tick snapshot, XBTUSDTM'))).toBe(true);
    expect(checked).toEqual(expect.arrayContaining(['GET /api/health 200', 'PUT /api/futures/leverage 200', 'POST /api/futures/orders 201', 'DELETE /api/futures/positions/BTCUSDTM 200']));
    expect(frames.length).toBeGreaterThanOrEqual(5);
    for (const frame of frames) assertServerMessage(frame);
  }, 30_000);

  it('holds no type assertion: every type comes from the generated client', () => {
    const source = readFileSync(`${projectRoot}/examples/playbook.ts`, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(source).not.toMatch(/\bas\s+(?!const\b)[A-Za-z_{[(]|<[A-Z]\w*>\s*[A-Za-z_(]|!\./);
    expect(source).not.toMatch(/\bany\b/);
  });

  it('is type-checked with the project (strict tsconfig includes examples/)', () => {
    const tsconfig = JSON.parse(readFileSync(`${projectRoot}/tsconfig.json`, 'utf8'));
    expect(tsconfig.compilerOptions.strict).toBe(true);
    expect(tsconfig.include).toContain('examples');
  });
});
