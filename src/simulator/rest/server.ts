/**
 * One running simulator: engine → HTTP server → REST app → WebSocket (src/simulator/ws/). Used by
 * `npm run sim` (main.ts) and by tests, in process, on port 0.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SimConfig } from '../config.js';
import { SimEngine, type SimPush } from '../engine/engine.js';
import { attachSimWebSocket } from '../ws/server.js';
import { TokenRegistry } from '../ws/tokens.js';
import { createSimRestApp, type SimRestApp } from './app.js';

export interface StartSimulatorOptions {
  config: SimConfig;
  /** The simulator's clock (default Date.now): KC-API-TIMESTAMP is checked against it. */
  now?: () => number;
  /** Run the mark and funding timers (default true); tests step the engine by hand instead. */
  timers?: boolean;
  logger?: Logger;
}

export interface RunningSimulator {
  port: number;
  /** `http://host:port`, the KuCoin base URL. */
  url: string;
  wsUrl: string;
  engine: SimEngine;
  app: SimRestApp;
  tokens: TokenRegistry;
  server: Server;
  close(): Promise<void>;
}

const ORDERS = '/contractMarket/tradeOrders';

export async function startSimulator(options: StartSimulatorOptions): Promise<RunningSimulator> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const engine = new SimEngine({
    seed: config.seed,
    now,
    markIntervalMs: config.markIntervalMs,
    fundingIntervalMs: config.fundingIntervalMs,
    orderQueries: { clientOidScope: config.clientOidScope, lookupLagMs: config.lookupLagMs },
  });
  const tokens = new TokenRegistry({ now, lifetimeMs: config.wsSessionMs });
  const server = createServer();
  const wsHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const wsEndpoint = () => `ws://${wsHost}:${(server.address() as AddressInfo).port}/ws`;

  let ws: ReturnType<typeof attachSimWebSocket> | undefined;
  const app = createSimRestApp({
    engine,
    credentials: { ...config.credentials, keyVersion: config.keyVersion },
    quotas: { futures: config.futuresQuota, public: config.publicQuota },
    issueToken: (kind) => tokens.issue(kind),
    wsEndpoint,
    pingIntervalMs: config.wsPingIntervalMs,
    pingTimeoutMs: config.wsPingTimeoutMs,
    ws: { dropAll: () => ws?.dropAll() ?? 0, options: (change) => ws?.options(change) ?? { allOrders: 'orderChange', refuseTopics: [] }, expireTokens: () => tokens.expireAll(), connectionCount: () => ws?.connectionCount() ?? 0 },
    ...(logger ? { logger } : {}),
  });
  server.on('request', app.listener);

  // The engine emits every order event twice, as KuCoin pushes it on both order topics (docs/kucoin.md "The private WebSocket"). The
  // socket derives `orderChange` from `symbolOrderChange` itself (src/simulator/ws/server.ts,
  // PushSource), so it is fed the symbol form only; otherwise a client on both topics gets each twice.
  const feed = new EventEmitter<{ push: [SimPush] }>();
  const forward = (push: SimPush) => {
    if (!(push.topic === ORDERS && push.subject === 'orderChange')) feed.emit('push', push);
  };
  engine.on('push', forward);
  ws = attachSimWebSocket(server, {
    engine: feed,
    tokens,
    pingIntervalMs: config.wsPingIntervalMs,
    pingTimeoutMs: config.wsPingTimeoutMs,
    sessionMs: config.wsSessionMs,
    now,
    ...(logger ? { logger } : {}),
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (options.timers ?? true) engine.start();
  const port = (server.address() as AddressInfo).port;
  const httpHost = wsHost;

  return {
    port,
    url: `http://${httpHost}:${port}`,
    wsUrl: wsEndpoint(),
    engine,
    app,
    tokens,
    server,
    async close() {
      engine.stop();
      engine.off('push', forward);
      await ws?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
