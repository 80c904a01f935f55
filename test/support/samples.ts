/**
 * One concrete request per operation of openapi.yaml, valid as far as the contract goes, so tests
 * can walk the whole surface (a test checks this table covers every operation).
 */
export interface SampleRequest {
  method: string;
  path: string;
  json?: unknown;
}

export const sampleRequests: Record<string, SampleRequest> = {
  getHealth: { method: 'GET', path: '/api/health' },
  getOpenApiDocument: { method: 'GET', path: '/api/openapi.json' },
  getAsyncApiDocument: { method: 'GET', path: '/api/asyncapi.json' },
  getDocs: { method: 'GET', path: '/api/docs' },
  getWebSocketDocs: { method: 'GET', path: '/api/docs/websocket' },
  getDocsAsset: { method: 'GET', path: '/api/docs/assets/docs.js' },
  getMetrics: { method: 'GET', path: '/metrics' },
  getFuturesSwitch: { method: 'GET', path: '/api/admin/futures-switch' },
  getFuturesSwitchHistory: { method: 'GET', path: '/api/admin/futures-switch/history' },
  setFuturesSwitch: { method: 'PUT', path: '/api/admin/futures-switch', json: { enabled: true, reason: 'test' } },
  listPositions: { method: 'GET', path: '/api/futures/positions' },
  getPosition: { method: 'GET', path: '/api/futures/positions/BTCUSDTM' },
  closePosition: { method: 'DELETE', path: '/api/futures/positions/XBTUSDTM' },
  setLeverage: { method: 'PUT', path: '/api/futures/leverage', json: { symbol: 'BTCUSDTM', leverage: 5, marginMode: 'cross' } },
  getFundingRate: { method: 'GET', path: '/api/futures/funding/BTCUSDTM' },
  createOrder: { method: 'POST', path: '/api/futures/orders', json: { symbol: 'BTCUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } },
  listOrders: { method: 'GET', path: '/api/futures/orders?symbol=BTC-USDT' },
  getOrder: { method: 'GET', path: '/api/futures/orders/234125150956625920' },
  cancelOrder: { method: 'DELETE', path: '/api/futures/orders/234125150956625920' },
  getAccount: { method: 'GET', path: '/api/futures/account' },
  listContracts: { method: 'GET', path: '/api/futures/contracts' },
  getContract: { method: 'GET', path: '/api/futures/contracts/XBTUSDTM' },
};

export const futuresOperationIds = Object.entries(sampleRequests)
  .filter(([, sample]) => sample.path.startsWith('/api/futures'))
  .map(([operationId]) => operationId);
