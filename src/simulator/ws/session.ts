import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import {
  ackFrame,
  errorFrame,
  MAX_TOPICS_PER_MESSAGE,
  MAX_TOPICS_PER_SESSION,
  MAX_UPLINK_MESSAGES,
  pongFrame,
  UPLINK_WINDOW_MS,
  welcomeFrame,
  WsError,
  type FrameId,
  type WsErrorBody,
} from './frames.js';
import type { TokenKind } from './tokens.js';
import { expandTopic } from './topics.js';

/** The close KuCoin sends when it ends a session itself (code 1000, reason "Bye", seen in a client log after a 509). */
const BYE = { code: 1000, reason: 'Bye' } as const;

export interface SessionOptions {
  connectId: string;
  kind: TokenKind;
  /** Silence allowed before the server drops the client: pingInterval + pingTimeout (docs/kucoin.md "The private WebSocket"). */
  idleMs: number;
  /** The forced cut, 24 h on KuCoin (docs/kucoin.md "The private WebSocket"). */
  sessionMs: number;
  now: () => number;
  /** Fault injection: a subscribe to this topic is answered with an error frame (server.ts SimWsOptions). */
  refuses?: (topic: string) => boolean;
  logger?: Logger;
  onGone: (session: SimSession) => void;
}

/** One client connection of the simulated Classic futures socket (docs/kucoin.md "The private WebSocket"). */
export class SimSession {
  readonly topics = new Set<string>();
  readonly #ws: WebSocket;
  readonly #opts: SessionOptions;
  /** Times of the uplink messages accepted in the current window. */
  readonly #uplink: number[] = [];
  readonly #idleTimer: NodeJS.Timeout;
  readonly #sessionTimer: NodeJS.Timeout;
  #gone = false;

  constructor(ws: WebSocket, opts: SessionOptions) {
    this.#ws = ws;
    this.#opts = opts;
    ws.on('message', (data) => this.#onMessage(data));
    ws.on('close', (code) => {
      opts.logger?.debug({ connectId: opts.connectId, code }, 'sim ws closed');
      this.dispose();
    });
    ws.on('error', (err) => opts.logger?.debug({ connectId: opts.connectId, err: { message: err.message } }, 'sim ws error'));
    // Nothing before welcome: the connection is usable only after it (docs/kucoin.md "The private WebSocket").
    this.send(welcomeFrame(opts.connectId));
    this.#idleTimer = setTimeout(() => this.#onIdle(), opts.idleMs).unref();
    this.#sessionTimer = setTimeout(() => this.close(BYE.code, BYE.reason), opts.sessionMs).unref();
  }

  get kind(): TokenKind {
    return this.#opts.kind;
  }

  wantsAny(subscriptions: readonly string[]): boolean {
    return subscriptions.some((topic) => this.topics.has(topic));
  }

  send(json: string): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(json);
  }

  close(code: number, reason: string): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(code, reason);
  }

  /** A network drop: no close frame. */
  terminate(): void {
    this.#ws.terminate();
    this.dispose();
  }

  dispose(): void {
    if (this.#gone) return;
    this.#gone = true;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#sessionTimer);
    this.#opts.onGone(this);
  }

  get closed(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.#ws.once('close', () => resolve()));
  }

  #onIdle(): void {
    this.#opts.logger?.debug({ connectId: this.#opts.connectId }, 'sim ws ping timeout');
    this.#error(this.#opts.connectId, WsError.pingTimeout);
    this.close(BYE.code, BYE.reason);
  }

  #onMessage(raw: RawData): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    // Any uplink message counts as a sign of life, not only ping (docs/kucoin.md "The private WebSocket").
    this.#idleTimer.refresh();
    if (!this.#takePermit()) {
      // KuCoin answers a flood with 509 and ends the session.
      this.#error(this.#opts.connectId, WsError.uplinkFlood);
      return this.close(BYE.code, BYE.reason);
    }
    const message = parseObject(raw);
    if (!message) return this.#error(this.#opts.connectId, WsError.commandInvalid);
    const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : this.#opts.connectId;
    switch (message.type) {
      case 'ping':
        return this.send(pongFrame(id));
      case 'subscribe':
      case 'unsubscribe':
        return this.#onSubscription(message, message.type, id);
      default:
        return this.#error(id, WsError.commandInvalid);
    }
  }

  /** A (un)subscribe and KuCoin's limits on it (docs/kucoin.md "The private WebSocket"). A rejected message changes nothing. */
  #onSubscription(message: Record<string, unknown>, type: 'subscribe' | 'unsubscribe', id: FrameId): void {
    const topic = message.topic;
    if (typeof topic !== 'string' || topic === '') return this.#error(id, WsError.topicRequired);
    const subscriptions = expandTopic(topic);
    if (!subscriptions) return this.#error(id, WsError.topicNotFound(topic));
    if (subscriptions.length > MAX_TOPICS_PER_MESSAGE) return this.#error(id, WsError.topicsPerMessage);
    if (type === 'subscribe') {
      if (this.#opts.refuses && subscriptions.some((s) => this.#opts.refuses!(s.topic))) return this.#error(id, WsError.topicNotFound(topic));
      const wantsPrivate = subscriptions.some((s) => s.private);
      if (wantsPrivate && !(this.#opts.kind === 'private' && isTrue(message.privateChannel))) {
        return this.#error(id, WsError.loginRequired);
      }
      const added = subscriptions.filter((s) => !this.topics.has(s.topic)).length;
      if (this.topics.size + added > MAX_TOPICS_PER_SESSION) return this.#error(id, WsError.topicsPerSession);
      for (const s of subscriptions) this.topics.add(s.topic);
    } else {
      for (const s of subscriptions) this.topics.delete(s.topic);
    }
    this.#opts.logger?.debug({ connectId: this.#opts.connectId, type, topic }, 'sim ws subscription');
    if (isTrue(message.response)) this.send(ackFrame(id));
  }

  #takePermit(): boolean {
    const now = this.#opts.now();
    while (this.#uplink.length > 0 && this.#uplink[0]! <= now - UPLINK_WINDOW_MS) this.#uplink.shift();
    if (this.#uplink.length >= MAX_UPLINK_MESSAGES) return false;
    this.#uplink.push(now);
    return true;
  }

  #error(id: FrameId, error: WsErrorBody): void {
    this.#opts.logger?.debug({ connectId: this.#opts.connectId, id, ...error }, 'sim ws error frame');
    this.send(errorFrame(id, error));
  }
}

/** Docs-new examples send `"privateChannel": "true"` as a string (docs/kucoin.md "The private WebSocket"). */
function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function parseObject(raw: RawData): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(String(raw));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
