/**
 * Who may open `/ws/futures`, and how a refusal is answered. The checks run in the order HTTP
 * requests meet the same ones, and a refused upgrade is a complete HTTP/1.1 answer with the
 * problem body every route sends (RFC 6455 §4.2.2: a server that does not accept the handshake
 * answers with an HTTP status).
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GatewayConfig } from '../config/config.js';
import { GatewayError, toProblem } from '../errors.js';
import { hostAllowed, misdirected, originAllowed, originRefused } from '../edge/host-origin.js';
import { requestIdFrom } from '../edge/request-id.js';
import type { KeyRing } from '../edge/security.js';
import type { FuturesSwitch } from '../switch/futures-switch.js';

/** The one path the gateway upgrades (asyncapi.yaml). */
export const WS_PATH = '/ws/futures';

type UpgradeRefusal = 'misdirected' | 'rate_limited' | 'not_found' | 'origin_not_allowed' | 'unauthorized' | 'too_many_connections';

export interface UpgradeGateOptions {
  config: GatewayConfig;
  keys: KeyRing;
  futuresSwitch: FuturesSwitch;
  /** Counts an upgrade in its caller's inbound window (rate-limit.ts): the 429 once it is spent. */
  countUpgrade: (req: IncomingMessage) => Promise<GatewayError | undefined>;
  /** Who an upgrade counts as for the socket cap: the caller key of the inbound limit. */
  callerOf: (req: IncomingMessage) => string;
  /** The socket's heartbeat period: a caller over the cap is told to retry after one. */
  heartbeatIntervalMs: number;
}

/** The upgrade checks, with the open sockets per caller they count for WS_MAX_CONNECTIONS_PER_CLIENT. */
export function createUpgradeGate({ config, keys, futuresSwitch, countUpgrade, callerOf, heartbeatIntervalMs }: UpgradeGateOptions) {
  /** Open (and opening) sockets by caller, for WS_MAX_CONNECTIONS_PER_CLIENT. */
  const openByCaller = new Map<string, number>();
  const holdSocket = (caller: string, socket: Duplex): void => {
    // Already closed (reset while its upgrade was counted): its `close` is past, nothing to hold.
    if (socket.destroyed) return;
    openByCaller.set(caller, (openByCaller.get(caller) ?? 0) + 1);
    socket.once('close', () => {
      const left = (openByCaller.get(caller) ?? 1) - 1;
      if (left > 0) openByCaller.set(caller, left);
      else openByCaller.delete(caller);
    });
  };

  /** Why an upgrade is refused, in the order HTTP requests meet the same checks; undefined to accept. */
  const refusalOf = async (req: IncomingMessage, socket: Duplex): Promise<[UpgradeRefusal, GatewayError] | undefined> => {
    // Host first, as on every HTTP route (and, as there, not charged to the caller's window);
    // Origin only once the socket is known to exist (the kill switch's 404 must not be told apart
    // from an unknown path's), then the key (host-origin.ts).
    if (!hostAllowed(config, req)) return ['misdirected', misdirected(req)];
    const limited = await countUpgrade(req);
    if (limited) return ['rate_limited', limited];
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path !== WS_PATH || !futuresSwitch.enabled) {
      // The same problem an unknown HTTP route gets, so a disabled socket looks like a missing one.
      return ['not_found', new GatewayError('NOT_FOUND', `No route for ${req.method ?? 'GET'} ${path}`)];
    }
    if (!originAllowed(config, req)) return ['origin_not_allowed', originRefused(req)];
    if (config.apiKeys.length > 0 && keys.caller(req).apiKey === undefined) {
      const error = new GatewayError('UNAUTHORIZED', 'A valid API key is required: send Authorization: Bearer <key>.', {
        headers: { 'WWW-Authenticate': 'Bearer realm="futures-gateway"' },
      });
      return ['unauthorized', error];
    }
    const caller = callerOf(req);
    if ((openByCaller.get(caller) ?? 0) >= config.wsMaxConnectionsPerClient) {
      // A socket frees up when its client leaves; a dead one is noticed within two heartbeats.
      const retryAfterSeconds = Math.max(1, Math.ceil(heartbeatIntervalMs / 1000));
      const message = `Too many open sockets: at most ${config.wsMaxConnectionsPerClient} per client.`;
      return ['too_many_connections', new GatewayError('RATE_LIMITED', message, { retryAfterSeconds })];
    }
    holdSocket(caller, socket);
    return undefined;
  };

  return { refusalOf };
}

/** RFC 7230 §6.7: `Upgrade` lists protocols; this socket speaks only `websocket` (RFC 6455 §4.1). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').split(',').some((protocol) => protocol.trim().toLowerCase() === 'websocket');
}

/**
 * node:http hands an upgrade's socket over with its own listeners removed, `error` included: a
 * write to a socket the client has reset (ECONNRESET, EPIPE) would then be an uncaught error that
 * ends the process. The client is gone either way: its socket is destroyed and nothing else.
 */
export function keepSocketErrorsLocal(socket: Duplex): void {
  if (!socket.listeners('error').includes(destroyOnError)) socket.on('error', destroyOnError);
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** How long a refused client has to read its answer before the socket is dropped anyway. */
const REFUSAL_LINGER_MS = 5_000;

/** A refused upgrade is a complete HTTP/1.1 answer, with our problem body. */
export function refuseUpgrade(req: IncomingMessage, socket: Duplex, error: GatewayError): void {
  const requestId = requestIdFrom(req.headers);
  const path = (req.url ?? '').split('?')[0] ?? '';
  const body = JSON.stringify(toProblem(error, requestId, path, Date.now()));
  const headers = {
    Connection: 'close',
    'Content-Type': 'application/problem+json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Request-Id': requestId,
    ...(error.options.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.options.retryAfterSeconds) }),
    ...error.options.headers,
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  // The server keeps half-open connections (allowHalfOpen): without the destroy a client that
  // never closes its side, or never reads, would keep the socket for good.
  const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
  socket.once('close', () => clearTimeout(linger));
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n${lines}\r\n${body}`);
}
