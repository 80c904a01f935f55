/**
 * The simulator's settings, from the environment. Every variable has a default, so `npm run sim`
 * needs none; a bad value stops the start with one line naming the variable, as the
 * gateway's does: a typo is found at start, not by the first request.
 */
export interface SimConfig {
  port: number;
  host: string;
  seed: number;
  credentials: { key: string; secret: string; passphrase: string };
  keyVersion: '2' | '3';
  fundingIntervalMs: number;
  markIntervalMs: number;
  futuresQuota: number;
  /** 2000 per 30 s at every VIP level; not configurable (docs/kucoin.md "Envelope, statuses and rate limits"). */
  publicQuota: number;
  wsPingIntervalMs: number;
  wsPingTimeoutMs: number;
  /** KuCoin cuts a connection (and expires its token) after 24 h (docs/kucoin.md "The private WebSocket"). */
  wsSessionMs: number;
  /** How long KuCoin remembers a clientOid: see {@link ClientOidScope}. */
  clientOidScope: ClientOidScope;
  /** How long a just-placed or just-ended order stays out of the lookup by clientOid and the done list. */
  lookupLagMs: number;
}

/**
 * KuCoin's spec says only that a clientOid is "unique" (api-3470235) and lists 300018 without a
 * scope. Its tracker reports (spot) that the check covers active orders only (Kucoin/kucoin-api-docs
 * #468) and that the lookup by clientOid sees active orders only (#287). `forever`: every order ever
 * placed holds its clientOid and is found by it; `active`: only open orders do.
 */
export type ClientOidScope = 'forever' | 'active';

export class SimConfigError extends Error {
  override name = 'SimConfigError';
}

/** The variables, for the README: name, default, meaning. */
export const SIM_ENV = [
  { variable: 'SIM_PORT', default: '4010', meaning: 'listening port (0 = any free port; the ready line says which)' },
  { variable: 'SIM_HOST', default: '127.0.0.1', meaning: 'listening address' },
  { variable: 'SIM_SEED', default: '1', meaning: 'seed of the mark-price walk and funding rates' },
  { variable: 'SIM_KEY', default: 'sim-key', meaning: 'the one API key the simulator accepts' },
  { variable: 'SIM_SECRET', default: 'sim-secret-0123456789abcdef', meaning: "that key's secret" },
  { variable: 'SIM_PASSPHRASE', default: 'sim-passphrase', meaning: "that key's passphrase" },
  { variable: 'SIM_KEY_VERSION', default: '3', meaning: "that key's version, 2 or 3 (KC-API-KEY-VERSION must match)" },
  { variable: 'SIM_FUNDING_INTERVAL_MS', default: '60000', meaning: 'funding settlement period' },
  { variable: 'SIM_MARK_INTERVAL_MS', default: '1000', meaning: 'mark-price step period' },
  { variable: 'SIM_FUTURES_QUOTA', default: '2000', meaning: 'Futures resource-pool quota per 30 s' },
  { variable: 'SIM_WS_PING_INTERVAL_MS', default: '18000', meaning: 'pingInterval announced by the bullets' },
  { variable: 'SIM_WS_PING_TIMEOUT_MS', default: '10000', meaning: 'pingTimeout announced by the bullets' },
  { variable: 'SIM_WS_SESSION_MS', default: '86400000', meaning: 'token lifetime and forced WS cut (24 h)' },
  { variable: 'SIM_CLIENT_OID_SCOPE', default: 'forever', meaning: 'which orders hold their clientOid (300018 on reuse, found by the lookup by clientOid): forever every order, active open orders only' },
  { variable: 'SIM_LOOKUP_LAG_MS', default: '0', meaning: 'ms a just-placed or just-ended order stays out of the lookup by clientOid and the done-order list' },
] as const;

/** The simulator's credential variables, as its environment takes them. */
export interface SimCredentials {
  SIM_KEY: string;
  SIM_SECRET: string;
  SIM_PASSPHRASE: string;
}

/** The gateway's environment that points it at a simulator at `baseUrl` holding `credentials`. */
export function gatewayEnvForSimulator(baseUrl: string, credentials: SimCredentials): Record<string, string> {
  return {
    FUTURES_BASE_URL: baseUrl,
    KUCOIN_FUTURES_KEY: credentials.SIM_KEY,
    KUCOIN_FUTURES_SECRET: credentials.SIM_SECRET,
    KUCOIN_FUTURES_PASSPHRASE: credentials.SIM_PASSPHRASE,
  };
}

type Env = Record<string, string | undefined>;

function get(env: Env, name: (typeof SIM_ENV)[number]['variable']): string {
  const value = env[name];
  return value === undefined || value === '' ? SIM_ENV.find((v) => v.variable === name)!.default : value;
}

function integer(env: Env, name: (typeof SIM_ENV)[number]['variable'], min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = get(env, name);
  const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new SimConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

export function loadSimConfig(env: Env = process.env): SimConfig {
  const keyVersion = get(env, 'SIM_KEY_VERSION');
  if (keyVersion !== '2' && keyVersion !== '3') throw new SimConfigError(`SIM_KEY_VERSION must be 2 or 3, got ${JSON.stringify(keyVersion)}`);
  const clientOidScope = get(env, 'SIM_CLIENT_OID_SCOPE');
  if (clientOidScope !== 'forever' && clientOidScope !== 'active') {
    throw new SimConfigError(`SIM_CLIENT_OID_SCOPE must be forever or active, got ${JSON.stringify(clientOidScope)}`);
  }
  return {
    port: integer(env, 'SIM_PORT', 0, 65535),
    host: get(env, 'SIM_HOST'),
    seed: integer(env, 'SIM_SEED', 0, 2 ** 32 - 1),
    credentials: { key: get(env, 'SIM_KEY'), secret: get(env, 'SIM_SECRET'), passphrase: get(env, 'SIM_PASSPHRASE') },
    keyVersion,
    fundingIntervalMs: integer(env, 'SIM_FUNDING_INTERVAL_MS', 1),
    markIntervalMs: integer(env, 'SIM_MARK_INTERVAL_MS', 1),
    futuresQuota: integer(env, 'SIM_FUTURES_QUOTA', 1),
    publicQuota: 2000,
    wsPingIntervalMs: integer(env, 'SIM_WS_PING_INTERVAL_MS', 1),
    wsPingTimeoutMs: integer(env, 'SIM_WS_PING_TIMEOUT_MS', 1),
    wsSessionMs: integer(env, 'SIM_WS_SESSION_MS', 1),
    clientOidScope,
    lookupLagMs: integer(env, 'SIM_LOOKUP_LAG_MS', 0),
  };
}
