import { BrokenCircuitError, ExponentialBackoff, type CircuitBreakerPolicy } from 'cockatiel';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { RequestScope } from '../request-scope.js';
import { endpoints, type Endpoint, type EndpointName } from './endpoints.js';
import { toGatewayError } from './error-map.js';
import { GATEWAY_CALLER, type Reservation, type UpstreamBudget } from './rate-budget.js';
import { signedHeaders, type KucoinCredentials } from './signer.js';
import { createTransport, TransportError, type Answer, type Transport } from './transport.js';
import { breakerGroups, createBreakers, markOwnRefusal, retryOutages, UpstreamRefused, type BreakerGroup } from './upstream-policy.js';

export interface KucoinClientOptions {
  baseUrl: string;
  credentials: KucoinCredentials | null;
  keyVersion: '2' | '3';
  timeoutMs: number;
  logger: Logger;
  metrics: Metrics;
  /** The in-process RateBudget, or the budget every replica shares (SharedRateBudget). */
  budget: UpstreamBudget;
  now?: () => number;
  /** Reads only: attempts in all (1 = no retry). */
  readAttempts?: number;
  retryDelayMs?: { initial: number; max: number };
  breaker?: { consecutiveFailures: number; halfOpenAfterMs: number };
  /**
   * Asked synchronously right before every request leaves for KuCoin (each try, the clock sync,
   * lookups, the stream's token): false refuses it with `UpstreamRefused`, nothing sent. The
   * gateway wires the kill switch here, so once a flip has answered no new call goes out.
   */
  admits?: () => boolean;
}

export interface CallOptions {
  /** Values for the endpoint's `{name}` path parameters. */
  params?: Record<string, string>;
  /** Query parameters in the order they are sent (and signed); undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** What the caller was doing, for error details: "listing positions". */
  context: string;
  /**
   * Milliseconds of the request's deadline this call must leave unspent for what follows it (an
   * order POST leaves room for its lookup by clientOid): its timeout is cut short to keep them.
   */
  leaveMs?: number;
  /**
   * The client request this call serves (src/request-scope.ts): its deadline bounds every try, retry
   * delay and the clock sync, and its caller is charged in the rate budget. `null` is the gateway's
   * own work (the live feed, its token), charged as GATEWAY_CALLER with only the per-try timeout.
   * Required, so that no call site loses a request's deadline or caller by forgetting it.
   */
  scope: RequestScope | null;
}

/**
 * The one door to KuCoin's REST API: signs exactly the bytes it sends, checks the envelope, maps
 * every failure to a typed error, keeps the account inside its rate budget, measures everything.
 * Reads are retried with jittered backoff and coalesced; writes are sent once (an order POST is
 * never retried blindly: the orders service reconciles by clientOid instead).
 * For a call made with a request's scope every try, clock sync and retry delay fits the request's
 * deadline; the gateway's own calls (scope null: the live feed) have only the per-try timeout.
 */
export class KucoinClient {
  readonly #options: KucoinClientOptions;
  readonly #now: () => number;
  readonly #breakers: ReadonlyMap<BreakerGroup, CircuitBreakerPolicy>;
  readonly #backoff: ExponentialBackoff<unknown>;
  readonly #readAttempts: number;
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #transport: Transport;
  #clockOffsetMs: number | undefined;
  #clockSync: Promise<void> | undefined;

  constructor(options: KucoinClientOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#breakers = createBreakers(options.breaker ?? { consecutiveFailures: 5, halfOpenAfterMs: 10_000 }, options.metrics, options.logger);
    const delays = options.retryDelayMs ?? { initial: 100, max: 1_000 };
    // ExponentialBackoff's default generator is decorrelated jitter, so retries from many callers spread out.
    this.#backoff = new ExponentialBackoff({ initialDelay: delays.initial, maxDelay: delays.max });
    this.#readAttempts = Math.max(1, options.readAttempts ?? 3);
    this.#transport = createTransport(options.baseUrl);
  }

  /** Closes the kept-alive connections to KuCoin (the gateway's shutdown, after in-flight requests finished). */
  close(): void {
    this.#transport.close();
  }

