import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from './config/config.js';
import { createApp } from './http/app.js';
import { bundleAsyncApiDocument, loadOpenApiDocument } from './http/contract.js';
import { renderDocsPage } from './http/docs-page.js';
import type { HandlerDeps } from './http/handlers/context.js';
import { createOpenApiBackend } from './http/openapi-backend.js';
import { createLogger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { projectRoot } from './paths.js';
import { FuturesSwitch } from './switch/futures-switch.js';
import { createClientMessageValidator } from './ws/client-messages.js';
import { attachFuturesSocket, CloseCode } from './ws/futures-socket.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** Overrides for the WebSocket edge (tests use short heartbeats). */
  ws?: { heartbeatIntervalMs?: number; maxBufferedBytes?: number; maxInvalidMessages?: number; maxMessagesPerSecond?: number };
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

const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const secrets = [
    ...(config.kucoin.credentials ? Object.values(config.kucoin.credentials) : []),
    ...config.apiKeys,
    ...config.adminApiKeys,
  ];
  const logger = createLogger({
    level: config.logLevel,
    secrets,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const metrics = createMetrics();
  const futuresSwitch = new FuturesSwitch(config.featureFutures);
  metrics.switchEnabled.set(config.featureFutures ? 1 : 0);
  futuresSwitch.onChange((state) => metrics.switchEnabled.set(state.enabled ? 1 : 0));

  const openapi = loadOpenApiDocument();
  const asyncapi = bundleAsyncApiDocument(openapi);
  const api = await createOpenApiBackend(openapi);
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 });
  const socket = attachFuturesSocket(server, {
    config,
    logger,
    metrics,
    futuresSwitch,
    validateClientMessage: createClientMessageValidator(asyncapi),
    ...options.ws,
  });

  const deps: HandlerDeps = {
    config,
    logger,
    metrics,
    futuresSwitch,
    version,
    startedAt: Date.now(),
    documents: { openapi, asyncapi, docsHtml: renderDocsPage(openapi, asyncapi) },
    closeFuturesSockets: (code, reason) => socket.closeAll(code, reason),
  };
  server.on('request', createApp(api, deps));

  let stopping: Promise<void> | undefined;
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
          resolve(address);
        });
      }),
    shutdown: () =>
      (stopping ??= (async () => {
        logger.info({ event: 'shutdown' }, 'shutting down: refusing new connections, finishing in-flight requests');
        socket.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        socket.closeAll(CloseCode.shutdown, 'server shutting down');
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs).unref());
        const [outcome] = await Promise.all([Promise.race([closed.then(() => 'closed' as const), timeout]), socket.drain(config.shutdownTimeoutMs)]);
        if (outcome === 'timeout') {
          logger.warn({ event: 'shutdown_timeout' }, 'in-flight requests outlived SHUTDOWN_TIMEOUT_MS; closing them');
          server.closeAllConnections();
          await closed;
        }
        logger.info({ event: 'stopped' }, 'gateway stopped');
        logger.flush();
      })()),
  };
}
