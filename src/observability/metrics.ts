import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per gateway instance (not prom-client's global one), so tests can run several
 * gateways in one process. Later parts (upstream client, WS) register their families here.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
  const http = new HttpTallies(HTTP_DURATION_BUCKETS);

  return {
    registry,
    /**
     * One answered HTTP request: `gateway_http_requests_total` and
     * `gateway_http_request_duration_seconds`, counted in plain tallies (HttpTallies, below) that
     * the two families below read when scraped. Write them only through this: an `inc`/`observe`
     * on them directly would be replaced by the tallies at the next read.
     */
    recordHttp: (method: string, route: string, status: number, seconds: number): void => http.record(method, route, status, seconds),
    httpRequests: new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests answered, by method, route template (or "unmatched") and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
      collect() {
        http.fillRequests(this);
      },
    }),
    httpDuration: new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'Time from request start to response finish, by method and route template.',
      labelNames: ['method', 'route'] as const,
      buckets: HTTP_DURATION_BUCKETS,
      registers: [registry],
      collect() {
        http.fillDurations(this);
      },
    }),
    rateLimitHits: new Counter({
      name: 'gateway_rate_limit_hits_total',
      help: 'Requests refused with 429, by side: "inbound" (our limiter) or "upstream" (KuCoin quota).',
      labelNames: ['side'] as const,
      registers: [registry],
    }),
    switchEnabled: new Gauge({
      name: 'gateway_futures_switch_enabled',
      help: 'The effective kill switch (FEATURE_FUTURES and the runtime switch): 1 on, 0 off.',
      registers: [registry],
    }),
    switchFlips: new Counter({
      name: 'gateway_futures_switch_flips_total',
      help: 'Run-time kill-switch changes by the admin operation, by new value.',
      labelNames: ['to'] as const,
      registers: [registry],
    }),
    switchEnvironment: new Gauge({
      name: 'gateway_futures_switch_environment',
      help: 'FEATURE_FUTURES of this process: 1 true, 0 false (false holds futures off).',
      registers: [registry],
    }),
    switchRuntime: new Gauge({
      name: 'gateway_futures_switch_runtime',
      help: 'The runtime kill switch as this replica knows it: 1 on, 0 off, -1 not known (Redis unreachable since start).',
      registers: [registry],
    }),
    switchChangesHeard: new Counter({
      name: 'gateway_futures_switch_changes_heard_total',
      help: 'Runtime kill-switch changes this replica took from the store (another replica\'s flip, or one missed and re-read).',
      registers: [registry],
    }),
    wsClients: new Gauge({
      name: 'gateway_ws_clients',
      help: 'Open /ws/futures client sockets.',
      registers: [registry],
    }),
    upstreamCalls: new Counter({
      name: 'gateway_upstream_calls_total',
      help: 'Calls to KuCoin by endpoint (method and path template) and outcome (ok, business, rate_limited, http_error, timeout, network, bad_response, breaker_open, budget, deadline).',
      labelNames: ['endpoint', 'outcome'] as const,
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: 'gateway_upstream_request_duration_seconds',
      help: 'Latency of calls to KuCoin by endpoint.',
      labelNames: ['endpoint'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    providerErrors: new Counter({
      name: 'gateway_provider_errors_total',
      help: 'Errors from KuCoin by its business code (or "HTTP <status>", "timeout", "network").',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    upstreamBreakerOpen: new Gauge({
      name: 'gateway_upstream_breaker_open',
      help: 'The KuCoin circuit breakers, by endpoint group (account, order-reads, order-writes, margin, market, stream): 1 open (calls refused fast), 0 closed or half-open.',
      labelNames: ['group'] as const,
      registers: [registry],
    }),
    upstreamClockOffset: new Gauge({
      name: 'gateway_upstream_clock_offset_ms',
      help: "KuCoin's server time minus the local clock, in ms, as last measured.",
      registers: [registry],
    }),
    upstreamBudgetRemaining: new Gauge({
      name: 'gateway_upstream_budget_remaining',
      help: "KuCoin resource-pool quota left in the current window, by pool (from gw-ratelimit-remaining when known).",
      labelNames: ['pool'] as const,
      registers: [registry],
    }),
    upstreamBudgetWriteReserve: new Gauge({
      name: 'gateway_upstream_budget_write_reserve',
      help: "Weight of each KuCoin pool's quota per window that reads may never spend, kept for orders, cancels and closes (UPSTREAM_WRITE_RESERVE).",
      labelNames: ['pool'] as const,
      registers: [registry],
    }),
    upstreamBudgetRefusals: new Counter({
      name: 'gateway_upstream_budget_refusals_total',
      help: 'KuCoin calls the rate budget refused (not sent), by pool and kind: "pool" (a write; the quota is spent), "read_reserve" (reads reached the write reserve), "read_share" (the caller read its share).',
      labelNames: ['pool', 'kind'] as const,
      registers: [registry],
    }),
    upstreamBudgetFallbacks: new Counter({
      name: 'gateway_upstream_budget_fallbacks_total',
      help: "KuCoin calls reserved in this replica's own rate budget because the shared one (REDIS_URL) could not be reached, by pool.",
      labelNames: ['pool'] as const,
      registers: [registry],
    }),
    upstreamBudgetShared: new Gauge({
      name: 'gateway_upstream_budget_shared',
      help: "The rate budget in use: 1 the one every replica shares in Redis, 0 this replica's own (no REDIS_URL, or Redis unreachable).",
      registers: [registry],
    }),
    wsClosed: new Counter({
      name: 'gateway_ws_closed_total',
      help: '/ws/futures sockets closed by the gateway, by close code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    upstreamWsState: new Gauge({
      name: 'gateway_upstream_ws_state',
      help: 'The KuCoin private WebSocket: 1 for the current state (idle, connecting, up, reconnecting, closed), 0 for the others.',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    upstreamWsReconnects: new Counter({
      name: 'gateway_upstream_ws_reconnects_total',
      help: 'New KuCoin WebSocket connections opened after the first, by why (rotation, welcome_timeout, pong_timeout, ack_timeout, dropped, server_closed, connect_failed, token_refused, upgrade_refused, token_unavailable).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    upstreamWsPaced: new Counter({
      name: 'gateway_upstream_ws_paced_total',
      help: 'KuCoin WebSocket connection attempts held back to keep the account under 30 new connections a minute, by limiter: "shared" (every replica, Redis) or "local" (this replica alone).',
      labelNames: ['limiter'] as const,
      registers: [registry],
    }),
    upstreamWsDisconnectStreak: new Gauge({
      name: 'gateway_upstream_ws_disconnect_streak',
      help: 'Failed KuCoin WebSocket connects and drops in a row since the last connection that stayed up (read by scripts/rollout/monitor.sh).',
      registers: [registry],
    }),
    upstreamWsMessages: new Counter({
      name: 'gateway_upstream_ws_messages_total',
      help: 'Pushes received on the KuCoin WebSocket, by subject.',
      labelNames: ['subject'] as const,
      registers: [registry],
    }),
    upstreamWsMessageAge: new Histogram({
      name: 'gateway_upstream_ws_message_age_seconds',
      help: "Receipt time minus a KuCoin push's own ts/timestamp, by topic prefix (e.g. /contract/position).",
      labelNames: ['topic'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    upstreamWsTopicRefusals: new Counter({
      name: 'gateway_upstream_ws_topic_refusals_total',
      help: 'Topics KuCoin refused to subscribe (an error frame answered the subscribe), by topic template (/contract/announcement:{symbol}); clients are told in upstream_status refusedTopics.',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    upstreamWsErrors: new Counter({
      name: 'gateway_upstream_ws_errors_total',
      help: 'Error frames KuCoin sent on its WebSocket, by WS error code (400, 401, 403, 404, 406, 415, 509).',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    wsMessagesSent: new Counter({
      name: 'gateway_ws_messages_sent_total',
      help: 'Messages sent to /ws/futures clients, by message type.',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    wsBroadcastSeconds: new Histogram({
      name: 'gateway_ws_broadcast_seconds',
      help: 'Time the gateway takes to hand one live message to every /ws/futures client due it (each frame serialised and written to its socket), by message type.',
      labelNames: ['type'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    wsUpgradesRefused: new Counter({
      name: 'gateway_ws_upgrades_refused_total',
      help: '/ws/futures upgrades answered with an HTTP refusal, by reason: misdirected, rate_limited, not_found, origin_not_allowed, unauthorized, too_many_connections.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    wsDroppedSlowClients: new Counter({
      name: 'gateway_ws_dropped_slow_clients_total',
      help: '/ws/futures clients closed with 4408 because their send buffer passed the bound.',
      registers: [registry],
    }),
    restReadsServed: new Counter({
      name: 'gateway_rest_reads_total',
      help: 'Position-list and open-order-list reads answered, by operation (listPositions, listOrders) and source: "stream" (the live feed\'s state, no KuCoin call) or "upstream" (KuCoin REST).',
      labelNames: ['operation', 'source'] as const,
      registers: [registry],
    }),
    redisUp: new Gauge({
      name: 'gateway_redis_up',
      help: 'The shared Redis (REDIS_URL): 1 connected and ready, 0 not; absent without REDIS_URL.',
      registers: [registry],
    }),
    redisErrors: new Counter({
      name: 'gateway_redis_errors_total',
      help: 'Redis commands that failed or could not be sent (Redis unreachable, timeout), by what the gateway was doing: switch, idempotency, budget, inbound_limit, stream_pacing, fences.',
      labelNames: ['use'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface RequestSeries {
  labels: { method: string; route: string; status: string };
  value: number;
}

interface DurationSeries {
  labels: { method: string; route: string };
  /** Observations per bucket, not cumulative (as prom-client keeps them); index i is bounds[i]. */
  buckets: number[];
  sum: number;
  count: number;
  statuses: Map<number, RequestSeries>;
}

/** prom-client 15's per-series state of a histogram (what its own observe() and zero() keep). */
interface HistogramEntry {
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/**
 * The HTTP request counter and duration histogram, tallied per label set in plain objects found by
 * two Map lookups, and handed to prom-client when a scrape reads them. prom-client's own `inc` and
 * `observe` (bound `labels()` children too) check the label names and build a hash string of the
 * label set on every call, ~3 µs of each request (benchmark 1); it has no bulk observe.
 *
 * What a scrape shows is what prom-client's own calls would have made: the same series in the
 * order each was first seen, the same label objects (key order method, route[, status]), counts
 * as integers, each histogram sum added up in the same order, observations above the top bucket
 * in +Inf (count) only (test/observability/http-tallies.test.ts compares the two expositions).
 * The label values are those of before (node's request method, the contract's route template or
 * "unmatched", the status code), so the cardinality stays as bounded as it was.
 */
class HttpTallies {
  readonly #bounds: readonly number[];
  readonly #byRoute = new Map<string, Map<string, DurationSeries>>();
  readonly #requests: RequestSeries[] = [];
  readonly #durations: DurationSeries[] = [];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  record(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.#byRoute.get(route);
    if (byMethod === undefined) this.#byRoute.set(route, (byMethod = new Map()));
    let series = byMethod.get(method);
    if (series === undefined) {
      series = { labels: { method, route }, buckets: this.#bounds.map(() => 0), sum: 0, count: 0, statuses: new Map() };
      byMethod.set(method, series);
      this.#durations.push(series);
    }
    let requests = series.statuses.get(status);
    if (requests === undefined) {
      requests = { labels: { method, route, status: String(status) }, value: 0 };
      series.statuses.set(status, requests);
      this.#requests.push(requests);
    }
    requests.value += 1;
    series.sum += seconds;
    series.count += 1;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        (series.buckets[i] as number)++;
        break;
      }
    }
  }

  /** Called by the counter's collect(): its series rebuilt from the tallies with its own `inc`. */
  fillRequests(counter: Counter<'method' | 'route' | 'status'>): void {
    counter.reset();
    for (const series of this.#requests) counter.inc(series.labels, series.value);
  }

  /** Called by the histogram's collect(): each series made by its own `zero`, then given the tallies. */
  fillDurations(histogram: Histogram<'method' | 'route'>): void {
    histogram.reset();
    for (const series of this.#durations) histogram.zero(series.labels);
    const entries = Object.values((histogram as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap);
    if (entries.length !== this.#durations.length) throw new Error('gateway_http_request_duration_seconds: prom-client kept its series differently than expected');
    this.#durations.forEach((series, index) => {
      const entry = entries[index] as HistogramEntry;
      this.#bounds.forEach((bound, i) => (entry.bucketValues[bound] = series.buckets[i] as number));
      entry.sum = series.sum;
      entry.count = series.count;
    });
  }
}
