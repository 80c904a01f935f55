import { isIP, isIPv4, isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import { canonicalHost } from './host-names.js';
import { toKucoinSymbol } from '../symbols.js';
import { readEnvFile } from './env-file.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GatewayConfig {
  port: number;
  host: string;
  featureFutures: boolean;
  exchangeKucoin: boolean;
  futuresBaseUrl: string;
  kucoin: {
    credentials: { key: string; secret: string; passphrase: string } | null;
    keyVersion: '2' | '3';
  };
  logLevel: LogLevel;
  apiKeys: string[];
  adminApiKeys: string[];
  rateLimit: { windowMs: number; max: number };
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  wsMaxPayloadBytes: number;
  /** /ws/futures sockets one caller (key, or address without one) may hold open at once. */
  wsMaxConnectionsPerClient: number;
  trustProxy: boolean;
  upstreamTimeoutMs: number;
  /** Time a client request may take in all, every KuCoin call, retry and reconciliation included. */
  upstreamDeadlineMs: number;
  /** Outage failures in a row that open the circuit breaker, and how long it stays open. */
  upstreamBreaker: { consecutiveFailures: number; halfOpenAfterMs: number };
  futuresPoolQuota: number;
  /** Percent of each KuCoin pool's quota that only writes (orders, cancels, closes...) may spend. */
  upstreamWriteReservePercent: number;
  /** KuCoin ids a new /ws/futures connection watches before it subscribes (canonical, no repeats). */
  wsDefaultSymbols: string[];
  /** Position and open-order list reads served from the live feed's state (src/account/account-view.ts). */
  readsFromStream: { enabled: boolean; lingerMs: number };
  /** Host names (canonical, IPv6 in brackets, no port) requests may name; `any` for no check. */
  allowedHosts: 'any' | string[];
  /** Web origins besides the gateway's own whose pages may use the futures routes and socket. */
  allowedOrigins: string[];
  /** Absolute directory for what must outlive the process (the leverage remembered for isolated orders). */
  stateDir: string;
  /**
   * Redis shared by every replica (REDIS_URL), or null: one process keeps its state itself. The URL
   * may hold a password: it is never logged or shown (see `redactedRedisUrl`).
   */
  redis: { url: string; keyPrefix: string } | null;
}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Path of the .env file, relative to `cwd`; `false` skips it. */
  envFile?: string | false;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`invalid configuration: ${detail}`);
  }
}

const NONE = 'none';
/** ALLOWED_HOSTS's default is worked out from HOST (see allowedHosts below). */
const LOOPBACK_OR_ANY = 'loopback names when HOST is loopback, else any';
/** The names loopback is reached by, any port. */
export const LOOPBACK_HOST_NAMES: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '[::1]']);

