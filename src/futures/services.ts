import type { Logger } from 'pino';
import type { KucoinClient } from '../kucoin/client.js';
import { ContractCatalog } from './contract-catalog.js';
import { IdempotencyStore } from './idempotency.js';
import { LeverageMemory, type LeverageDeps } from './leverage.js';
import { MarginModeMemory } from './margin-mode.js';
import { OrderDrafts } from './order-drafts.js';
import type { Unconfirmed } from './order-settlement.js';
import type { OrdersDeps, Placed } from './orders.js';

/** Everything the futures handlers need, built once per gateway around one KuCoin client. */
export type FuturesServices = OrdersDeps & Pick<LeverageDeps, 'riskLimitPushes' | 'riskLimitStream' | 'riskLimitPollMs'>;

/** `stateDir`: where what must outlive the process is kept (STATE_DIR); none keeps it in memory. */
export function createFuturesServices(client: KucoinClient, logger: Logger, stateDir?: string): FuturesServices {
  return {
    client,
    logger,
    catalog: new ContractCatalog(client),
    idempotency: new IdempotencyStore<Placed, Unconfirmed>(),
    leverage: new LeverageMemory(stateDir === undefined ? { logger } : { file: LeverageMemory.fileIn(stateDir), logger }),
    marginModes: new MarginModeMemory(),
    orderDrafts: new OrderDrafts(),
  };
}
