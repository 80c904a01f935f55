import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { GatewayConfig } from '../config/config.js';
import { toKucoinSymbol } from '../symbols.js';
import type { Metrics } from '../observability/metrics.js';
import type { FuturesSwitch } from '../switch/futures-switch.js';
import { GatewayError } from '../errors.js';
import type { KeyRing } from '../edge/security.js';
import type { ClientMessageValidator } from './client-messages.js';
import { createUpgradeGate, isWebSocketUpgrade, keepSocketErrorsLocal, refuseUpgrade } from './upgrade-gate.js';
import type { FuturesFeed } from '../account/feed.js';
import type { FeedMessage, FeedSubscriber } from '../account/feed-messages.js';

/** Close codes, as documented in asyncapi.yaml (`x-close-codes`). */
export const CloseCode = {
  shutdown: 1001,
  policyViolation: 1008,
  futuresDisabled: 4404,
  slowConsumer: 4408,
} as const;

/**
 * The close code ws sends after its receiver refuses a client frame, by the error's `code`
 * (ws/lib/receiver.js): 1009 too big, 1007 invalid UTF-8, 1008 too many fragments, 1002 any other
 * breach of RFC 6455. All documented in asyncapi.yaml `x-close-codes`.
 */
export function receiverCloseCode(error: Error): number | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  if (code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  return 1002;
}

