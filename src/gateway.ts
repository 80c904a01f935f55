import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from './config/config.js';
import express from 'express';
import { createApp } from './http/app.js';
import { expressServerClasses } from './http/express-server.js';
import { createPlainUpgradeServer } from './http/plain-upgrade.js';
import { callerKey, createUpgradeCounter, shareInboundWindows } from './http/rate-limit.js';
import { KeyRing } from './edge/security.js';
import { bundleAsyncApiDocument, loadOpenApiDocument } from './contract/documents.js';
import { renderDocsPage } from './http/docs-page.js';
import type { HandlerDeps } from './http/handlers/context.js';
import { compileValidatorsSoon, createOpenApiBackend } from './http/openapi-backend.js';
import { createFuturesServices, type FuturesServices } from './futures/services.js';
import { KucoinClient } from './kucoin/client.js';
import { UpstreamSupervisor } from './kucoin/stream/supervisor.js';
import { RateBudget, type UpstreamBudget } from './kucoin/rate-budget.js';
import { RedisRateBudget } from './kucoin/rate-budget-redis.js';
import { accountTag, SharedRateBudget } from './kucoin/rate-budget-shared.js';
import { ConnectPacer } from './kucoin/stream/pacing.js';
import { createLogger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { projectRoot } from './paths.js';
import { FuturesSwitch } from './switch/futures-switch.js';
import { FileSwitchStore, RedisSwitchStore } from './switch/runtime-store.js';
import type { SharedRedis } from './redis/shared-redis.js';
import { createClientMessageValidator } from './ws/client-messages.js';
import { AccountView, DEFAULT_WRITE_DEADLINE_MS } from './account/account-view.js';
import { SharedFences } from './account/shared-fences.js';
import { FuturesFeed } from './account/feed.js';
import type { UpstreamFeedSource } from './account/feed-upstream.js';
import { attachFuturesSocket, CloseCode } from './ws/futures-socket.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** Overrides for the WebSocket edge (tests use short heartbeats). */
  ws?: { heartbeatIntervalMs?: number; maxBufferedBytes?: number; maxInvalidMessages?: number; maxMessagesPerSecond?: number };
  /**
   * Stands in for the KuCoin WebSocket supervisor (tests drive a fake one); the gateway builds a
   * real one otherwise. Either way it is used only with KuCoin enabled and credentials configured.
   */
  upstream?: UpstreamFeedSource & { close(): Promise<void> };
  /** Overrides for the live feed (tests use short retries). */
  feed?: { retry?: { initialMs: number; maxMs: number } };
  /** Overrides for the list reads served from the feed (tests use a short write deadline). */
  accountView?: { writeDeadlineMs?: number };
}

export interface Gateway {
  readonly config: GatewayConfig;
  readonly server: Server;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly futuresSwitch: FuturesSwitch;
  listen(): Promise<AddressInfo>;
  /** Graceful stop: no new connections, in-flight requests finish, sockets close with 1001. */
  shutdown(): Promise<void>;
}

/** The user name and password of REDIS_URL, if any: redacted from every log line like the other secrets. */
function redisSecrets(config: GatewayConfig): string[] {
  if (!config.redis || !URL.canParse(config.redis.url)) return [];
  const url = new URL(config.redis.url);
  return [decodeURIComponent(url.password), config.redis.url].filter((secret) => secret.length >= 4);
}

/** Time past UPSTREAM_DEADLINE_MS for the answer made at the deadline to be written out. */
const SHUTDOWN_DEADLINE_MARGIN_MS = 500;

