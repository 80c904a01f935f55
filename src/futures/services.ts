import type { Logger } from 'pino';
import type { KucoinClient } from '../kucoin/client.js';
import { ContractCatalog } from './contract-catalog.js';
import type { SharedRedis } from '../redis/shared-redis.js';
import { IdempotencyStore } from './idempotency.js';
import { RedisIdempotencyStore } from './idempotency-redis.js';
import { LeverageMemory, type LeverageDeps } from './leverage.js';
import { MarginModeMemory } from './margin-mode.js';
import { OrderDrafts } from './order-drafts.js';
import type { Unconfirmed } from './order-settlement.js';
import type { OrdersDeps, Placed } from './orders.js';

/** Everything the futures handlers need, built once per gateway around one KuCoin client. */
export type FuturesServices = OrdersDeps & Pick<LeverageDeps, 'riskLimitPushes' | 'riskLimitStream' | 'riskLimitPollMs'>;

/** How long a replica's claim on an idempotency key outlives its request's deadline before another may take it over. */
export const IDEMPOTENCY_LEASE_MARGIN_MS = 2_000;

/**
 * `stateDir`: where what must outlive the process is kept (STATE_DIR); none keeps it in memory.
 * `shared`: the Redis the replicas share (REDIS_URL), and UPSTREAM_DEADLINE_MS, the longest a
 * request runs: idempotency records are kept there; none keeps them in this process.
 */
export function createFuturesServices(client: KucoinClient, logger: Logger, stateDir?: string, shared?: { redis: SharedRedis; deadlineMs: number }): FuturesServices {
  return {
    client,
    logger,
    catalog: new ContractCatalog(client),
    idempotency: shared
      ? new RedisIdempotencyStore<Placed, Unconfirmed>({ shared: shared.redis, leaseMs: shared.deadlineMs + IDEMPOTENCY_LEASE_MARGIN_MS })
      : new IdempotencyStore<Placed, Unconfirmed>(),
    leverage: new LeverageMemory(stateDir === undefined ? { logger } : { file: LeverageMemory.fileIn(stateDir), logger }),
    marginModes: new MarginModeMemory(),
    orderDrafts: new OrderDrafts(),
  };
}