  /**
   * What an order POST leaves of its request's deadline for the lookup by clientOid that follows
   * a lost answer: half a try. The POST's own timeout is cut to keep it.
   */
  get reconcileReserveMs(): number {
    return Math.ceil(this.#options.timeoutMs / 2);
  }

  /** One try's timeout (`UPSTREAM_TIMEOUT_MS`). */
  get tryTimeoutMs(): number {
    return this.#options.timeoutMs;
  }

  get hasCredentials(): boolean {
    return this.#options.credentials !== null;
  }

  /** Calls an endpoint and returns KuCoin's `data`. Throws GatewayError only. */
  async call<T>(name: EndpointName, options: CallOptions): Promise<T> {
    const endpoint: Endpoint = endpoints[name];
    // The signature covers the request target as it reads before URL-encoding, path and query, in
    // the order sent (https://www.kucoin.com/docs-new/authentication).
    let rawPath = '';
    let encodedPath = '';
    for (const part of templateOf(name, endpoint.path)) {
      if (typeof part === 'string') {
        rawPath += part;
        encodedPath += part;
        continue;
      }
      const value = options.params?.[part.param];
      if (value === undefined) throw new Error(`missing path parameter ${part.param} for ${name}`);
      rawPath += value;
      encodedPath += encodeURIComponent(value);
    }
    let rawQuery = '';
    let encodedQuery = '';
    if (options.query !== undefined) {
      for (const [k, v] of Object.entries(options.query)) {
        if (v === undefined) continue;
        const separator = rawQuery === '' ? '' : '&';
        rawQuery += `${separator}${k}=${String(v)}`;
        encodedQuery += `${separator}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
      }
    }
    const request = {
      name,
      endpoint,
      signedPath: rawQuery ? `${rawPath}?${rawQuery}` : rawPath,
      sentPath: encodedQuery ? `${encodedPath}?${encodedQuery}` : encodedPath,
      body: options.body === undefined ? '' : JSON.stringify(options.body),
      context: options.context,
      deadline: options.scope?.deadline,
      // Outside a request (the live feed, its token) the call is the gateway's own, made for every client.
      caller: options.scope?.caller ?? GATEWAY_CALLER,
      leaveMs: options.leaveMs ?? 0,
    };
    const breaker = this.#breakers.get(breakerGroups[name])!;

    if (!endpoint.idempotent) {
      return (await breaker.execute(() => this.#sendWithClock(request)).catch((error: unknown) => {
        throw this.#fromPolicy(error, request);
      })) as T;
    }

    // Identical concurrent reads share one upstream call. A request's read does not join the live
    // feed's (which has no deadline), so it never waits past its own.
    const key = `${request.deadline === undefined ? 'unscoped' : 'scoped'} ${endpoint.method} ${request.sentPath}`;
    const pending = this.#inflight.get(key);
    if (pending) return pending as Promise<T>;
    const retry = { attempts: this.#readAttempts, backoff: this.#backoff, now: this.#now, tryTimeoutMs: this.#options.timeoutMs, deadline: request.deadline };
    const promise = retryOutages(() => breaker.execute(() => this.#sendWithClock(request)), retry)
      .catch((error: unknown) => {
        throw this.#fromPolicy(error, request);
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return promise as Promise<T>;
  }

  #fromPolicy(error: unknown, request: SendRequest): unknown {
    if (error instanceof BrokenCircuitError) {
      const seconds = Math.ceil((this.#options.breaker?.halfOpenAfterMs ?? 10_000) / 1000);
      this.#options.metrics.upstreamCalls.inc({ endpoint: `${request.endpoint.method} ${request.endpoint.path}`, outcome: 'breaker_open' });
      return new GatewayError('UPSTREAM_UNAVAILABLE', `KuCoin is failing; ${request.context} was not sent (circuit breaker ${breakerGroups[request.name]} open).`, {
        retryAfterSeconds: seconds,
        notSent: true,
      });
    }
    return error;
  }

  /** 400002 means our clock drifted from KuCoin's: measure the offset again and retry once (safe: KuCoin rejected the request before acting on it). */
  async #sendWithClock(request: SendRequest): Promise<unknown> {
    if (request.endpoint.signed && this.#options.credentials === null) {
      throw new GatewayError('CREDENTIALS_MISSING', `KuCoin credentials are not configured; cannot complete ${request.context}.`, { notSent: true });
    }
    if (request.endpoint.signed) await this.#ensureClock(request);
    try {
      return await this.#send(request);
    } catch (error) {
      if (!(error instanceof GatewayError) || error.options.upstream?.code !== '400002') throw error;
      this.#options.logger.warn({ event: 'upstream_clock_skew', endpoint: request.name }, 'KuCoin rejected our timestamp (400002); resyncing the clock');
      this.#clockOffsetMs = undefined;
      await this.#ensureClock(request);
      return this.#send(request);
    }
  }

  /** `needer`: the call that needs the clock; the first one lends its deadline and caller to the sync every later one shares. */
  async #ensureClock(needer: SendRequest): Promise<void> {
    if (this.#clockOffsetMs !== undefined) return;
    this.#clockSync ??= (async () => {
      const before = this.#now();
      const serverTime = await this.#send({
        name: 'timestamp',
        endpoint: endpoints.timestamp,
        signedPath: endpoints.timestamp.path,
        sentPath: endpoints.timestamp.path,
        body: '',
        context: 'reading the server time',
        // Shared by whoever needs the clock: the first caller's deadline is the earliest, and the
        // read is charged to it.
        deadline: needer.deadline,
        caller: needer.caller,
        leaveMs: 0,
      });
      const after = this.#now();
      if (typeof serverTime !== 'number') throw new GatewayError('UPSTREAM_BAD_RESPONSE', 'KuCoin sent a server time that is not a number.');
      this.#clockOffsetMs = Math.round(serverTime - (before + after) / 2);
      this.#options.metrics.upstreamClockOffset.set(this.#clockOffsetMs);
    })().finally(() => {
      this.#clockSync = undefined;
    });
    await this.#clockSync;
  }

  async #send(request: SendRequest): Promise<unknown> {
    const { endpoint, name, context } = request;
    const { metrics, budget, logger } = this.#options;
    const label = `${endpoint.method} ${endpoint.path}`;
    // Checked before the budget too, so a refused call spends no Redis round trip.
    if (this.#options.admits?.() === false) throw new UpstreamRefused(context);
    if (this.#tryTimeout(request) <= 0) throw this.#deadlineSpent(label, context);

    let reservation: Reservation;
    try {
      const reserved = budget.reserve(endpoint.pool, endpoint.weight, context, { caller: request.caller, spend: endpoint.spend });
      // The in-process budget answers synchronously: no await, so nothing changes between it and the send.
      reservation = reserved instanceof Promise ? await reserved : reserved;
    } catch (error) {
      metrics.upstreamCalls.inc({ endpoint: label, outcome: 'budget' });
      metrics.rateLimitHits.inc({ side: 'upstream' });
      throw error;
    }

    // From here to the send nothing awaits: what the gate and the deadline allow is what is sent.
    // The shared budget's reserve awaited Redis, so both are asked again, and a refusal gives the weight back.
    if (this.#options.admits?.() === false) {
      void reservation.release();
      throw new UpstreamRefused(context);
    }
    const timeoutMs = this.#tryTimeout(request);
    if (timeoutMs <= 0) {
      void reservation.release();
      throw this.#deadlineSpent(label, context);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.body !== '') headers['content-type'] = 'application/json';
    if (endpoint.signed) {
      const credentials = this.#options.credentials;
      if (credentials === null) {
        void reservation.release();
        throw new GatewayError('CREDENTIALS_MISSING', `KuCoin credentials are not configured; cannot ${context}.`);
      }
      const timestamp = String(this.#now() + (this.#clockOffsetMs ?? 0));
      Object.assign(headers, signedHeaders(credentials, this.#options.keyVersion, timestamp, endpoint.method, request.signedPath, request.body));
    }

    const started = this.#now();
    const outcome = (value: string) => {
      metrics.upstreamCalls.inc({ endpoint: label, outcome: value });
      metrics.upstreamDuration.observe({ endpoint: label }, (this.#now() - started) / 1000);
    };
    /** An answer the gateway cannot use (not KuCoin's envelope, or too large to read): counted as `bad_response`, `HTTP <status>`. */
    const badResponse = (status: number, detail: string, upstreamMessage: string): GatewayError => {
      outcome('bad_response');
      metrics.providerErrors.inc({ code: `HTTP ${status}` });
      return new GatewayError('UPSTREAM_BAD_RESPONSE', `KuCoin answered ${label} with ${detail}.`, { upstream: { code: `HTTP ${status}`, message: upstreamMessage } });
    };
    let response: Answer;
    try {
      response = await this.#transport.send(endpoint.method, request.sentPath, headers, request.body, timeoutMs);
    } catch (error) {
      void reservation.settle();
      const kind = error instanceof TransportError ? error.kind : 'network';
      if (kind === 'too_large') {
        logger.warn({ event: 'upstream_failure', endpoint: label, kind, cause: causeOf(error) }, `KuCoin ${label} answered too much`);
        throw badResponse((error as TransportError).status ?? 0, `more than the gateway reads while ${context}`, 'answer too large');
      }
      const timedOut = kind === 'timeout';
      outcome(timedOut ? 'timeout' : 'network');
      metrics.providerErrors.inc({ code: timedOut ? 'timeout' : 'network' });
      logger.warn({ event: 'upstream_failure', endpoint: label, kind: timedOut ? 'timeout' : 'network', cause: causeOf(error) }, `KuCoin ${label} failed`);
      if (timedOut) {
        throw new GatewayError('UPSTREAM_TIMEOUT', `KuCoin did not answer within ${timeoutMs} ms while ${context}.`);
      }
      // No connection was ever made (refused, no such host): nothing was delivered. Any other
      // transport failure (a reset, a redirect not followed) may have delivered the request.
      const notSent = NEVER_CONNECTED.has(causeOf(error));
      throw new GatewayError('UPSTREAM_UNAVAILABLE', `KuCoin could not be reached while ${context}.`, { retryAfterSeconds: 5, notSent });
    }
    const text = response.text;

    const limits = rateLimitHeaders(response.headers);
    void reservation.settle(limits);
    metrics.upstreamBudgetRemaining.set({ pool: endpoint.pool }, budget.remaining(endpoint.pool));

    let envelope: { code?: unknown; msg?: unknown; data?: unknown } | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) envelope = parsed as typeof envelope;
    } catch {
      envelope = undefined;
    }
    const code = typeof envelope?.code === 'string' ? envelope.code : typeof envelope?.code === 'number' ? String(envelope.code) : undefined;

    // Success is the body's code, whatever the HTTP status (docs/kucoin.md "Envelope, statuses and rate limits").
    if (code === '200000') {
      outcome('ok');
      return envelope!.data;
    }
    if (code === undefined && response.status < 500 && response.status !== 429) {
      throw badResponse(response.status, `a body that is not its JSON envelope (HTTP ${response.status})`, 'unparseable body');
    }
    const error = toGatewayError(
      { ...(code === undefined ? {} : { code }), message: typeof envelope?.msg === 'string' ? envelope.msg : '', httpStatus: response.status, ...(limits.resetMs === undefined ? {} : { resetMs: limits.resetMs }) },
      context,
    );
    if (error.code === 'UPSTREAM_RATE_LIMITED') {
      void reservation.exhaust(limits.resetMs);
      metrics.rateLimitHits.inc({ side: 'upstream' });
    }
    // An HTTP 5xx is KuCoin failing, whatever code its body carries (its outages answer 500000 in
    // the envelope): 'business' is for refusals only, or the outage would not count as one.
    outcome(error.code === 'UPSTREAM_RATE_LIMITED' ? 'rate_limited' : code === undefined || response.status >= 500 ? 'http_error' : 'business');
    metrics.providerErrors.inc({ code: code ?? `HTTP ${response.status}` });
    logger.warn({ event: 'upstream_error', endpoint: label, httpStatus: response.status, upstreamCode: code, mapped: error.code }, `KuCoin ${name}: ${error.code}`);
    throw error;
  }

  #deadlineSpent(label: string, context: string): GatewayError {
    this.#options.metrics.upstreamCalls.inc({ endpoint: label, outcome: 'deadline' });
    const spent = new GatewayError('UPSTREAM_TIMEOUT', `The request's time for KuCoin ran out before ${context}; nothing was sent.`, { notSent: true });
    markOwnRefusal(spent);
    return spent;
  }

  /** One try's timeout: UPSTREAM_TIMEOUT_MS, cut to what the request's deadline leaves (minus what the caller keeps for later). */
  #tryTimeout(request: SendRequest): number {
    if (request.deadline === undefined) return this.#options.timeoutMs;
    return Math.min(this.#options.timeoutMs, request.deadline - request.leaveMs - this.#now());
  }
}

/** An endpoint's path split once into its literal parts and its `{name}` parameters. */
const templates = new Map<EndpointName, ReadonlyArray<string | { param: string }>>();

function templateOf(name: EndpointName, path: string): ReadonlyArray<string | { param: string }> {
  let parts = templates.get(name);
  if (parts === undefined) {
    parts = path.split(/(\{\w+\})/).filter((part) => part !== '').map((part) => (/^\{\w+\}$/.test(part) ? { param: part.slice(1, -1) } : part));
    templates.set(name, parts);
  }
  return parts;
}

interface SendRequest {
  name: EndpointName;
  endpoint: Endpoint;
  signedPath: string;
  sentPath: string;
  body: string;
  context: string;
  /** Epoch ms by which the client request this call serves must be answered; undefined for the gateway's own calls. */
  deadline: number | undefined;
  /** Who is charged in the rate budget: the request's caller, or GATEWAY_CALLER. */
  caller: string;
  leaveMs: number;
}

function rateLimitHeaders(headers: Answer['headers']): { limit?: number; remaining?: number; resetMs?: number } {
  const read = (name: string): number | undefined => {
    const raw = headers[name];
    // A header sent twice: the first value (fetch joined them with ", ", which read as NaN).
    const value = Number((Array.isArray(raw) ? raw[0] : raw) ?? Number.NaN);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const out: { limit?: number; remaining?: number; resetMs?: number } = {};
  const limit = read('gw-ratelimit-limit');
  const remaining = read('gw-ratelimit-remaining');
  const resetMs = read('gw-ratelimit-reset');
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  if (resetMs !== undefined) out.resetMs = resetMs;
  return out;
}

/**
 * Transport failures that happen before any byte is written: a refused connection, a host name
 * that does not resolve.
 */
const NEVER_CONNECTED: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  return String(cause?.code ?? cause?.message ?? (error as Error)?.message ?? error);
}