const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const secrets = [
    ...(config.kucoin.credentials ? Object.values(config.kucoin.credentials) : []),
    ...config.apiKeys,
    ...config.adminApiKeys,
    ...redisSecrets(config),
  ];
  const logger = createLogger({
    level: config.logLevel,
    secrets,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const metrics = createMetrics();
  // REDIS_URL: the state every replica shares. Without it the process keeps that state itself.
  // Loaded only then: ioredis is a tenth of a start's module loading, for nothing without REDIS_URL.
  const shared: SharedRedis | undefined = config.redis ? new (await import('./redis/shared-redis.js')).SharedRedis({ url: config.redis.url, keyPrefix: config.redis.keyPrefix, logger, metrics }) : undefined;
  // The runtime kill switch: in Redis, shared by every replica, or in STATE_DIR/switch.json.
  const futuresSwitch = new FuturesSwitch(config.featureFutures, {
    store: shared ? new RedisSwitchStore({ shared }) : new FileSwitchStore(config.stateDir),
    onStoreError: (error) => {
      if (shared) shared.failed('switch', error);
      else logger.error({ event: 'futures_switch_store_failed', err: { message: error instanceof Error ? error.message : String(error) } }, 'the kill switch state file could not be read or written');
    },
  });
  const switchGauges = () => {
    const state = futuresSwitch.state();
    metrics.switchEnabled.set(state.enabled ? 1 : 0);
    metrics.switchEnvironment.set(state.environment ? 1 : 0);
    metrics.switchRuntime.set(state.runtime === null ? -1 : state.runtime ? 1 : 0);
  };
  switchGauges();
  futuresSwitch.onChange((state, cause) => {
    switchGauges();
    if (cause === 'store') {
      metrics.switchChangesHeard.inc();
      logger.warn({ event: 'futures_switch_heard', enabled: state.enabled, runtime: state.runtime, by: state.changedBy, replica: state.replica, reason: state.reason }, `futures kill switch is ${state.enabled ? 'on' : 'off'} (runtime ${state.runtime === null ? 'unknown' : state.runtime ? 'on' : 'off'}, from the store)`);
    }
  });
  // With Redis, wait briefly for it: a replica that cannot read the shared switch starts off and
  // adopts it once Redis answers.
  if (shared) await shared.ready(1_500);
  await futuresSwitch.start();

  const openapi = loadOpenApiDocument();
  const asyncapi = bundleAsyncApiDocument(openapi);
  const api = await createOpenApiBackend(openapi);
  const app = express();
  const serverClasses = expressServerClasses(app);
  const server = createServer({
    ...serverClasses,
    requestTimeout: 30_000,
    headersTimeout: 10_000,
    // RFC 9112 §3.2 makes a missing Host a 400; node would send that bare, before the app runs.
    // Left to the app, it is the same typed 421 as any host outside ALLOWED_HOSTS.
    requireHostHeader: false,
    // Node enforces both timeouts only when this timer fires (30 s by default), which let a
    // slow-loris client hold a connection for 30 s instead of 10.
    connectionsCheckingInterval: 1_000,
  });

  // docs/kucoin.md "Envelope, statuses and rate limits": the Public pool is 2000 per 30 s at every VIP level.
  // The write reserve is kept in the Futures pool, where orders, cancels and closes are spent; the
  // Public pool serves reads (funding, contracts, the server time, risk-limit tiers), and a
  // reserve there only took a fifth of it from them (a 5-minute soak's funding reads were refused).
  const budgetRules = { limits: { futures: config.futuresPoolQuota, public: 2000 }, writeReserve: config.upstreamWriteReservePercent / 100, reservedPools: ['futures'] as const, metrics };
  const account = accountTag(config.kucoin.credentials);
  const ownBudget = new RateBudget(budgetRules);
  // With REDIS_URL every replica spends one budget; this replica's own is its fallback.
  const budget: UpstreamBudget = shared
    ? new SharedRateBudget({
        store: new RedisRateBudget({ ...budgetRules, client: shared.client, key: (...parts) => shared.key(...parts), account, leaseMs: Math.max(30_000, 2 * config.upstreamTimeoutMs) }),
        local: ownBudget,
        redis: shared,
        metrics,
      })
    : ownBudget;
  const kucoin = new KucoinClient({
    baseUrl: config.futuresBaseUrl,
    credentials: config.kucoin.credentials,
    keyVersion: config.kucoin.keyVersion,
    timeoutMs: config.upstreamTimeoutMs,
    breaker: config.upstreamBreaker,
    // Off means no futures traffic at all: a request admitted before the flip but not yet sent is
    // refused at the door (and answered as an unknown route), as is the feed's token request.
    admits: () => futuresSwitch.enabled,
    logger,
    metrics,
    budget,
  });
  // The operations without the KuCoin stream: the feed reads its snapshots through them.
  const operations = createFuturesServices(kucoin, logger, config.stateDir, shared && { redis: shared, deadlineMs: config.upstreamDeadlineMs });

  // The live feed needs KuCoin's private WebSocket, whose token is a signed call: without
  // credentials there is none, and clients are told why instead of waiting for snapshots.
  const feedUnavailable =
    !config.exchangeKucoin ? 'The KuCoin provider is disabled (EXCHANGE_KUCOIN=false).'
    : config.kucoin.credentials === null ? 'KuCoin credentials are not configured: no live positions, orders or funding.'
    : undefined;
  const upstream = feedUnavailable === undefined ? (options.upstream ?? new UpstreamSupervisor({ client: kucoin, logger, metrics, pacing: new ConnectPacer({ account, ...(shared ? { shared } : {}) }) })) : undefined;
  const feed = upstream ? new FuturesFeed({ upstream, services: operations, logger, metrics, ...options.feed }) : undefined;
  const futures: FuturesServices = {
    ...operations,
    // A risk-limit level change reports its outcome on the stream (position.adjustRiskLimit), when it is up...
    riskLimitPushes: upstream,
    // ...and the wait for it holds the stream itself, so no client or list read needs to.
    riskLimitStream: feed,
  };
  const { enabled, lingerMs } = config.readsFromStream;
  // REDIS_URL: every replica's writes fence every replica's list reads (src/account/shared-fences.ts).
  const writeDeadlineMs = options.accountView?.writeDeadlineMs ?? DEFAULT_WRITE_DEADLINE_MS;
  const sharedFences = shared ? new SharedFences(shared, { deadlineMs: writeDeadlineMs, settingsKeepMs: lingerMs }) : undefined;
  const accountView = new AccountView({ feed, services: futures, metrics, enabled, lingerMs, writeDeadlineMs, sharedFences });
  // Off means no upstream connection. The /ws/futures clients are closed with 4404 (below, on
  // every replica, whichever served the flip); the stream a REST read started is left now, and the KuCoin connection closes as
  // soon as the last of those clients is gone, without the supervisor's usual linger.
  futuresSwitch.onChange((state) => {
    upstream?.lingerAfterRelease(state.enabled);
    if (!state.enabled) accountView.leave();
  });

  // Configured keys, hashed once: the HTTP routes and the /ws/futures upgrade check callers with it.
  const keys = new KeyRing(config.apiKeys, config.adminApiKeys);
  // REDIS_URL: one inbound window per caller across the replicas (this replica's own while Redis is down).
  if (shared) shareInboundWindows(config, keys, shared);
  const socket = attachFuturesSocket(server, {
    config,
    keys,
    logger,
    metrics,
    futuresSwitch,
    validateClientMessage: createClientMessageValidator(asyncapi),
    countUpgrade: createUpgradeCounter(config, metrics, keys),
    callerOf: (req) => callerKey(req as express.Request, keys),
    serveAsHttp: createPlainUpgradeServer(server, serverClasses),
    ...(feed ? { feed } : { feedUnavailable }),
    ...options.ws,
  });

  // Every change to off, this replica's flip or one heard from another, closes this replica's sockets.
  let closedSockets = 0;
  futuresSwitch.onChange((state) => {
    closedSockets = state.enabled ? 0 : socket.closeAll(CloseCode.futuresDisabled, 'futures disabled');
  });

  const deps: HandlerDeps = {
    config,
    logger,
    metrics,
    futuresSwitch,
    keys,
    version,
    startedAt: Date.now(),
    documents: { openapi, asyncapi, docsHtml: renderDocsPage(openapi, asyncapi) },
    futures,
    accountView,
    closedSockets: () => closedSockets,
  };
  createApp(api, deps, app);
  let stopping: Promise<void> | undefined;
  const inFlight = new Set<ServerResponse>();
  // Past shutdown a kept-alive connection must carry no new request: each answer then closes its
  // connection, including the answers to requests that were already in flight.
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    res.once('finish', () => server.closeIdleConnections());
  };
  server.on('request', (req, res) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (stopping) closeAfter(res);
    app(req, res);
  });

  return {
    config,
    server,
    logger,
    metrics,
    futuresSwitch,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          logger.info({ event: 'listening', host: address.address, port: address.port, futures: futuresSwitch.enabled, version }, 'gateway listening');
          // openapi.yaml is linted in CI and every operation's validators compiled by a test, so a
          // failure here is a bug to log, not a reason to stop a gateway that already answers.
          compileValidatorsSoon(api).catch((error: unknown) => logger.error({ err: error }, 'request validators failed to compile'));
          resolve(address);
        });
      }),
    shutdown: () =>
      (stopping ??= (async () => {
        logger.info({ event: 'shutdown' }, 'shutting down: refusing new connections, finishing in-flight requests');
        socket.stop();
        for (const res of inFlight) closeAfter(res);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        socket.closeAll(CloseCode.shutdown, 'server shutting down');
        // A request in flight has its answer by its deadline (an order sent to KuCoin included, with
        // its lookup by clientOid): cutting it sooner could leave an order placed and unanswered.
        const graceMs = Math.max(config.shutdownTimeoutMs, config.upstreamDeadlineMs + SHUTDOWN_DEADLINE_MARGIN_MS);
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
        const [outcome] = await Promise.all([Promise.race([closed.then(() => 'closed' as const), timeout]), socket.drain(config.shutdownTimeoutMs)]);
        accountView.close();
        feed?.close();
        await upstream?.close();
        futuresSwitch.close();
        await shared?.close();
        if (outcome === 'timeout') {
          logger.warn({ event: 'shutdown_timeout', graceMs }, 'in-flight requests outlived the shutdown grace period; closing them');
          server.closeAllConnections();
          await closed;
        }
        // Its kept-alive connections to KuCoin, once no request can use them.
        kucoin.close();
        logger.info({ event: 'stopped' }, 'gateway stopped');
        // The destination writes asynchronously; wait, so no line is lost or reordered by an exit.
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      })()),
  };
}