export interface FuturesSocketOptions {
  config: GatewayConfig;
  logger: Logger;
  metrics: Metrics;
  futuresSwitch: FuturesSwitch;
  /** Which configured key an upgrade presents (the one KeyRing of the gateway). */
  keys: KeyRing;
  validateClientMessage: ClientMessageValidator;
  /** Positions, orders and funding for every client; without it clients are told why (feedUnavailable). */
  feed?: FuturesFeed;
  /** Why there is no feed (no KuCoin credentials...): sent as `upstream_status` `down` after the greeting. */
  feedUnavailable?: string;
  heartbeatIntervalMs?: number;
  /** Bytes queued for one client before it is cut off as a slow consumer. */
  maxBufferedBytes?: number;
  /** Invalid client messages in a row before the socket is closed with 1008. */
  maxInvalidMessages?: number;
  /** Client messages accepted per second; more are answered RATE_LIMITED and dropped. */
  maxMessagesPerSecond?: number;
  /** Counts an upgrade in its caller's inbound window (rate-limit.ts): the 429 once it is spent. */
  countUpgrade: (req: IncomingMessage) => Promise<GatewayError | undefined>;
  /** Who an upgrade counts as for the socket cap: the caller key of the inbound limit. */
  callerOf: (req: IncomingMessage) => string;
  /**
   * Answers, as plain HTTP/1.1, a request whose `Upgrade` asks for another protocol (h2c...):
   * node hands every request with `Connection: Upgrade` to the `upgrade` listener.
   */
  serveAsHttp: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** Symbols one connection may watch (asyncapi.yaml, "Limits"). */
export const MAX_SYMBOLS_PER_CONNECTION = 50;

interface ClientState {
  seq: number;
  symbols: Set<string>;
  invalidInARow: number;
  alive: boolean;
  windowStart: number;
  messagesInWindow: number;
  /** The client's messages still being handled (a subscribe checking the contract list), in order. */
  queue: Promise<void> | undefined;
  subscriber: FeedSubscriber;
}

type Outgoing = FeedMessage | { type: 'futures_connected' | 'error' | 'subscriptions' | 'pong'; [member: string]: unknown };

/**
 * `/ws/futures`, the client-facing socket. Upgrades are routed by hand on the HTTP server's
 * `upgrade` event (`noServer`) so a refusal is a real HTTP answer: 404 for other paths and while
 * the kill switch is off, 401 without a valid gateway key (RFC 6455 §4.2.2), and so on
 * (upgrade-gate.ts).
 */
export function attachFuturesSocket(server: Server, options: FuturesSocketOptions) {
  const { config, logger, metrics, futuresSwitch, keys, validateClientMessage, feed, countUpgrade, callerOf } = options;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 30_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const maxInvalidMessages = options.maxInvalidMessages ?? 5;
  const maxMessagesPerSecond = options.maxMessagesPerSecond ?? 20;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.wsMaxPayloadBytes, clientTracking: true });
  const clients = new Map<WebSocket, ClientState>();

  /**
   * The feed hands the same message object to every client in one synchronous loop: it is
   * serialised and stamped once for that loop (everything but `seq` and the closing brace, so one
   * `timestamp`, when the loop began), and each client's frame is that text plus its own `seq`. The
   * messages sent are counted once per loop too (a labelled counter's inc per client cost as much
   * as the rest of the gateway's part of the loop). The cache lasts until the loop ends (a
   * microtask), so a message object reused later is serialised afresh. Same bytes as
   * `JSON.stringify({ ...message, timestamp, seq })` (Outgoing has no timestamp or seq of its own).
   */
  let serialised: { message: Outgoing; head: string; sent: number } | undefined;
  const flushSerialised = (): void => {
    if (serialised !== undefined && serialised.sent > 0) metrics.wsMessagesSent.inc({ type: serialised.message.type }, serialised.sent);
    serialised = undefined;
  };
  const serialisedFor = (message: Outgoing): { head: string; sent: number } => {
    if (serialised?.message === message) return serialised;
    const json = JSON.stringify(message);
    const head = `${json.length > 2 ? `${json.slice(0, -1)},` : '{'}"timestamp":${Date.now()},"seq":`;
    if (serialised === undefined) queueMicrotask(flushSerialised);
    else flushSerialised();
    serialised = { message, head, sent: 0 };
    return serialised;
  };

  const send = (ws: WebSocket, message: Outgoing): void => {
    const state = clients.get(ws);
    if (state) sendTo(ws, state, message);
  };

  const sendTo = (ws: WebSocket, state: ClientState, message: Outgoing): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > maxBufferedBytes) {
      metrics.wsDroppedSlowClients.inc();
      logger.warn({ event: 'ws_slow_consumer', bufferedBytes: ws.bufferedAmount }, 'ws client cut off: its send buffer passed the bound');
      close(ws, CloseCode.slowConsumer, 'slow consumer');
      // The close frame queues behind the megabyte the client is not reading, and ws would hold
      // the socket and its buffers for its 30 s close timeout waiting for an answer that cannot
      // come: dropped now, the memory is released now (the client sees 1006).
      ws.terminate();
      return;
    }
    state.seq += 1;
    const frame = serialisedFor(message);
    frame.sent += 1;
    ws.send(`${frame.head}${state.seq}}`);
  };

  const close = (ws: WebSocket, code: number, reason: string): void => {
    if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
    metrics.wsClosed.inc({ code: String(code) });
    ws.close(code, reason);
  };

  const onMessage = (ws: WebSocket, state: ClientState, data: RawData): void => {
    const now = Date.now();
    if (now - state.windowStart >= 1000) {
      state.windowStart = now;
      state.messagesInWindow = 0;
    }
    state.messagesInWindow += 1;
    if (state.messagesInWindow > maxMessagesPerSecond) {
      // Answer the first excess message only, so a flood cannot turn into a flood of answers.
      if (state.messagesInWindow === maxMessagesPerSecond + 1) {
        send(ws, { type: 'error', code: 'RATE_LIMITED', message: `At most ${maxMessagesPerSecond} messages per second; dropped.` });
      }
      return;
    }
    const text = data.toString();
    enqueue(state, () => handleMessage(ws, state, text));
  };

  /**
   * Runs the client's messages one after another: a task that returns a promise holds the ones
   * behind it, so answers keep the order of the questions.
   */
  const enqueue = (state: ClientState, task: () => void | Promise<void>): void => {
    const failed = (error: unknown) => logger.error({ event: 'ws_message_bug', err: { message: error instanceof Error ? error.message : String(error) } }, 'ws client message handling failed');
    let running: Promise<void>;
    if (state.queue === undefined) {
      let result: void | Promise<void>;
      try {
        result = task();
      } catch (error) {
        return failed(error);
      }
      if (result === undefined) return;
      running = result;
    } else {
      running = state.queue.then(task);
    }
    const settled: Promise<void> = running.catch(failed).then(() => {
      if (state.queue === settled) state.queue = undefined;
    });
    state.queue = settled;
  };

  const handleMessage = (ws: WebSocket, state: ClientState, text: string): void | Promise<void> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return rejectMessage(ws, state, 'INVALID_MESSAGE', 'Messages must be JSON objects.', undefined);
    }
    const verdict = validateClientMessage(parsed);
    const id = typeof (parsed as { id?: unknown })?.id === 'string' ? (parsed as { id: string }).id : undefined;
    if (!verdict.ok) return rejectMessage(ws, state, verdict.code, verdict.message, id);
    state.invalidInARow = 0;
    const message = verdict.message;
    if (message.type === 'ping') {
      send(ws, { type: 'pong', ...(id === undefined ? {} : { requestId: id }) });
      return;
    }
    const symbols = message.symbols.map((s) => [s, toKucoinSymbol(s)] as const);
    const unknown = symbols.filter(([, canonical]) => canonical === undefined).map(([given]) => given);
    if (unknown.length > 0) {
      return rejectMessage(ws, state, 'UNKNOWN_SYMBOL', `Unknown symbol(s): ${unknown.join(', ')}`, id);
    }
    const wanted = new Set(state.symbols);
    for (const [, canonical] of symbols) {
      if (message.type === 'subscribe') wanted.add(canonical!);
      else wanted.delete(canonical!);
    }
    if (wanted.size > MAX_SYMBOLS_PER_CONNECTION) {
      return rejectMessage(ws, state, 'TOO_MANY_SYMBOLS', `A connection watches at most ${MAX_SYMBOLS_PER_CONNECTION} symbols.`, id);
    }
    const added = [...wanted].filter((symbol) => !state.symbols.has(symbol));
    const removed = [...state.symbols].filter((symbol) => !wanted.has(symbol));
    const apply = (notContracts: string[]): void => {
      if (notContracts.length > 0) {
        return rejectMessage(ws, state, 'UNKNOWN_SYMBOL', `Unknown symbol(s): ${notContracts.join(', ')} (not in KuCoin's contract list)`, id);
      }
      state.symbols = wanted;
      send(ws, { type: 'subscriptions', symbols: [...state.symbols].sort(), ...(id === undefined ? {} : { requestId: id }) });
      feed?.watch(state.subscriber, added, removed);
    };
    // With a live feed every watched symbol costs an upstream subscription: only real contracts
    // (asyncapi.yaml UNKNOWN_SYMBOL "not a known contract"). Without one the spelling is enough.
    const check = feed && added.length > 0 ? feed.unknownContracts(added) : [];
    if (Array.isArray(check)) return apply(check);
    return check.then(apply, (error: unknown) => {
      const code = error instanceof GatewayError ? error.code : 'INTERNAL';
      send(ws, {
        type: 'error',
        code: 'INTERNAL_ERROR',
        message: `Could not check the symbols against KuCoin's contract list (${code}); nothing was changed.`,
        ...(id === undefined ? {} : { requestId: id }),
      });
    });
  };

  const rejectMessage = (ws: WebSocket, state: ClientState, code: string, message: string, id: string | undefined): void => {
    state.invalidInARow += 1;
    send(ws, { type: 'error', code, message, ...(id === undefined ? {} : { requestId: id }) });
    if (state.invalidInARow >= maxInvalidMessages) close(ws, CloseCode.policyViolation, 'too many invalid messages');
  };

  wss.on('connection', (ws: WebSocket) => {
    const state: ClientState = {
      seq: 0,
      symbols: new Set(config.wsDefaultSymbols),
      invalidInARow: 0,
      alive: true,
      windowStart: Date.now(),
      messagesInWindow: 0,
      queue: undefined,
      subscriber: {
        get symbols() {
          return state.symbols;
        },
        send: (message) => sendTo(ws, state, message),
      },
    };
    clients.set(ws, state);
    metrics.wsClients.set(clients.size);
    ws.on('pong', () => {
      state.alive = true;
    });
    ws.on('message', (data) => onMessage(ws, state, data));
    ws.on('error', (err) => {
      // A frame ws's receiver refuses: ws closes the socket itself, with the code counted here.
      const code = receiverCloseCode(err);
      if (code !== undefined) metrics.wsClosed.inc({ code: String(code) });
      logger.warn({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'ws client error');
    });
    ws.on('close', () => {
      clients.delete(ws);
      metrics.wsClients.set(clients.size);
      feed?.remove(state.subscriber);
    });
    send(ws, {
      type: 'futures_connected',
      message: 'Connected to futures channel',
      connectionId: randomUUID(),
      symbols: [...state.symbols],
      heartbeatIntervalMs,
    });
    // The snapshots follow from the feed; with none, the client learns why it gets nothing more.
    if (feed) feed.add(state.subscriber);
    else if (options.feedUnavailable !== undefined) send(ws, { type: 'upstream_status', status: 'down', reason: options.feedUnavailable });
  });

  // ws ping frames; a client that has not answered the previous one is gone (RFC 6455 §5.5.2).
  const heartbeat = setInterval(() => {
    for (const [ws, state] of clients) {
      if (!state.alive) {
        ws.terminate();
        continue;
      }
      state.alive = false;
      ws.ping();
    }
  }, heartbeatIntervalMs);
  heartbeat.unref();

  const gate = createUpgradeGate({ config, keys, futuresSwitch, countUpgrade, callerOf, heartbeatIntervalMs });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    keepSocketErrorsLocal(socket);
    if (!isWebSocketUpgrade(req)) return options.serveAsHttp(req, socket, head);
    gate.refusalOf(req, socket).then(
      (refusal) => {
        if (refusal === undefined) return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
        metrics.wsUpgradesRefused.inc({ reason: refusal[0] });
        refuseUpgrade(req, socket, refusal[1]);
      },
      (error: unknown) => {
        logger.error({ event: 'ws_upgrade_bug', err: { message: error instanceof Error ? error.message : String(error) } }, 'ws upgrade handling failed');
        socket.destroy();
      },
    );
  };
  server.on('upgrade', onUpgrade);

  return {
    /** Closes every client socket with `code`; returns how many were open. */
    closeAll(code: number, reason: string): number {
      const open = [...clients.keys()];
      for (const ws of open) close(ws, code, reason);
      return open.length;
    },
    clientCount: () => clients.size,
    stop(): void {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
    },
    /** Resolves once every client socket has closed, terminating stragglers after `timeoutMs`. */
    async drain(timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const ws of clients.keys()) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export type FuturesSocket = ReturnType<typeof attachFuturesSocket>;
