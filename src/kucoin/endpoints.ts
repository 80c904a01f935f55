/**
 * The KuCoin endpoints the gateway calls, with their resource pool and weight (docs/kucoin.md "REST endpoints the gateway calls",
 * from the Universal SDK's `x-api-rate-limit-*`). `idempotent` marks what may be retried.
 */
export type Pool = 'futures' | 'public';

export interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path template with `{name}` parameters, as in KuCoin's docs. */
  path: string;
  signed: boolean;
  pool: Pool;
  weight: number;
  idempotent: boolean;
  /** What it spends of the rate budget: writes may use the part reads cannot (src/kucoin/rate-budget.ts). */
  spend: 'read' | 'write';
}

const read = (path: string, pool: Pool, weight: number, signed = true): Endpoint => ({ method: 'GET', path, signed, pool, weight, idempotent: true, spend: 'read' });
const write = (method: 'POST' | 'DELETE', path: string, weight: number): Endpoint => ({ method, path, signed: true, pool: 'futures', weight, idempotent: false, spend: 'write' });

export const endpoints = {
  timestamp: read('/api/v1/timestamp', 'public', 2, false),
  accountOverview: read('/api/v1/account-overview', 'futures', 5),
  positions: read('/api/v1/positions', 'futures', 2),
  position: read('/api/v1/position', 'futures', 2),
  placeOrder: write('POST', '/api/v1/orders', 2),
  cancelOrder: write('DELETE', '/api/v1/orders/{orderId}', 1),
  listOrders: read('/api/v1/orders', 'futures', 2),
  getOrder: read('/api/v1/orders/{orderId}', 'futures', 5),
  // The reads below serve only a write (src/futures): the lookup that settles an order placement
  // whose answer was lost, the margin mode an order, close or leverage change must match, the tiers
  // a leverage change picks from. They spend as the write they belong to, so no client's reads can
  // leave an order, close or leverage change without them.
  getOrderByClientOid: { ...read('/api/v1/orders/byClientOid', 'futures', 5), spend: 'write' },
  // The order list again (api-3470244), read for its done orders by that reconciliation: the lookup
  // by clientOid may see active orders only (Kucoin/kucoin-api-docs #287).
  listDoneOrders: { ...read('/api/v1/orders', 'futures', 2), spend: 'write' },
  getMarginMode: { ...read('/api/v2/position/getMarginMode', 'futures', 2), spend: 'write' },
  changeMarginMode: write('POST', '/api/v2/position/changeMarginMode', 2),
  getCrossLeverage: read('/api/v2/getCrossUserLeverage', 'futures', 2),
  changeCrossLeverage: write('POST', '/api/v2/changeCrossUserLeverage', 2),
  // Marked private with no permission in the SDK spec; TS and CCXT sign it (docs/kucoin.md "REST endpoints the gateway calls").
  riskLimitTiers: { ...read('/api/v1/contracts/risk-limit/{symbol}', 'public', 5), spend: 'write' },
  changeRiskLimitLevel: write('POST', '/api/v1/position/risk-limit-level/change', 5),
  // Public (`x-api-channel: Public`, https://www.kucoin.com/docs-new/api-3470265): never signed,
  // credentials or not. Its `x-api-permission: Futures` is a catalogue tag, not a key requirement.
  fundingRate: read('/api/v1/funding-rate/{symbol}/current', 'public', 2, false),
  contractsActive: read('/api/v1/contracts/active', 'public', 3, false),
  contract: read('/api/v1/contracts/{symbol}', 'public', 3, false),
  bulletPrivate: write('POST', '/api/v1/bullet-private', 10),
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof endpoints;
