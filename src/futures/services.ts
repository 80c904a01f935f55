import type { Logger } from 'pino';
import type { KucoinClient } from '../kucoin/client.js';
import { ContractCatalog } from './contract-catalog.js';
import { IdempotencyStore } from './idempotency.js';
import { LeverageMemory } from './leverage.js';
import { MarginModeMemory } from './margin-mode.js';
import { OrderDrafts } from './order-drafts.js';
import type { OrdersDeps, Placed } from './orders.js';
import type { AccountView } from '../ws/account-view.js';

/** Everything the futures handlers need, built once per gateway around one KuCoin client. */
export interface FuturesServices extends OrdersDeps {
  /** The list reads served from the live feed when it is current (src/ws/account-view.ts); set by the gateway. */
  accountView?: AccountView;
}

export function createFuturesServices(client: KucoinClient, logger: Logger): FuturesServices {
  return {
    client,
    logger,
    catalog: new ContractCatalog(client),
    idempotency: new IdempotencyStore<Placed>(),
    leverage: new LeverageMemory(),
    marginModes: new MarginModeMemory(),
    orderDrafts: new OrderDrafts(),
  };
}
