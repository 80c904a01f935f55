import type { Logger } from 'pino';
import type { FuturesServices } from '../../futures/services.js';
import type { GatewayConfig } from '../../config/config.js';
import type { Metrics } from '../../observability/metrics.js';
import type { FuturesSwitch } from '../../switch/futures-switch.js';
import type { JsonObject } from '../../contract/documents.js';
import type { KeyRing } from '../../edge/security.js';
import type { AccountView } from '../../account/account-view.js';

/** What handlers may use: passed in, never imported as singletons, so a test builds them around its own. */
export interface HandlerDeps {
  config: GatewayConfig;
  logger: Logger;
  metrics: Metrics;
  futuresSwitch: FuturesSwitch;
  /** The configured gateway and admin keys; which one a request presents. */
  keys: KeyRing;
  version: string;
  startedAt: number;
  documents: { openapi: JsonObject; asyncapi: JsonObject; docsHtml: string };
  /** The futures operations' services around the KuCoin client. */
  futures: FuturesServices;
  /** The live account state: serves the position and order lists and fences the writes; none in tests that need neither. */
  accountView?: AccountView;
  /** How many /ws/futures sockets the last change of the kill switch to off closed. */
  closedSockets: () => number;
}
