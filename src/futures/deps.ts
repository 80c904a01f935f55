import type { Logger } from 'pino';
import type { KucoinClient } from '../kucoin/client.js';
import type { ContractCatalog } from './contract-catalog.js';
import type { MarginModeMemory } from './margin-mode.js';
import type { OrderDrafts } from './order-drafts.js';

/** What the futures services share: passed in, so tests can build them around an msw-mocked client. */
export interface FuturesDeps {
  client: KucoinClient;
  catalog: ContractCatalog;
  logger: Logger;
  /** Each symbol's known margin mode, so an order does not read it every time (margin-mode.ts). */
  marginModes?: MarginModeMemory;
  /** What was sent for orders placed lately, so the feed need not read them back (order-drafts.ts). */
  orderDrafts?: OrderDrafts;
}
