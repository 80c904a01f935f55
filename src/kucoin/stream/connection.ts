import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { parseFrame, type PushFrame } from './frames.js';

/** Why a connection is over; also the `reason` label of the reconnect counter. */
export type EndReason =
  | 'welcome_timeout'
  | 'pong_timeout'
  | 'ack_timeout'
  /** HTTP 401 on upgrade: a stale or unknown token (docs/kucoin.md "The private WebSocket", Kucoin.Net#140). */
  | 'token_refused'
  | 'upgrade_refused'
  | 'connect_failed'
  /** Gone without a close frame (1006). */
  | 'dropped'
  /** KuCoin closed it, e.g. its 24 h cut. */
  | 'server_closed'
  /** We closed it. */
  | 'local';

export class ConnectionEnded extends Error {
  override readonly name = 'ConnectionEnded';
  constructor(readonly reason: EndReason) {
    super(`the KuCoin WebSocket connection ended (${reason})`);
  }
}

export type SubscriptionReply = { ok: true } | { ok: false; code: number | undefined; message: string };

export interface ConnectionOptions {
  /** Carries the token: never logged. */
  url: string;
  connectId: string;
  /** Only to scrub it from error text before that is logged. */
  token: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  welcomeTimeoutMs: number;
  ackTimeoutMs: number;
  createSocket: (url: string) => WebSocket;
  logger: Logger;
  onPush: (frame: PushFrame) => void;
  onErrorFrame: (error: { code: number | undefined; message: string }) => void;
}

type Reply = { kind: 'ack' | 'pong' | 'timeout' | 'ended' } | { kind: 'error'; code: number | undefined; message: string };

/** How long a local close waits for KuCoin's close frame before cutting the socket. */
const CLOSE_GRACE_MS = 1_000;
/** KuCoin allows 100 uplink messages per 10 s (docs/kucoin.md "The private WebSocket", OLD); ten are left for pings. */
const UPLINK_LIMIT = 90;
const UPLINK_WINDOW_MS = 10_000;

/**
 * One socket of KuCoin's Classic futures WebSocket (docs/kucoin.md "The private WebSocket"): usable after `welcome`,
 * kept alive by pings at the server's interval with a pong deadline, (un)subscriptions answered by
 * `ack`. Any failure ends it for good, with a reason; the supervisor opens the next one.
 */
