/**
 * The gateway's own KuCoin client (src/kucoin/client.ts) against the simulator: every endpoint of
 * src/kucoin/endpoints.ts answers, so signing, envelopes and clock sync agree on both sides, and
 * the gateway's mappers read every answer.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAccount, toContract, toFundingRate, toOrder, toOrderPage, toPosition } from '../../src/futures/mappers.js';
import { GatewayError } from '../../src/errors.js';
import { KucoinClient } from '../../src/kucoin/client.js';
import { endpoints } from '../../src/kucoin/endpoints.js';
import type {
  KucoinAccountOverview,
  KucoinContract,
  KucoinCrossLeverage,
  KucoinFundingRate,
  KucoinMarginModeResult,
  KucoinOrder,
  KucoinOrderPage,
  KucoinOrderPlaced,
  KucoinPosition,
  KucoinRiskLimitTier,
} from '../../src/kucoin/payloads.js';
import { RateBudget } from '../../src/kucoin/rate-budget.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { loadSimConfig } from '../../src/simulator/config.js';
import type { KucoinBullet } from '../../src/simulator/rest/routes.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';

// The simulator runs a minute ahead: the client must sync its clock (GET /api/v1/timestamp) to sign.
const AHEAD_MS = 60_000;
const config = loadSimConfig({ SIM_PORT: '0' });
let sim: RunningSimulator;
let client: KucoinClient;
const called = new Set<string>();

beforeAll(async () => {
  sim = await startSimulator({ config, now: () => Date.now() + AHEAD_MS, timers: false });
  client = new KucoinClient({
    baseUrl: sim.url,
    credentials: config.credentials,
    keyVersion: config.keyVersion,
    timeoutMs: 2_000,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    budget: new RateBudget({ limits: { futures: 2000, public: 2000 } }),
    readAttempts: 1,
  });
});
afterAll(() => sim.close());

async function call<T>(name: keyof typeof endpoints, options: Parameters<KucoinClient['call']>[1]): Promise<T> {
  called.add(name);
  return client.call<T>(name, options);
}

describe('every gateway endpoint through KucoinClient', () => {
  it('market data: timestamp, contracts, one contract, funding rate, risk limits', async () => {
    const serverTime = await call<number>('timestamp', { scope: null, context: 'time' });
    expect(Math.abs(serverTime - (Date.now() + AHEAD_MS))).toBeLessThan(2_000);
    const contracts = await call<KucoinContract[]>('contractsActive', { scope: null, context: 'contracts' });
    expect(contracts.map((c) => c.symbol)).toEqual(['XBTUSDTM', 'ETHUSDTM', 'SOLUSDTM', 'XBTUSDM']);
    expect(contracts.map(toContract).map((c) => [c.symbol, c.multiplier, c.tickSize, c.maxLeverage, c.isInverse])).toEqual([
      ['XBTUSDTM', 0.001, 0.1, 125, false],
      ['ETHUSDTM', 0.01, 0.01, 100, false],
      ['SOLUSDTM', 0.1, 0.001, 75, false],
      ['XBTUSDM', 1, 0.1, 100, true],
    ]);
    const xbtusdm = await call<KucoinContract>('contract', { params: { symbol: 'XBTUSDM' }, scope: null, context: 'contract' });
    expect(xbtusdm).toMatchObject({ multiplier: -1, settleCurrency: 'XBT', isInverse: true });
    const funding = await call<KucoinFundingRate>('fundingRate', { params: { symbol: 'XBTUSDTM' }, scope: null, context: 'funding' });
    expect(toFundingRate(funding, contracts[0]!)).toMatchObject({ symbol: 'XBTUSDTM', fundingRateSymbol: '.XBTUSDTMFPI8H' });
    const tiers = await call<KucoinRiskLimitTier[]>('riskLimitTiers', { params: { symbol: 'XBTUSDTM' }, scope: null, context: 'tiers' });
    expect(tiers).toHaveLength(12);
  });

  it('account and positions', async () => {
    const overview = await call<KucoinAccountOverview>('accountOverview', { query: { currency: 'USDT' }, scope: null, context: 'account' });
    expect(toAccount(overview)).toMatchObject({ currency: 'USDT', equity: 10_000, availableBalance: 10_000 });
    expect(await call<KucoinPosition[]>('positions', { query: { currency: 'USDT' }, scope: null, context: 'positions' })).toEqual([]);
    const flat = await call<KucoinPosition>('position', { query: { symbol: 'ETHUSDTM' }, scope: null, context: 'position' });
    expect(toPosition(flat, { baseCurrency: 'ETH', multiplier: 0.01 })).toMatchObject({ side: 'FLAT', qty: 0 });
  });

  it('margin mode, cross leverage and risk-limit level', async () => {
    expect(await call<KucoinMarginModeResult>('getMarginMode', { query: { symbol: 'SOLUSDTM' }, scope: null, context: 'mode' })).toEqual({ symbol: 'SOLUSDTM', marginMode: 'ISOLATED' });
    expect(await call<KucoinMarginModeResult>('changeMarginMode', { body: { symbol: 'SOLUSDTM', marginMode: 'CROSS' }, scope: null, context: 'mode' })).toEqual({ symbol: 'SOLUSDTM', marginMode: 'CROSS' });
    expect(await call<boolean>('changeCrossLeverage', { body: { symbol: 'SOLUSDTM', leverage: '8' }, scope: null, context: 'lev' })).toBe(true);
    expect(await call<KucoinCrossLeverage>('getCrossLeverage', { query: { symbol: 'SOLUSDTM' }, scope: null, context: 'lev' })).toEqual({ symbol: 'SOLUSDTM', leverage: '8' });
    expect(await call<boolean>('changeRiskLimitLevel', { body: { symbol: 'XBTUSDTM', level: 2 }, scope: null, context: 'risk' })).toBe(true);
  });

  it('orders: place, look up by id and clientOid, list, cancel; positions follow', async () => {
    const placed = await call<KucoinOrderPlaced>('placeOrder', {
      body: { clientOid: 'rest-limit-1', side: 'buy', symbol: 'XBTUSDTM', type: 'limit', price: '80000', size: 2, leverage: 10, marginMode: 'ISOLATED' },
      context: 'placing',
      scope: null,
    });
    expect(placed.clientOid).toBe('rest-limit-1');
    const contract = { baseCurrency: 'XBT', multiplier: 0.001 };
    const byId = await call<KucoinOrder>('getOrder', { params: { orderId: placed.orderId }, scope: null, context: 'order' });
    expect(toOrder(byId, contract)).toMatchObject({ status: 'open', price: 80000, qty: 2, marginMode: 'isolated' });
    expect((await call<KucoinOrder>('getOrderByClientOid', { query: { clientOid: 'rest-limit-1' }, scope: null, context: 'oid' })).id).toBe(placed.orderId);
    // An unknown clientOid with characters that need URL-encoding: signed unencoded, answered null.
    expect(await call<KucoinOrder | null>('getOrderByClientOid', { query: { clientOid: 'no such!@# oid' }, scope: null, context: 'oid' })).toBeNull();
    const page = await call<KucoinOrderPage>('listOrders', { query: { status: 'active', symbol: 'XBTUSDTM', side: 'buy', currentPage: 1, pageSize: 50 }, scope: null, context: 'list' });
    expect(toOrderPage(page, () => contract)).toMatchObject({ page: 1, total: 1 });
    expect(await call<{ cancelledOrderIds: string[] }>('cancelOrder', { params: { orderId: placed.orderId }, scope: null, context: 'cancel' })).toEqual({ cancelledOrderIds: [placed.orderId] });
    const done = await call<KucoinOrderPage>('listDoneOrders', { query: { status: 'done', symbol: 'XBTUSDTM', startAt: Date.now() - 60_000, currentPage: 1, pageSize: 1000 }, scope: null, context: 'done' });
    expect(done.items.map((o) => o.clientOid)).toEqual(['rest-limit-1']);

    await call('placeOrder', { body: { clientOid: 'rest-mkt-1', side: 'sell', symbol: 'XBTUSDTM', type: 'market', size: 3, leverage: 5, marginMode: 'ISOLATED' }, scope: null, context: 'placing' });
    const [position] = await call<KucoinPosition[]>('positions', { query: { currency: 'USDT' }, scope: null, context: 'positions' });
    expect(toPosition(position!, contract)).toMatchObject({ symbol: 'XBTUSDTM', side: 'SHORT', qty: -3, marginMode: 'isolated', riskLimitLevel: 2 });
    await call('placeOrder', { body: { clientOid: 'rest-close-1', symbol: 'XBTUSDTM', closeOrder: true, type: 'market' }, scope: null, context: 'closing' });
    expect(toPosition(await call<KucoinPosition>('position', { query: { symbol: 'XBTUSDTM' }, scope: null, context: 'position' }), contract).side).toBe('FLAT');
  });

  it('bullet-private: a token and this simulator as the instance server', async () => {
    const bullet = await call<KucoinBullet>('bulletPrivate', { scope: null, context: 'bullet' });
    expect(sim.tokens.check(bullet.token)).toBe('private');
    expect(bullet.instanceServers).toEqual([{ endpoint: `ws://127.0.0.1:${sim.port}/ws`, encrypt: false, protocol: 'websocket', pingInterval: 18_000, pingTimeout: 10_000 }]);
  });

  it('covered every endpoint the gateway knows', () => {
    expect([...called].sort()).toEqual(Object.keys(endpoints).sort());
  });
});

describe('KuCoin refusals reach the gateway as its typed errors', () => {
  const cases: [string, { body: Record<string, unknown>; code: string; upstream: string }][] = [
    ['repeated clientOid', { body: { clientOid: 'rest-mkt-1', side: 'buy', symbol: 'XBTUSDTM', type: 'market', size: 1, leverage: 5 }, code: 'DUPLICATE_CLIENT_OID', upstream: '300018' }],
    ['margin mode mismatch', { body: { clientOid: 'mm-1', side: 'buy', symbol: 'SOLUSDTM', type: 'market', size: 1, leverage: 5 }, code: 'MARGIN_MODE_MISMATCH', upstream: '330005' }],
    ['unknown contract', { body: { clientOid: 'uc-1', side: 'buy', symbol: 'BTCUSDTM', type: 'market', size: 1, leverage: 5 }, code: 'UNKNOWN_SYMBOL', upstream: '100003' }],
    ['balance', { body: { clientOid: 'bal-1', side: 'buy', symbol: 'ETHUSDTM', type: 'market', size: 600, leverage: 1 }, code: 'INSUFFICIENT_BALANCE', upstream: '300003' }],
    ['price band', { body: { clientOid: 'pb-1', side: 'sell', symbol: 'ETHUSDTM', type: 'limit', price: '1000', size: 1, leverage: 1 }, code: 'PRICE_OUT_OF_BAND', upstream: '300012' }],
  ];
  it.each(cases)('%s', async (_title, { body, code, upstream }) => {
    const error = await client.call('placeOrder', { body, scope: null, context: 'placing' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code, options: { upstream: { code: upstream } } });
  });
});