/** The single source of the defaults, so the configuration table of docs/operations.md (checked against this) cannot drift. */
export const configTable: ReadonlyArray<{ variable: string; default: string; meaning: string }> = Object.freeze(
  [
    { variable: 'PORT', default: '3001', meaning: 'HTTP + WS port (0 picks any free port)' },
    { variable: 'HOST', default: '127.0.0.1', meaning: 'bind address; beyond loopback with futures on, GATEWAY_API_KEYS is required' },
    { variable: 'FEATURE_FUTURES', default: 'false', meaning: "this process's half of the kill switch: futures are on only when this is true and the runtime switch (admin flip, kept in STATE_DIR or Redis) is on; false is always off" },
    { variable: 'EXCHANGE_KUCOIN', default: 'true', meaning: 'enables the KuCoin provider' },
    { variable: 'FUTURES_BASE_URL', default: 'https://api-futures.kucoin.com', meaning: "upstream REST base, http(s) (the simulator's URL in demo and tests)" },
    { variable: 'KUCOIN_FUTURES_KEY', default: NONE, meaning: 'upstream API key; set KEY, SECRET and PASSPHRASE together or none; never logged' },
    { variable: 'KUCOIN_FUTURES_SECRET', default: NONE, meaning: 'upstream API secret; never logged, never returned' },
    { variable: 'KUCOIN_FUTURES_PASSPHRASE', default: NONE, meaning: 'upstream API passphrase; never logged, never returned' },
    { variable: 'KUCOIN_FUTURES_KEY_VERSION', default: '3', meaning: 'KC-API-KEY-VERSION header: 2 or 3' },
    { variable: 'LOG_LEVEL', default: 'info', meaning: 'pino level: fatal, error, warn, info, debug, trace or silent' },
    { variable: 'GATEWAY_API_KEYS', default: NONE, meaning: 'comma-separated bearer keys (16+ chars) guarding futures routes and /ws/futures' },
    { variable: 'ADMIN_API_KEYS', default: NONE, meaning: 'comma-separated bearer keys (16+ chars) for admin operations such as flipping the kill switch' },
    { variable: 'RATE_LIMIT_WINDOW_MS', default: '60000', meaning: 'inbound rate-limit window in ms' },
    { variable: 'RATE_LIMIT_MAX', default: '1200', meaning: 'requests per window per client; 0 disables inbound rate limiting' },
    { variable: 'BODY_LIMIT_BYTES', default: '16384', meaning: 'largest accepted request body' },
    { variable: 'SHUTDOWN_TIMEOUT_MS', default: '10000', meaning: 'grace period for in-flight requests and WS clients on shutdown; for requests never shorter than UPSTREAM_DEADLINE_MS (+ 500 ms), so an order already sent gets its answer' },
    { variable: 'WS_MAX_PAYLOAD_BYTES', default: '4096', meaning: 'largest WS message accepted from a client' },
    { variable: 'WS_MAX_CONNECTIONS_PER_CLIENT', default: '20', meaning: 'open /ws/futures sockets per client (gateway key, or address without one); one more is refused with HTTP 429' },
    { variable: 'UPSTREAM_TIMEOUT_MS', default: '5000', meaning: 'timeout of one call to KuCoin, in ms (504 UPSTREAM_TIMEOUT past it); cut shorter to fit UPSTREAM_DEADLINE_MS' },
    { variable: 'UPSTREAM_DEADLINE_MS', default: '8000', meaning: 'time one client request may spend in all on KuCoin (every try, clock sync, contract read and reconciliation), in ms; the client has its typed answer by then' },
    { variable: 'UPSTREAM_BREAKER_FAILURES', default: '5', meaning: 'outage failures in a row (5xx, timeout, unreachable, unreadable answer) that open a KuCoin circuit breaker (one per endpoint group)' },
    { variable: 'UPSTREAM_BREAKER_OPEN_MS', default: '10000', meaning: 'how long the open breaker answers 503 UPSTREAM_UNAVAILABLE without calling KuCoin before one trial call, in ms' },
    { variable: 'KUCOIN_FUTURES_POOL_QUOTA', default: '2000', meaning: "the account's Futures resource-pool quota per 30 s (VIP0 2000; see docs/kucoin.md §2); corrected by KuCoin's gw-ratelimit-limit" },
    { variable: 'UPSTREAM_WRITE_RESERVE', default: '20', meaning: "percent of KuCoin's Futures pool quota that reads may never spend, kept for orders, cancels, position closes and margin or leverage changes (0 to 80); the Public pool keeps none" },
    { variable: 'WS_DEFAULT_SYMBOLS', default: 'XBTUSDTM,ETHUSDTM', meaning: "comma-separated symbols (any accepted spelling) a new /ws/futures connection watches before it subscribes, at most 50; 'none' for none" },
    { variable: 'READS_FROM_STREAM', default: 'true', meaning: 'serve the position and open-order lists from the live feed when it is current (no KuCoin call); false sends every read to KuCoin' },
    { variable: 'READS_FROM_STREAM_LINGER_MS', default: '60000', meaning: "how long the KuCoin stream a REST read of those lists started stays up after the last such read, in ms" },
    { variable: 'STATE_DIR', default: './data', meaning: 'directory for state that must survive a restart (the leverage set for isolated orders, leverage.json; without REDIS_URL the runtime kill switch, switch.json), relative to the working directory; created when first written' },
    { variable: 'REDIS_URL', default: NONE, meaning: "redis:// or rediss:// URL of the Redis every replica shares: the kill switch, idempotency records, KuCoin's rate budget and the inbound limit; none keeps one process self-contained; a password in it is never logged" },
    { variable: 'REDIS_KEY_PREFIX', default: 'kfg:', meaning: 'prefix of every Redis key and channel the gateway uses, so environments can share one Redis (letters, digits and :._-)' },
    { variable: 'ALLOWED_HOSTS', default: LOOPBACK_OR_ANY, meaning: "comma-separated host names the Host header may name, any port (IPv6 in brackets; '*' for any); other hosts get 421 MISDIRECTED_REQUEST on every route and the socket" },
    { variable: 'ALLOWED_ORIGINS', default: NONE, meaning: "comma-separated web origins (https://app.example.com) besides the gateway's own whose pages may call futures routes and open /ws/futures; another browser Origin gets 403 ORIGIN_NOT_ALLOWED" },
    { variable: 'TRUST_PROXY', default: 'false', meaning: "express 'trust proxy': rate limits key on the client address in X-Forwarded-For; enable only behind a proxy that overwrites that header" },
  ].map((row) => Object.freeze(row)),
);

