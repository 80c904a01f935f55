import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, configTable, isLoopbackHost, loadConfig, type GatewayConfig } from '../../src/config/config.js';

const KEY_A = 'gateway-key-aaaaaaaa';
const KEY_B = 'gateway-key-bbbbbbbb';
const CREDS = { KUCOIN_FUTURES_KEY: 'kc-key-123', KUCOIN_FUTURES_SECRET: 'kc-secret-456', KUCOIN_FUTURES_PASSPHRASE: 'kc-pass-789' };

const dirs: string[] = [];
function dirWithEnvFile(text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
  dirs.push(dir);
  if (text !== undefined) writeFileSync(join(dir, '.env'), text);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Loads with only the given env, never the developer's own .env or process.env. */
const load = (env: Record<string, string | undefined> = {}): GatewayConfig => loadConfig({ env, envFile: false });

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('applies every documented default when nothing is set', () => {
    expect(load()).toEqual({
      port: 3001,
      host: '127.0.0.1',
      featureFutures: false,
      exchangeKucoin: true,
      futuresBaseUrl: 'https://api-futures.kucoin.com',
      kucoin: { credentials: null, keyVersion: '3' },
      logLevel: 'info',
      apiKeys: [],
      adminApiKeys: [],
      rateLimit: { windowMs: 60000, max: 1200 },
      bodyLimitBytes: 16384,
      shutdownTimeoutMs: 10000,
      wsMaxPayloadBytes: 4096,
      wsMaxConnectionsPerClient: 20,
      trustProxy: false,
      upstreamTimeoutMs: 5000,
      upstreamDeadlineMs: 8000,
      upstreamBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 10000 },
      futuresPoolQuota: 2000,
      upstreamWriteReservePercent: 20,
      wsDefaultSymbols: ['XBTUSDTM', 'ETHUSDTM'],
      readsFromStream: { enabled: true, lingerMs: 60000 },
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
      allowedOrigins: [],
      stateDir: join(process.cwd(), 'data'),
      redis: null,
    });
  });

  it('treats empty and blank strings as unset', () => {
    const blank = Object.fromEntries(configTable.map((row) => [row.variable, '']));
    expect(load(blank)).toEqual(load());
    expect(load({ PORT: '  ', GATEWAY_API_KEYS: ' , ' })).toEqual(load());
  });

  it('lets an empty env value fall through to the .env file', () => {
    const cwd = dirWithEnvFile('PORT=4100\n');
    expect(loadConfig({ env: { PORT: '' }, cwd }).port).toBe(4100);
  });

  it('reads process.env when no env is given, without changing it', () => {
    // Blank out whatever the runner's environment holds, so only the stubbed value counts.
    for (const row of configTable) vi.stubEnv(row.variable, '');
    vi.stubEnv('RATE_LIMIT_MAX', '7');
    try {
      const before = { ...process.env };
      const config = loadConfig({ cwd: dirWithEnvFile('RATE_LIMIT_MAX=8\nLOG_LEVEL=debug\n') });
      expect(config.rateLimit.max).toBe(7);
      expect(config.logLevel).toBe('debug');
      expect(process.env).toEqual(before);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('precedence: env over .env over defaults', () => {
  it('takes .env values over defaults and env over .env', () => {
    const cwd = dirWithEnvFile('PORT=4000\nHOST=localhost\nLOG_LEVEL=debug\n');
    const config = loadConfig({ env: { PORT: '5000' }, cwd });
    expect(config.port).toBe(5000);
    expect(config.host).toBe('localhost');
    expect(config.logLevel).toBe('debug');
    expect(config.rateLimit.max).toBe(1200);
  });

  it('does not set process.env from the .env file', () => {
    const cwd = dirWithEnvFile('GATEWAY_CONFIG_TEST_ONLY=1\n');
    loadConfig({ env: {}, cwd });
    expect(process.env.GATEWAY_CONFIG_TEST_ONLY).toBeUndefined();
  });

  it('is fine without a .env file', () => {
    const cwd = dirWithEnvFile();
    // STATE_DIR is relative to the working directory.
    expect(loadConfig({ env: {}, cwd })).toEqual({ ...load(), stateDir: join(cwd, 'data') });
  });

  it('reads an explicit envFile path relative to cwd', () => {
    const cwd = dirWithEnvFile();
    writeFileSync(join(cwd, 'staging.env'), 'PORT=4200\n');
    expect(loadConfig({ env: {}, cwd, envFile: 'staging.env' }).port).toBe(4200);
  });

  it('ignores the .env file when envFile is false', () => {
    const cwd = dirWithEnvFile('PORT=4300\n');
    expect(loadConfig({ env: {}, cwd, envFile: false }).port).toBe(3001);
  });

  it('stops with a ConfigError when the .env path cannot be read', () => {
    const cwd = dirWithEnvFile();
    const error = errorOf(() => loadConfig({ env: {}, cwd, envFile: '.' }));
    expect(error.message).toMatch(/^invalid configuration: cannot read .* \(EISDIR\)$/);
  });
});

describe('.env file syntax', () => {
  it.each([
    ['a later line wins', 'PORT=4000\nPORT=4001\n', { port: 4001 }],
    ['an appended FEATURE_FUTURES=false turns the switch off', 'FEATURE_FUTURES=true\nHOST=127.0.0.1\nFEATURE_FUTURES=false\n', { featureFutures: false }],
    ['an appended FEATURE_FUTURES=true turns the switch on', 'FEATURE_FUTURES=false\nFEATURE_FUTURES=true\n', { featureFutures: true }],
    ['comment lines and trailing comments are ignored', '# PORT=1\nPORT=4002 # staging\n  # LOG_LEVEL=trace\n', { port: 4002, logLevel: 'info' }],
    ['double and single quotes are removed', 'HOST="localhost"\nLOG_LEVEL=\'warn\'\n', { host: 'localhost', logLevel: 'warn' }],
    ['a comment after a quoted value is ignored', `GATEWAY_API_KEYS="${KEY_A}" # ops team\nLOG_LEVEL="debug" # note\n`, { apiKeys: [KEY_A], logLevel: 'debug' }],
    ['export prefixes and CRLF line ends are accepted', 'export PORT=4003\r\nTRUST_PROXY=yes\r\n', { port: 4003, trustProxy: true }],
    ['an empty value falls back to the default', 'PORT=\n', { port: 3001 }],
  ])('%s', (_title, text, want) => {
    expect(loadConfig({ env: {}, cwd: dirWithEnvFile(text) })).toMatchObject(want);
  });

  it('keeps a # inside quotes as part of the value', () => {
    const error = errorOf(() => loadConfig({ env: {}, cwd: dirWithEnvFile('FUTURES_BASE_URL="https://x.test/#frag"\n') }));
    expect(error.message).toContain('FUTURES_BASE_URL must not have a query or fragment (got "https://x.test/#<hidden>")');
  });

  it('lets env override an appended .env line', () => {
    const cwd = dirWithEnvFile('FEATURE_FUTURES=true\nFEATURE_FUTURES=false\n');
    expect(loadConfig({ env: { FEATURE_FUTURES: 'true' }, cwd }).featureFutures).toBe(true);
  });
});

describe('value parsing', () => {
  it.each([
    ['true', true], ['TRUE', true], ['1', true], ['yes', true], ['On', true],
    ['false', false], ['False', false], ['0', false], ['no', false], ['OFF', false],
  ])('reads boolean %j as %s', (raw, want) => {
    expect(load({ FEATURE_FUTURES: raw, EXCHANGE_KUCOIN: raw, TRUST_PROXY: raw })).toMatchObject({
      featureFutures: want,
      exchangeKucoin: want,
      trustProxy: want,
    });
  });

  it.each([
    ['PORT', '0', { port: 0 }],
    ['PORT', '65535', { port: 65535 }],
    ['PORT', ' 8080 ', { port: 8080 }],
    ['RATE_LIMIT_MAX', '0', { rateLimit: { windowMs: 60000, max: 0 } }],
    ['RATE_LIMIT_WINDOW_MS', '1000', { rateLimit: { windowMs: 1000, max: 1200 } }],
    ['BODY_LIMIT_BYTES', '1024', { bodyLimitBytes: 1024 }],
    ['SHUTDOWN_TIMEOUT_MS', '0', { shutdownTimeoutMs: 0 }],
    ['WS_MAX_PAYLOAD_BYTES', '65536', { wsMaxPayloadBytes: 65536 }],
    ['WS_MAX_CONNECTIONS_PER_CLIENT', '2', { wsMaxConnectionsPerClient: 2 }],
    ['UPSTREAM_DEADLINE_MS', '2000', { upstreamDeadlineMs: 2000 }],
    ['UPSTREAM_TIMEOUT_MS', '250', { upstreamTimeoutMs: 250 }],
    ['KUCOIN_FUTURES_POOL_QUOTA', '4000', { futuresPoolQuota: 4000 }],
    ['UPSTREAM_WRITE_RESERVE', '0', { upstreamWriteReservePercent: 0 }],
    ['UPSTREAM_BREAKER_FAILURES', '1', { upstreamBreaker: { consecutiveFailures: 1, halfOpenAfterMs: 10000 } }],
    ['UPSTREAM_BREAKER_OPEN_MS', '2500', { upstreamBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 2500 } }],
    ['LOG_LEVEL', 'silent', { logLevel: 'silent' }],
    ['LOG_LEVEL', 'DEBUG', { logLevel: 'debug' }],
    ['KUCOIN_FUTURES_KEY_VERSION', '2', { kucoin: { credentials: null, keyVersion: '2' } }],
    ['FUTURES_BASE_URL', 'http://127.0.0.1:4010/', { futuresBaseUrl: 'http://127.0.0.1:4010' }],
    ['FUTURES_BASE_URL', 'https://sim.internal/kucoin//', { futuresBaseUrl: 'https://sim.internal/kucoin' }],
    ['HOST', '::', { host: '::' }],
    ['HOST', 'gateway.internal', { host: 'gateway.internal' }],
    ['GATEWAY_API_KEYS', ` ${KEY_A} , ${KEY_B},,${KEY_A} `, { apiKeys: [KEY_A, KEY_B] }],
    ['ADMIN_API_KEYS', `${KEY_B}==`, { adminApiKeys: [`${KEY_B}==`] }],
    ['WS_DEFAULT_SYMBOLS', 'BTC-USDT, eth/usdt:usdt,SOLUSDTM,XBTUSDTM,', { wsDefaultSymbols: ['XBTUSDTM', 'ETHUSDTM', 'SOLUSDTM'] }],
    ['WS_DEFAULT_SYMBOLS', 'BTCUSDT', { wsDefaultSymbols: ['XBTUSDTM'] }],
    ['WS_DEFAULT_SYMBOLS', 'none', { wsDefaultSymbols: [] }],
    ['READS_FROM_STREAM', 'off', { readsFromStream: { enabled: false, lingerMs: 60000 } }],
    ['READS_FROM_STREAM_LINGER_MS', '5000', { readsFromStream: { enabled: true, lingerMs: 5000 } }],
    ['STATE_DIR', '/var/lib/gateway', { stateDir: '/var/lib/gateway' }],
    ['ALLOWED_HOSTS', ' Gateway.Example.COM., 10.0.0.5,::1,[::1],gateway.example.com ', { allowedHosts: ['gateway.example.com', '10.0.0.5', '[::1]'] }],
    ['ALLOWED_HOSTS', 'localhost,*', { allowedHosts: 'any' }],
    ['REDIS_URL', 'redis://127.0.0.1:6379/2', { redis: { url: 'redis://127.0.0.1:6379/2', keyPrefix: 'kfg:' } }],
    ['REDIS_URL', 'rediss://:pw@redis.internal:6380', { redis: { url: 'rediss://:pw@redis.internal:6380', keyPrefix: 'kfg:' } }],
    ['ALLOWED_ORIGINS', 'https://App.Example.com:443, http://127.0.0.1:5173,https://app.example.com', { allowedOrigins: ['https://app.example.com', 'http://127.0.0.1:5173'] }],
  ])('accepts %s=%j', (variable, raw, want) => {
    expect(load({ [variable]: raw })).toMatchObject(want);
  });

  it('reads a full credential set', () => {
    expect(load(CREDS).kucoin.credentials).toEqual({ key: 'kc-key-123', secret: 'kc-secret-456', passphrase: 'kc-pass-789' });
  });
});

describe('bad values stop loading with one line naming the variable', () => {
  it.each([
    ['PORT', 'abc', /^invalid configuration: PORT must be an integer between 0 and 65535 \(got "abc"\)$/],
    ['PORT', '65536', /PORT must be an integer between 0 and 65535 \(got "65536"\)/],
    ['PORT', '-1', /PORT must be an integer/],
    ['PORT', '30.5', /PORT must be an integer/],
    ['PORT', '1e3', /PORT must be an integer/],
    ['PORT', '0x50', /PORT must be an integer/],
    ['PORT', '+80', /PORT must be an integer/],
    ['PORT', '80\n81', /PORT must be an integer .*\(got "80\\n81"\)/],
    ['RATE_LIMIT_WINDOW_MS', '0', /RATE_LIMIT_WINDOW_MS must be an integer between 1 and/],
    ['RATE_LIMIT_MAX', 'lots', /RATE_LIMIT_MAX must be an integer/],
    ['BODY_LIMIT_BYTES', '0', /BODY_LIMIT_BYTES must be an integer between 1 and/],
    ['BODY_LIMIT_BYTES', '99999999999999999999', /BODY_LIMIT_BYTES must be an integer/],
    ['SHUTDOWN_TIMEOUT_MS', '10s', /SHUTDOWN_TIMEOUT_MS must be an integer/],
    ['UPSTREAM_TIMEOUT_MS', '50', /UPSTREAM_TIMEOUT_MS must be an integer between 100 and 120000/],
    ['KUCOIN_FUTURES_POOL_QUOTA', '-1', /KUCOIN_FUTURES_POOL_QUOTA must be an integer/],
    ['UPSTREAM_WRITE_RESERVE', '81', /UPSTREAM_WRITE_RESERVE must be an integer between 0 and 80/],
    ['UPSTREAM_BREAKER_FAILURES', '0', /UPSTREAM_BREAKER_FAILURES must be an integer between 1 and 1000/],
    ['UPSTREAM_BREAKER_OPEN_MS', '50', /UPSTREAM_BREAKER_OPEN_MS must be an integer between 100 and 600000/],
    ['WS_MAX_PAYLOAD_BYTES', '2097152', /WS_MAX_PAYLOAD_BYTES must be an integer between 1 and 1048576/],
    ['WS_MAX_CONNECTIONS_PER_CLIENT', '0', /WS_MAX_CONNECTIONS_PER_CLIENT must be an integer between 1 and 100000/],
    ['FEATURE_FUTURES', 'maybe', /^invalid configuration: FEATURE_FUTURES must be one of true\/false\/1\/0\/yes\/no\/on\/off \(got "maybe"\)$/],
    ['EXCHANGE_KUCOIN', 'enabled', /EXCHANGE_KUCOIN must be one of true/],
    ['TRUST_PROXY', '2', /TRUST_PROXY must be one of true/],
    ['LOG_LEVEL', 'verbose', /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)/],
    ['KUCOIN_FUTURES_KEY_VERSION', '1', /KUCOIN_FUTURES_KEY_VERSION must be one of 2, 3 \(got "1"\)/],
    ['FUTURES_BASE_URL', 'api-futures.kucoin.com', /FUTURES_BASE_URL must be an http\(s\) URL/],
    ['FUTURES_BASE_URL', 'ftp://api-futures.kucoin.com', /FUTURES_BASE_URL must be an http\(s\) URL/],
    ['FUTURES_BASE_URL', 'https://x.test/?a=1', /FUTURES_BASE_URL must not have a query or fragment/],
    ['REDIS_URL', 'http://127.0.0.1:6379', /^invalid configuration: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL with a host \(got http:\/\/127\.0\.0\.1:6379\/?\)$/],
    ['REDIS_URL', 'ftp://ops:s3cret-pw@redis.internal/', /^invalid configuration: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL with a host \(got ftp:\/\/:redacted@redis\.internal\/\)$/],
    ['REDIS_KEY_PREFIX', 'bad prefix!', /^invalid configuration: REDIS_KEY_PREFIX must be at most 64 letters, digits or :._- \(got "bad prefix!"\)$/],
    ['FUTURES_BASE_URL', 'https://user:pw@x.test', /^invalid configuration: FUTURES_BASE_URL must not embed credentials \(value hidden\)$/],
    ['HOST', 'http://0.0.0.0', /HOST must be a host name or an IP address/],
    ['HOST', '[::1]', /HOST must be a host name or an IP address/],
    ['HOST', 'localhost:3001', /HOST must be a host name or an IP address/],
    ['GATEWAY_API_KEYS', 'short-key', /^invalid configuration: GATEWAY_API_KEYS key #1 must be at least 16 characters \(value hidden\)$/],
    ['GATEWAY_API_KEYS', `${KEY_A},abcdefghijklmno`, /GATEWAY_API_KEYS key #2 must be at least 16 characters/],
    ['GATEWAY_API_KEYS', 'has space inside the key', /GATEWAY_API_KEYS key #1 must be a bearer token/],
    ['ADMIN_API_KEYS', 'tooshort', /ADMIN_API_KEYS key #1 must be at least 16 characters \(value hidden\)/],
    ['ALLOWED_HOSTS', 'localhost:3001', /^invalid configuration: ALLOWED_HOSTS lists "localhost:3001", which is not a host name or IP address \(no scheme or port\)/],
    ['ALLOWED_HOSTS', 'https://gateway.example.com', /ALLOWED_HOSTS lists "https:\/\/gateway.example.com", which is not a host name/],
    ['ALLOWED_HOSTS', 'user@127.0.0.1', /ALLOWED_HOSTS lists "user@127.0.0.1", which is not a host name/],
    ['ALLOWED_HOSTS', ' , ', /ALLOWED_HOSTS must list at least one host name, or '\*'/],
    ['ALLOWED_ORIGINS', 'app.example.com', /^invalid configuration: ALLOWED_ORIGINS lists "app.example.com", which is not an origin like https:\/\/app.example.com/],
    ['ALLOWED_ORIGINS', 'https://app.example.com/', /ALLOWED_ORIGINS lists "https:\/\/app.example.com\/", which is not an origin/],
    ['ALLOWED_ORIGINS', 'https://app.example.com/path', /ALLOWED_ORIGINS lists .* which is not an origin/],
    ['ALLOWED_ORIGINS', 'null', /ALLOWED_ORIGINS lists "null", which is not an origin/],
    ['ALLOWED_ORIGINS', 'ws://app.example.com', /ALLOWED_ORIGINS lists "ws:\/\/app.example.com", which is not an origin/],
    ['WS_DEFAULT_SYMBOLS', 'XBTUSDTM,NOPE', /^invalid configuration: WS_DEFAULT_SYMBOLS lists "NOPE", which is not a futures symbol .*\(got "XBTUSDTM,NOPE"\)$/],
    ['WS_DEFAULT_SYMBOLS', Array.from({ length: 51 }, (_, i) => `C${i}USDTM`).join(','), /WS_DEFAULT_SYMBOLS must list at most 50 symbols/],
  ])('%s=%j', (variable, raw, message) => {
    const error = errorOf(() => load({ [variable]: raw }));
    expect(error.variable).toBe(variable);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('names a bad value that came from the .env file', () => {
    const error = errorOf(() => loadConfig({ env: {}, cwd: dirWithEnvFile('PORT=4000\nPORT=nope\n') }));
    expect(error.variable).toBe('PORT');
    expect(error.message).toContain('(got "nope")');
  });

  it('shortens very long values', () => {
    const error = errorOf(() => load({ HOST: 'x'.repeat(500) + '/' }));
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('ALLOWED_HOSTS default: worked out from HOST', () => {
  it.each([
    ['127.0.0.1', ['localhost', '127.0.0.1', '[::1]']],
    ['localhost', ['localhost', '127.0.0.1', '[::1]']],
    ['::1', ['localhost', '127.0.0.1', '[::1]']],
    ['127.0.0.2', ['localhost', '127.0.0.1', '[::1]', '127.0.0.2']],
  ])('HOST=%s (loopback): the loopback names and HOST itself', (host, names) => {
    expect(load({ HOST: host }).allowedHosts).toEqual(names);
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'gateway.internal'])('HOST=%s (beyond loopback): any host', (host) => {
    expect(load({ HOST: host }).allowedHosts).toBe('any');
    expect(load({ HOST: host, ALLOWED_HOSTS: 'gateway.internal' }).allowedHosts).toEqual(['gateway.internal']);
  });
});

describe('upstream credentials: all three or none', () => {
  it.each([
    [{ KUCOIN_FUTURES_KEY: 'k' }, 'KUCOIN_FUTURES_SECRET'],
    [{ KUCOIN_FUTURES_KEY: 'k', KUCOIN_FUTURES_SECRET: 's' }, 'KUCOIN_FUTURES_PASSPHRASE'],
    [{ KUCOIN_FUTURES_KEY: 'k', KUCOIN_FUTURES_PASSPHRASE: 'p' }, 'KUCOIN_FUTURES_SECRET'],
    [{ KUCOIN_FUTURES_SECRET: 's', KUCOIN_FUTURES_PASSPHRASE: 'p' }, 'KUCOIN_FUTURES_KEY'],
    [{ KUCOIN_FUTURES_PASSPHRASE: 'p' }, 'KUCOIN_FUTURES_KEY'],
    [{ ...CREDS, KUCOIN_FUTURES_SECRET: '' }, 'KUCOIN_FUTURES_SECRET'],
  ])('%j is missing %s', (env, missing) => {
    const error = errorOf(() => load(env));
    expect(error.variable).toBe(missing);
    expect(error.message).toMatch(new RegExp(`^invalid configuration: ${missing} is missing`));
    expect(error.message).not.toContain('\n');
  });

  it('completes a set split between env and .env', () => {
    const cwd = dirWithEnvFile('KUCOIN_FUTURES_SECRET=from-file\nKUCOIN_FUTURES_PASSPHRASE=pass-from-file\n');
    expect(loadConfig({ env: { KUCOIN_FUTURES_KEY: 'key-from-env' }, cwd }).kucoin.credentials).toEqual({
      key: 'key-from-env',
      secret: 'from-file',
      passphrase: 'pass-from-file',
    });
  });
});

describe('secrets never appear in error messages', () => {
  const secret = 'Sup3r-Secret-Value-0123456789';
  it.each([
    ['KUCOIN_FUTURES_KEY', { KUCOIN_FUTURES_KEY: secret }],
    ['KUCOIN_FUTURES_SECRET', { KUCOIN_FUTURES_SECRET: secret }],
    ['KUCOIN_FUTURES_PASSPHRASE', { KUCOIN_FUTURES_KEY: secret, KUCOIN_FUTURES_PASSPHRASE: secret }],
    ['GATEWAY_API_KEYS too short', { GATEWAY_API_KEYS: `${secret},${secret.slice(0, 10)}` }],
    ['GATEWAY_API_KEYS bad character', { GATEWAY_API_KEYS: `${secret} ${secret}` }],
    ['ADMIN_API_KEYS', { ADMIN_API_KEYS: `${secret.slice(0, 15)}` }],
    ['exposure rule', { ...CREDS, KUCOIN_FUTURES_SECRET: secret, HOST: '0.0.0.0', FEATURE_FUTURES: 'true' }],
    ['another variable is bad', { ...CREDS, KUCOIN_FUTURES_SECRET: secret, ADMIN_API_KEYS: secret, PORT: 'x' }],
  ])('%s', (_title, env) => {
    const error = errorOf(() => load(env));
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain(secret.slice(0, 10));
    expect(error.message).not.toContain('kc-secret-456');
  });

  // A token in FUTURES_BASE_URL's query, fragment or user-info (a signed proxy URL) stays out of the
  // error line; the rest of the URL is shown so the operator can see which value is meant.
  const token = 'tok3n-0123456789abcdef';
  it.each([
    ['a query', `https://proxy.test/kucoin?token=${token}`, '(got "https://proxy.test/kucoin?<hidden>")'],
    ['a fragment', `https://proxy.test/#access_token=${token}`, '(got "https://proxy.test/#<hidden>")'],
    ['a query and user-info', `https://ops:${token}@proxy.test/?k=${token}`, '(value hidden)'],
    ['user-info with an @ in the password', `https://ops:${token}@x@proxy.test`, '(value hidden)'],
    ['user-info on a scheme that is not http(s)', `ftp://ops:${token}@proxy.test/`, '(got "ftp://<user-info hidden>@proxy.test/")'],
    ['user-info behind backslashes', `ftp:\\\\ops:${token}@proxy.test/`, '<user-info hidden>@proxy.test/'],
    ['a query on a value that is not a URL', `proxy.test/kucoin?apiKey=${token}`, '(got "proxy.test/kucoin?<hidden>")'],
    ['user-info on a value that is not a URL', `ops:${token}@proxy.test`, '(got "ops:<user-info hidden>@proxy.test")'],
    ['user-info without a scheme', `${token}@proxy.test/kucoin`, '(got "<user-info hidden>@proxy.test/kucoin")'],
  ])('FUTURES_BASE_URL with %s', (_title, raw, shown) => {
    const error = errorOf(() => load({ FUTURES_BASE_URL: raw }));
    expect(error.variable).toBe('FUTURES_BASE_URL');
    expect(error.message).not.toContain(token);
    expect(error.message).not.toContain(token.slice(0, 8));
    expect(error.message).toContain(shown);
  });
});

describe('exposure rule (docs/operations.md "Configuration", "Exposure rule")', () => {
  it('refuses futures on beyond loopback without gateway keys', () => {
    const error = errorOf(() => load({ HOST: '0.0.0.0', FEATURE_FUTURES: 'true' }));
    expect(error.variable).toBe('GATEWAY_API_KEYS');
    expect(error.message).toMatch(/^invalid configuration: GATEWAY_API_KEYS must list at least one key: HOST "0.0.0.0" is beyond loopback and FEATURE_FUTURES is on/);
    expect(error.message).not.toContain('\n');
  });

  it('refuses admin keys as a substitute for gateway keys', () => {
    expect(() => load({ HOST: '::', FEATURE_FUTURES: 'on', ADMIN_API_KEYS: KEY_A })).toThrow(ConfigError);
  });

  it.each([
    ['futures on with gateway keys', { HOST: '0.0.0.0', FEATURE_FUTURES: 'true', GATEWAY_API_KEYS: KEY_A }],
    ['futures off', { HOST: '0.0.0.0', FEATURE_FUTURES: 'false' }],
    ['::1', { HOST: '::1', FEATURE_FUTURES: 'true' }],
    ['localhost', { HOST: 'localhost', FEATURE_FUTURES: 'true' }],
    ['127.0.0.2', { HOST: '127.0.0.2', FEATURE_FUTURES: 'true' }],
  ])('allows %s', (_title, env) => {
    expect(() => load(env)).not.toThrow();
  });

  it.each([
    ['127.0.0.1', true], ['127.0.0.2', true], ['127.255.255.254', true], ['::1', true], ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true], ['::ffff:127.0.0.1', true], ['localhost', true], ['LocalHost', true],
    ['0.0.0.0', false], ['::', false], ['10.0.0.1', false], ['128.0.0.1', false], ['::2', false],
    ['::ffff:10.0.0.1', false], ['localhost.example.com', false], ['gateway.internal', false], ['', false],
  ])('isLoopbackHost(%j) is %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });
});

describe('the loaded config', () => {
  it('is deeply frozen', () => {
    const config = load({ ...CREDS, GATEWAY_API_KEYS: KEY_A });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kucoin)).toBe(true);
    expect(Object.isFrozen(config.kucoin.credentials)).toBe(true);
    expect(Object.isFrozen(config.rateLimit)).toBe(true);
    expect(Object.isFrozen(config.apiKeys)).toBe(true);
    expect(Object.isFrozen(config.adminApiKeys)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => config.apiKeys.push(KEY_B)).toThrow(TypeError);
  });

  it('is independent per call, so one process can hold several gateways', () => {
    expect(load({ PORT: '0' }).port).toBe(0);
    expect(load({ PORT: '4444' }).port).toBe(4444);
  });
});

describe('configTable', () => {
  it('lists every variable loadConfig reads, once, and nothing else', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    loadConfig({ env, envFile: false });
    const listed = configTable.map((row) => row.variable);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...read].sort()).toEqual([...listed].sort());
  });

  it('gives defaults that loadConfig really uses', () => {
    const explicit = Object.fromEntries(configTable.filter((row) => row.default !== 'none').map((row) => [row.variable, row.default]));
    expect(load(explicit)).toEqual(load());
  });

  it('has a meaning for every row and is frozen', () => {
    for (const row of configTable) expect(row.meaning.length).toBeGreaterThan(10);
    expect(Object.isFrozen(configTable)).toBe(true);
  });
});