export class UpstreamConnection {
  readonly connectId: string;
  /** Settles once, when the connection is over. */
  readonly ended: Promise<EndReason>;
  readonly #o: ConnectionOptions;
  readonly #ws: WebSocket;
  readonly #ready: Promise<void>;
  readonly #socketClosed: Promise<void>;
  readonly #waiting = new Map<string, (reply: Reply) => void>();
  /** When each uplink message of the current window was sent (performance.now()). */
  readonly #uplink: number[] = [];
  #resolveEnded!: (reason: EndReason) => void;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #reason: EndReason | undefined;
  #detail: string | undefined;
  #opened = false;
  #welcomeTimer: NodeJS.Timeout;
  #heartbeat: NodeJS.Timeout | undefined;
  #heartbeatInFlight = false;
  #nextId = 0;

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.connectId = options.connectId;
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => undefined);
    const ws = options.createSocket(options.url);
    this.#ws = ws;
    this.#socketClosed = new Promise((resolve) => ws.once('close', () => resolve()));
    this.#welcomeTimer = setTimeout(() => this.#end('welcome_timeout'), options.welcomeTimeoutMs).unref();

    ws.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      this.#detail = `HTTP ${status} on upgrade`;
      this.#end(status === 401 ? 'token_refused' : 'upgrade_refused');
    });
    ws.on('open', () => {
      this.#opened = true;
    });
    ws.on('message', (data) => this.#onMessage(data));
    ws.on('error', (error) => {
      this.#detail ??= error.message.replaceAll(options.token, '[REDACTED]');
    });
    ws.on('close', (code) => {
      this.#detail ??= `close code ${code}`;
      this.#end(!this.#opened ? 'connect_failed' : code === 1006 ? 'dropped' : 'server_closed');
    });
  }

  /** Resolves on `welcome`; rejects with ConnectionEnded if the connection ends first. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** What went wrong, for logs: an HTTP status, a close code or a socket error (token scrubbed). */
  get detail(): string | undefined {
    return this.#detail;
  }

  /** Why it ended; undefined while it lives. */
  get endReason(): EndReason | undefined {
    return this.#reason;
  }

  /**
   * Sends a (un)subscribe with `response: true` (docs/kucoin.md "The private WebSocket") and waits for its ack. An error frame
   * with the same id is a refusal, not a failure. No answer within ackTimeoutMs ends the connection.
   * Throws ConnectionEnded when the connection is (or goes) over.
   */
  async request(type: 'subscribe' | 'unsubscribe', topic: string, privateChannel: boolean): Promise<SubscriptionReply> {
    await this.#uplinkPermit();
    if (this.#reason) throw new ConnectionEnded(this.#reason);
    const id = this.#newId();
    const reply = await this.#exchange({ id, type, topic, privateChannel, response: true }, this.#o.ackTimeoutMs);
    if (reply.kind === 'ack') return { ok: true };
    if (reply.kind === 'error') return { ok: false, code: reply.code, message: reply.message };
    if (reply.kind === 'timeout') this.#end('ack_timeout');
    throw new ConnectionEnded(this.#reason ?? 'ack_timeout');
  }

  /**
   * A ping; true when its pong came within pingTimeoutMs. The pong also tells that every frame
   * KuCoin queued on this socket before it has been read: the rotation's barrier.
   */
  async probe(): Promise<boolean> {
    if (this.#reason) return false;
    const reply = await this.#exchange({ id: this.#newId(), type: 'ping' }, this.#o.pingTimeoutMs);
    return reply.kind === 'pong';
  }

  /** Closes with 1000 and resolves once the socket is closed (cut after a short grace). */
  close(): Promise<void> {
    this.#end('local');
    return this.#socketClosed;
  }

  #onMessage(raw: RawData): void {
    if (this.#reason) return;
    const frame = parseFrame(String(raw));
    if (!frame) {
      this.#o.logger.debug({ event: 'upstream_ws_unparsed_frame', connectId: this.connectId }, 'KuCoin sent a frame that is not a known JSON message');
      return;
    }
    switch (frame.type) {
      case 'welcome':
        if (this.#heartbeat) return;
        clearTimeout(this.#welcomeTimer);
        this.#heartbeat = setInterval(() => this.#beat(), this.#o.pingIntervalMs).unref();
        this.#resolveReady();
        return;
      case 'pong':
      case 'ack':
        if (frame.id !== undefined) this.#waiting.get(frame.id)?.({ kind: frame.type });
        return;
      case 'error':
        this.#o.onErrorFrame({ code: frame.code, message: frame.message });
        if (frame.id !== undefined) this.#waiting.get(frame.id)?.({ kind: 'error', code: frame.code, message: frame.message });
        return;
      case 'message':
        // Nothing counts before welcome (docs/kucoin.md "The private WebSocket").
        if (this.#heartbeat) this.#o.onPush({ topic: frame.topic, subject: frame.subject, data: frame.data });
        return;
      case 'other':
        this.#o.logger.debug({ event: 'upstream_ws_frame_ignored', connectId: this.connectId, kind: frame.kind }, 'KuCoin frame ignored');
    }
  }

  /** A ping every pingInterval; no pong within pingTimeout means the connection is dead (docs/kucoin.md "The private WebSocket"). */
  #beat(): void {
    if (this.#heartbeatInFlight) return;
    this.#heartbeatInFlight = true;
    void this.probe().then((ok) => {
      this.#heartbeatInFlight = false;
      if (!ok && !this.#reason) this.#end('pong_timeout');
    });
  }

  #exchange(message: { id: string } & Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer({ kind: 'timeout' }), timeoutMs).unref();
      const answer = (reply: Reply): void => {
        clearTimeout(timer);
        this.#waiting.delete(message.id);
        resolve(reply);
      };
      this.#waiting.set(message.id, answer);
      if (this.#ws.readyState !== WebSocket.OPEN) return answer({ kind: 'ended' });
      this.#uplink.push(performance.now());
      this.#ws.send(JSON.stringify(message));
    });
  }

  async #uplinkPermit(): Promise<void> {
    for (;;) {
      const now = performance.now();
      while (this.#uplink.length > 0 && this.#uplink[0]! <= now - UPLINK_WINDOW_MS) this.#uplink.shift();
      if (this.#uplink.length < UPLINK_LIMIT || this.#reason) return;
      await new Promise((resolve) => setTimeout(resolve, this.#uplink[0]! + UPLINK_WINDOW_MS - now).unref());
    }
  }

  #newId(): string {
    this.#nextId += 1;
    return `${this.connectId}-${this.#nextId}`;
  }

  #end(reason: EndReason): void {
    if (this.#reason) return;
    this.#reason = reason;
    clearTimeout(this.#welcomeTimer);
    clearInterval(this.#heartbeat);
    for (const answer of [...this.#waiting.values()]) answer({ kind: 'ended' });
    this.#rejectReady(new ConnectionEnded(reason));
    const ws = this.#ws;
    if (reason === 'local' && ws.readyState === WebSocket.OPEN) {
      ws.close(1000, 'bye');
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    } else if (ws.readyState !== WebSocket.CLOSED) {
      ws.terminate();
    }
    this.#resolveEnded(reason);
  }
}