const defaults = new Map(configTable.map((row) => [row.variable, row.default]));
const SECRETS = new Set(['KUCOIN_FUTURES_KEY', 'KUCOIN_FUTURES_SECRET', 'KUCOIN_FUTURES_PASSPHRASE', 'GATEWAY_API_KEYS', 'ADMIN_API_KEYS', 'REDIS_URL']);
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const BOOLEANS: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };
// RFC 6750 §2.1 b64token: anything else could not travel in `Authorization: Bearer`.
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const MIB = 1024 * 1024;

function invalid(variable: string, why: string, raw: string): ConfigError {
  const shown = SECRETS.has(variable) ? '(value hidden)' : `(got ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)})`;
  return new ConfigError(variable, `${variable} ${why} ${shown}`);
}

function integer(variable: string, raw: string, min: number, max: number): number {
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (value >= min && value <= max) return value;
  throw invalid(variable, `must be an integer between ${min} and ${max}`, raw);
}

function boolean(variable: string, raw: string): boolean {
  const value = BOOLEANS[raw.toLowerCase()];
  if (value === undefined) throw invalid(variable, 'must be one of true/false/1/0/yes/no/on/off', raw);
  return value;
}

function oneOf<T extends string>(variable: string, raw: string, allowed: readonly T[]): T {
  const value = allowed.find((candidate) => candidate === raw.toLowerCase());
  if (value === undefined) throw invalid(variable, `must be one of ${allowed.join(', ')}`, raw);
  return value;
}

function host(variable: string, raw: string): string {
  if (isIP(raw) !== 0 || HOST_NAME.test(raw)) return raw;
  throw invalid(variable, 'must be a host name or an IP address (no brackets, scheme or port)', raw);
}

function baseUrl(variable: string, raw: string): string {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  // Shown without its user-info, query or fragment, the parts a token travels in (a signed proxy
  // URL, `?apiKey=`), so the error line that names the variable does not leak one.
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw invalid(variable, 'must be an http(s) URL', redactUrl(raw));
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(variable, `${variable} must not embed credentials (value hidden)`);
  }
  // Upstream paths are appended to the base, so a query or fragment would corrupt every call.
  if (url.search !== '' || url.hash !== '') throw invalid(variable, 'must not have a query or fragment', redactUrl(raw));
  return url.href.replace(/\/+$/, '');
}

/** `raw` with any user-info, query and fragment replaced by placeholders; works on text that is not a URL too. */
function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:[\\/]*)?[^/\\?#]*@/i, '$1<user-info hidden>@').replace(/([?#]).*$/s, '$1<hidden>');
}

function keyList(variable: string, raw: string | undefined): string[] {
  const keys = (raw ?? '').split(',').map((key) => key.trim()).filter((key) => key !== '');
  keys.forEach((key, index) => {
    if (key.length < 16) throw invalid(variable, `key #${index + 1} must be at least 16 characters`, key);
    if (!BEARER_TOKEN.test(key)) throw invalid(variable, `key #${index + 1} must be a bearer token (A-Z a-z 0-9 - . _ ~ + / then optional =)`, key);
  });
  return [...new Set(keys)];
}

/**
 * ALLOWED_HOSTS. Unset: on loopback the loopback names (and HOST itself), which is what shuts out a
 * DNS-rebinding page; beyond loopback, where futures need gateway API keys anyway, any host, as the
 * names the gateway is reached by there are the operator's to list.
 */
function allowedHosts(variable: string, raw: string | undefined, bindHost: string): GatewayConfig['allowedHosts'] {
  if (raw === undefined || raw === LOOPBACK_OR_ANY) {
    if (!isLoopbackHost(bindHost)) return 'any';
    const own = canonicalHost(isIPv6(bindHost) ? `[${bindHost}]` : bindHost)?.name;
    return [...new Set([...LOOPBACK_HOST_NAMES, ...(own === undefined ? [] : [own])])];
  }
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.includes('*')) return 'any';
  if (entries.length === 0) throw invalid(variable, "must list at least one host name, or '*'", raw);
  const names = entries.map((entry) => {
    const host = canonicalHost(isIPv6(entry) ? `[${entry}]` : entry);
    if (host === undefined || host.port !== '' || entry.endsWith(':')) {
      throw invalid(variable, `lists ${JSON.stringify(entry)}, which is not a host name or IP address (no scheme or port)`, raw);
    }
    return host.name;
  });
  return [...new Set(names)];
}

