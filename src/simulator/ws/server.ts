import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { messageFrame, WsError, type WsErrorBody } from './frames.js';
import { SimSession } from './session.js';
import type { TokenRegistry } from './tokens.js';
import { deliveriesFor, type AllOrdersForm, type SimPush } from './topics.js';

export type { AllOrdersForm, SimPush } from './topics.js';

/** Behaviour a test switches at run time (control API `POST /sim/ws/options`). */
export interface SimWsOptions {
  /** The form the account-wide order subscription receives (topics.ts AllOrdersForm); default orderChange. */
  allOrders: AllOrdersForm;
  /**
   * Fault injection: subscribe requests for these topics are answered with an error frame. An entry
   * without a colon refuses the family in every form (`/contract/announcement` refuses
   * `/contract/announcement:XBTUSDTM` too); one with a colon refuses that exact topic.
   */
  refuseTopics: string[];
}

/**
 * The engine's event stream. Emit each event once: a position push on `/contract/position:{symbol}`,
 * an announcement on `/contract/announcement` with `data.symbol`, an order event on EITHER
 * `/contractMarket/tradeOrders:{symbol}` (`symbolOrderChange`) OR `/contractMarket/tradeOrders`
 * (`orderChange`, with `data.symbol`); this socket fans each out to the other subscriptions (topics.ts).
 */
export interface PushSource {
  on(event: 'push', listener: (push: SimPush) => void): unknown;
  off(event: 'push', listener: (push: SimPush) => void): unknown;
}

export const SIM_WS_PATH = '/ws';
/** KuCoin's frames are small; the `ws` default of 100 MiB would let one peer hold that much memory. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** How long another `upgrade` listener gets to claim a path that is not ours before it is answered 404. */
const UNCLAIMED_UPGRADE_MS = 1_000;
/** How long `close()` waits for close handshakes before cutting sockets. */
const CLOSE_GRACE_MS = 1_000;

export interface SimWebSocketOptions {
  engine: PushSource;
  tokens: TokenRegistry;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  sessionMs: number;
  now: () => number;
  logger?: Logger;
}

/**
 * The simulator's Classic futures socket (docs/kucoin.md "The private WebSocket") on `server`, at
 * `/ws?token=…&connectId=…`. Upgrades are routed by hand (`noServer`) so a refusal is a real HTTP
 * answer: 401 for an unknown or stale token, as Kucoin.Net#140 saw (docs/kucoin.md "The private WebSocket").
 */
export function attachSimWebSocket(server: Server, opts: SimWebSocketOptions) {
  for (const name of ['pingIntervalMs', 'pingTimeoutMs', 'sessionMs'] as const) {
    if (!(Number.isFinite(opts[name]) && opts[name] > 0)) throw new RangeError(`${name} must be a positive number, got ${opts[name]}`);
  }
  const { engine, tokens, logger } = opts;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, clientTracking: false });
  const sessions = new Set<SimSession>();
  const wsOptions: SimWsOptions = { allOrders: 'orderChange', refuseTopics: [] };
  const refuses = (topic: string): boolean =>
    wsOptions.refuseTopics.some((refused) => (refused.includes(':') ? topic === refused : topic === refused || topic.startsWith(`${refused}:`)));
  let closing: Promise<void> | undefined;

  const onPush = (push: SimPush): void => {
    for (const delivery of deliveriesFor(push, wsOptions.allOrders)) {
      let json: string | undefined;
      for (const session of sessions) {
        if (delivery.push.private && session.kind !== 'private') continue;
        if (!session.wantsAny(delivery.subscriptions)) continue;
        json ??= messageFrame(delivery.push);
        session.send(json);
      }
    }
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (path !== SIM_WS_PATH) return leaveToOthers(server, onUpgrade, socket);
    const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
    const verdict = tokens.check(query.get('token') ?? '');
    if (verdict === 'unknown' || verdict === 'expired') {
      logger?.debug({ verdict }, 'sim ws upgrade refused');
      return refuseUpgrade(socket, 401, verdict === 'expired' ? WsError.tokenExpired : WsError.tokenInvalid);
    }
    // U-WS always sends connectId; without one, the server names the session itself (inference).
    const connectId = query.get('connectId') || randomBytes(12).toString('hex');
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closing) return ws.terminate();
      logger?.debug({ connectId, kind: verdict }, 'sim ws connected');
      const session = new SimSession(ws, {
        connectId,
        kind: verdict,
        idleMs: opts.pingIntervalMs + opts.pingTimeoutMs,
        sessionMs: opts.sessionMs,
        now: opts.now,
        refuses,
        ...(logger ? { logger } : {}),
        onGone: (gone) => sessions.delete(gone),
      });
      sessions.add(session);
    });
  };

  engine.on('push', onPush);
  server.on('upgrade', onUpgrade);

  return {
    /** Fault injection: every connection is cut without a close frame (clients see 1006); returns how many. */
    dropAll(): number {
      const all = [...sessions];
      for (const session of all) session.terminate();
      return all.length;
    },
    connectionCount: (): number => sessions.size,
    /** The run-time options as they are after applying `change`. */
    options(change: Partial<SimWsOptions> = {}): SimWsOptions {
      if (change.allOrders !== undefined) wsOptions.allOrders = change.allOrders;
      if (change.refuseTopics !== undefined) wsOptions.refuseTopics = [...change.refuseTopics];
      return { ...wsOptions, refuseTopics: [...wsOptions.refuseTopics] };
    },
    /** Stops routing upgrades and pushes, closes every connection (1001) and waits for them. */
    close(): Promise<void> {
      closing ??= shutDown();
      return closing;
    },
  };

  async function shutDown(): Promise<void> {
    engine.off('push', onPush);
    server.off('upgrade', onUpgrade);
    const all = [...sessions];
    for (const session of all) session.close(1001, 'server shutdown');
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all(all.map((s) => s.closed)), grace]);
    for (const session of all) session.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}

export type SimWebSocket = ReturnType<typeof attachSimWebSocket>;

/**
 * A path that is not ours belongs to another `upgrade` listener. If there is none, or none writes to
 * the socket in time, answer 404 so the client does not hang.
 */
function leaveToOthers(server: Server, self: (...args: never[]) => void, socket: Duplex): void {
  const others = server.listeners('upgrade').filter((listener) => listener !== self);
  if (others.length === 0) return refuseUpgrade(socket, 404, { code: 404, data: 'Not Found' });
  const timer = setTimeout(() => {
    const untouched = !socket.destroyed && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0;
    if (untouched) refuseUpgrade(socket, 404, { code: 404, data: 'Not Found' });
  }, UNCLAIMED_UPGRADE_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}

/** A refused upgrade is a complete HTTP/1.1 answer (RFC 6455 §4.2.2: the server may answer with an HTTP status), its body the error KuCoin would frame. */
function refuseUpgrade(socket: Duplex, status: number, error: WsErrorBody): void {
  const body = JSON.stringify({ type: 'error', code: error.code, data: error.data });
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
