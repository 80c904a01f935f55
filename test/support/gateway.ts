import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type GatewayConfig } from '../../src/config/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { auditGatewayLog, redisPassword } from './log-audit.js';

export interface RunningGateway {
  gateway: Gateway;
  baseUrl: string;
  wsUrl: string;
  /** Every log line written so far, raw. */
  logLines: () => string[];
  stop: () => Promise<void>;
}

/** Keys long enough for the config's 16-character rule; used by tests that turn the guards on. */
export const TEST_API_KEY = 'test-gateway-key-0123456789abcdef';
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef01';
export const TEST_CREDENTIALS = {
  KUCOIN_FUTURES_KEY: 'kc-key-5c52e11203aa677f33e493fb',
  KUCOIN_FUTURES_SECRET: 'f03a5284-5c39-4aaa-9b20-dea10bdcf8e3',
  KUCOIN_FUTURES_PASSPHRASE: 'Abc123456-passphrase',
};

/** Nothing listens on loopback port 9: a test gateway reaches no KuCoin unless a test points it at msw. */
export const UNREACHABLE_KUCOIN = 'http://127.0.0.1:9';

/** In-process gateways keep their state (STATE_DIR) here, never in the repository; removed at exit. */
let testStateDir: string | undefined;
function stateDirForTests(): string {
  if (testStateDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-state-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    testStateDir = dir;
  }
  return testStateDir;
}

/**
 * Each config gets a STATE_DIR of its own, so one test's kill-switch flip (kept in switch.json) is
 * not the next gateway's starting state; a test of a restart passes the same STATE_DIR to both.
 */
export function testConfig(env: Record<string, string> = {}): GatewayConfig {
  const stateDir = env.STATE_DIR ?? mkdtempSync(join(stateDirForTests(), 'gateway-'));
  return loadConfig({ env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', FUTURES_BASE_URL: UNREACHABLE_KUCOIN, ...env, STATE_DIR: stateDir }, envFile: false });
}

/** A real gateway on 127.0.0.1 and a free port, its logs captured in memory. */
export async function startGateway(env: Record<string, string> = {}, options: Omit<GatewayOptions, 'config'> = {}): Promise<RunningGateway> {
  return startGatewayWith(testConfig(env), options);
}

export async function startGatewayWith(config: GatewayConfig, options: Omit<GatewayOptions, 'config'> = {}): Promise<RunningGateway> {
  const lines: string[] = [];
  const credentials = config.kucoin.credentials;
  const audit = auditGatewayLog([...(credentials ? [credentials.key, credentials.secret, credentials.passphrase] : []), ...config.apiKeys, ...config.adminApiKeys, ...redisPassword(config.redis?.url)]);
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      const written = String(chunk).split('\n').filter(Boolean);
      lines.push(...written);
      written.forEach(audit);
      callback();
    },
  });
  const gateway = await createGateway({ ...options, config, logDestination: destination });
  // Always loopback, whatever the config says: tests never listen beyond this machine.
  const address = await new Promise<{ port: number }>((resolve, reject) => {
    gateway.server.once('error', reject);
    gateway.server.listen(0, '127.0.0.1', () => resolve(gateway.server.address() as { port: number }));
  });
  return {
    gateway,
    baseUrl: `http://127.0.0.1:${address.port}`,
    wsUrl: `ws://127.0.0.1:${address.port}`,
    logLines: () => [...lines],
    stop: () => gateway.shutdown(),
  };
}