/** ALLOWED_ORIGINS: each an http(s) origin, nothing after the port; kept as browsers serialise it (RFC 6454 §6.2). */
function originList(variable: string, raw: string | undefined): string[] {
  const entries = (raw ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const origins = entries.map((entry) => {
    const url = URL.canParse(entry) ? new URL(entry) : undefined;
    const bare = url !== undefined && url.username === '' && url.password === '' && url.search === '' && url.hash === '' && url.pathname === '/' && !entry.endsWith('/');
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
      throw invalid(variable, `lists ${JSON.stringify(entry)}, which is not an origin like https://app.example.com (scheme, host, optional port; no path)`, raw ?? '');
    }
    return url.origin;
  });
  return [...new Set(origins)];
}

/** The WS connection's limit (asyncapi.yaml "Limits"); a default list past it could never be answered. */
const MAX_WS_SYMBOLS = 50;

function symbolList(variable: string, raw: string | undefined): string[] {
  const symbols = (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const canonical = symbols.map((given) => {
    const symbol = toKucoinSymbol(given);
    if (symbol === undefined) throw invalid(variable, `lists ${JSON.stringify(given)}, which is not a futures symbol (e.g. XBTUSDTM, BTC-USDT)`, raw ?? '');
    return symbol;
  });
  const unique = [...new Set(canonical)];
  if (unique.length > MAX_WS_SYMBOLS) throw invalid(variable, `must list at most ${MAX_WS_SYMBOLS} symbols`, raw ?? '');
  return unique;
}

/** A Redis URL with any user name and password replaced, for logs, errors and health. */
export function redactedRedisUrl(raw: string): string {
  if (!URL.canParse(raw)) return '(unparseable)';
  const url = new URL(raw);
  if (url.username !== '' || url.password !== '') {
    url.username = '';
    url.password = url.password !== '' ? 'redacted' : '';
  }
  url.search = '';
  return url.toString();
}

function redis(read: (variable: string) => string | undefined): GatewayConfig['redis'] {
  const raw = read('REDIS_URL');
  const keyPrefix = read('REDIS_KEY_PREFIX') ?? '';
  if (!/^[A-Za-z0-9:._-]{0,64}$/.test(keyPrefix)) throw invalid('REDIS_KEY_PREFIX', 'must be at most 64 letters, digits or :._-', keyPrefix);
  if (raw === undefined) return null;
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new ConfigError('REDIS_URL', `REDIS_URL must be a redis:// or rediss:// URL with a host (got ${redactedRedisUrl(raw)})`);
  }
  return { url: raw, keyPrefix };
}

function credentials(read: (variable: string) => string | undefined): GatewayConfig['kucoin']['credentials'] {
  const names = ['KUCOIN_FUTURES_KEY', 'KUCOIN_FUTURES_SECRET', 'KUCOIN_FUTURES_PASSPHRASE'] as const;
  const [key, secret, passphrase] = names.map(read);
  if (key === undefined && secret === undefined && passphrase === undefined) return null;
  if (key !== undefined && secret !== undefined && passphrase !== undefined) return { key, secret, passphrase };
  const missing = names.find((name) => read(name) === undefined) ?? names[0];
  throw new ConfigError(missing, `${missing} is missing: set ${names.join(', ')} together, or none of them`);
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (!isIPv6(bare)) return false;
  // The URL parser canonicalises IPv6 spellings (0:0:0:0:0:0:0:1, ::ffff:127.0.0.1) for us.
  const canonical = new URL(`http://[${bare.split('%')[0]}]`).hostname.slice(1, -1);
  return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
}

