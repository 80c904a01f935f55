import type { Logger } from 'pino';
import type { KucoinClient } from '../kucoin/client.js';
import type { ContractCatalog } from './contract-catalog.js';

/** What the futures services share: passed in, so tests can build them around an msw-mocked client. */
export interface FuturesDeps {
  client: KucoinClient;
  catalog: ContractCatalog;
  logger: Logger;
}