function envFileValues(options: LoadConfigOptions): Record<string, string> {
  if (options.envFile === false) return {};
  const file = resolve(options.cwd ?? process.cwd(), options.envFile ?? '.env');
  try {
    return readEnvFile(file) ?? {};
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError('.env', `cannot read ${file} (${reason})`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

export function loadConfig(options: LoadConfigOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const file = envFileValues(options);
  // Empty strings count as unset at every layer, so `PORT=` falls through to the next one.
  const read = (variable: string): string | undefined => {
    const value = env[variable]?.trim() || file[variable]?.trim() || defaults.get(variable);
    return value === NONE ? undefined : value;
  };
  const get = (variable: string): string => read(variable) ?? '';

  const config: GatewayConfig = {
    port: integer('PORT', get('PORT'), 0, 65535),
    host: host('HOST', get('HOST')),
    featureFutures: boolean('FEATURE_FUTURES', get('FEATURE_FUTURES')),
    exchangeKucoin: boolean('EXCHANGE_KUCOIN', get('EXCHANGE_KUCOIN')),
    futuresBaseUrl: baseUrl('FUTURES_BASE_URL', get('FUTURES_BASE_URL')),
    kucoin: {
      credentials: credentials(read),
      keyVersion: oneOf('KUCOIN_FUTURES_KEY_VERSION', get('KUCOIN_FUTURES_KEY_VERSION'), ['2', '3'] as const),
    },
    logLevel: oneOf('LOG_LEVEL', get('LOG_LEVEL'), LOG_LEVELS),
    apiKeys: keyList('GATEWAY_API_KEYS', read('GATEWAY_API_KEYS')),
    adminApiKeys: keyList('ADMIN_API_KEYS', read('ADMIN_API_KEYS')),
    rateLimit: {
      windowMs: integer('RATE_LIMIT_WINDOW_MS', get('RATE_LIMIT_WINDOW_MS'), 1, 86_400_000),
      max: integer('RATE_LIMIT_MAX', get('RATE_LIMIT_MAX'), 0, 1_000_000_000),
    },
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', get('BODY_LIMIT_BYTES'), 1, 10 * MIB),
    shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', get('SHUTDOWN_TIMEOUT_MS'), 0, 600_000),
    wsMaxPayloadBytes: integer('WS_MAX_PAYLOAD_BYTES', get('WS_MAX_PAYLOAD_BYTES'), 1, MIB),
    wsMaxConnectionsPerClient: integer('WS_MAX_CONNECTIONS_PER_CLIENT', get('WS_MAX_CONNECTIONS_PER_CLIENT'), 1, 100_000),
    trustProxy: boolean('TRUST_PROXY', get('TRUST_PROXY')),
    upstreamTimeoutMs: integer('UPSTREAM_TIMEOUT_MS', get('UPSTREAM_TIMEOUT_MS'), 100, 120_000),
    upstreamDeadlineMs: integer('UPSTREAM_DEADLINE_MS', get('UPSTREAM_DEADLINE_MS'), 100, 600_000),
    upstreamBreaker: {
      consecutiveFailures: integer('UPSTREAM_BREAKER_FAILURES', get('UPSTREAM_BREAKER_FAILURES'), 1, 1_000),
      halfOpenAfterMs: integer('UPSTREAM_BREAKER_OPEN_MS', get('UPSTREAM_BREAKER_OPEN_MS'), 100, 600_000),
    },
    futuresPoolQuota: integer('KUCOIN_FUTURES_POOL_QUOTA', get('KUCOIN_FUTURES_POOL_QUOTA'), 100, 1_000_000),
    upstreamWriteReservePercent: integer('UPSTREAM_WRITE_RESERVE', get('UPSTREAM_WRITE_RESERVE'), 0, 80),
    wsDefaultSymbols: symbolList('WS_DEFAULT_SYMBOLS', read('WS_DEFAULT_SYMBOLS')),
    readsFromStream: {
      enabled: boolean('READS_FROM_STREAM', get('READS_FROM_STREAM')),
      lingerMs: integer('READS_FROM_STREAM_LINGER_MS', get('READS_FROM_STREAM_LINGER_MS'), 1_000, 86_400_000),
    },
    allowedHosts: allowedHosts('ALLOWED_HOSTS', read('ALLOWED_HOSTS'), get('HOST')),
    allowedOrigins: originList('ALLOWED_ORIGINS', read('ALLOWED_ORIGINS')),
    stateDir: resolve(options.cwd ?? process.cwd(), get('STATE_DIR')),
    redis: redis(read),
  };

  // Futures move real money: beyond loopback anyone who reaches the port could trade, so keys are required there.
  if (config.featureFutures && config.apiKeys.length === 0 && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      'GATEWAY_API_KEYS',
      `GATEWAY_API_KEYS must list at least one key: HOST ${JSON.stringify(config.host)} is beyond loopback and FEATURE_FUTURES is on, so futures routes would be open to the network`,
    );
  }
  return deepFreeze(config);
}
