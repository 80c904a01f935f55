import { describe, expect, it } from 'vitest';
import { SimEngine, SimError } from '../../src/simulator/engine/engine.js';

function makeEngine() {
  return new SimEngine({ seed: 7, now: () => 1_731_916_800_000, markIntervalMs: 1_000, fundingIntervalMs: 60_000 });
}

const order = (over: Record<string, unknown> = {}) => ({ clientOid: 'c1', symbol: 'XBTUSDTM', side: 'buy', type: 'market', size: 1, leverage: 5, ...over });

/** The KuCoin code a call refused with. */
function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    if (error instanceof SimError) return error.code;
    throw error;
  }
  return undefined;
}

describe('order refusals carry KuCoin codes (docs/kucoin.md "Error codes")', () => {
  const cases: [string, { setup?: (e: SimEngine) => void; body: Record<string, unknown>; want: string }][] = [
    ['unknown symbol: 100003', { body: order({ symbol: 'BTCUSDTM' }), want: '100003' }],
    ['missing clientOid: 100001', { body: order({ clientOid: undefined }), want: '100001' }],
    ['clientOid too long: 100001', { body: order({ clientOid: 'x'.repeat(41) }), want: '100001' }],
    ['repeated clientOid: 300018', { setup: (e) => e.placeOrder(order({ clientOid: 'dup' })), body: order({ clientOid: 'dup' }), want: '300018' }],
    ['order margin mode differs from the symbol: 330005', { body: order({ marginMode: 'CROSS' }), want: '330005' }],
    ['order without margin mode on a CROSS symbol: 330005', { setup: (e) => e.changeMarginMode({ symbol: 'XBTUSDTM', marginMode: 'CROSS' }), body: order(), want: '330005' }],
    ['balance too small: 300003', { body: order({ size: 200, leverage: 1 }), want: '300003' }],
    ['leverage above the contract: 300016', { body: order({ leverage: 126 }), want: '300016' }],
    ['leverage above the risk-limit tier: 300016', { setup: (e) => e.changeRiskLimitLevel({ symbol: 'XBTUSDTM', level: 3 }), body: order({ leverage: 100 }), want: '300016' }],
    ['buy above 1.05 × mark: 300011', { body: order({ type: 'limit', price: '91000' }), want: '300011' }],
    ['sell below 0.95 × mark: 300012', { body: order({ side: 'sell', type: 'limit', price: '82000' }), want: '300012' }],
    ['price off the tick: 100001', { body: order({ type: 'limit', price: '86000.05' }), want: '100001' }],
    ['limit without price: 100001', { body: order({ type: 'limit' }), want: '100001' }],
    ['close a flat position: 300009', { body: { clientOid: 'close', symbol: 'XBTUSDTM', closeOrder: true, type: 'market' }, want: '300009' }],
    ['position value above the risk limit: 300005', { body: order({ size: 120_000, leverage: 125 }), want: '300005' }],
    ['fractional lots: 100001', { body: order({ size: 1.5 }), want: '100001' }],
  ];
  it.each(cases)('%s', (_title, { setup, body, want }) => {
    const engine = makeEngine();
    setup?.(engine);
    expect(codeOf(() => engine.placeOrder(body))).toBe(want);
  });

  it('at the band edge the order is accepted', () => {
    const engine = makeEngine();
    const buyLimit = engine.contract('XBTUSDTM').buyLimit!;
    expect(codeOf(() => engine.placeOrder(order({ type: 'limit', price: String(buyLimit) })))).toBeUndefined();
  });
});

describe('cancels', () => {
  it('a done order cannot be cancelled (100004); an unknown one is 100001 error.getOrder.orderNotExist, as KuCoin answers', () => {
    const engine = makeEngine();
    const { orderId } = engine.placeOrder(order());
    expect(codeOf(() => engine.cancelOrder(orderId))).toBe('100004');
    expect(codeOf(() => engine.cancelOrder('999'))).toBe('100001');
    expect(() => engine.cancelOrder('999')).toThrow('error.getOrder.orderNotExist');
  });

  it('by clientOid needs the symbol; cancel-all cancels every open order of the symbol', () => {
    const engine = makeEngine();
    engine.placeOrder(order({ clientOid: 'r1', type: 'limit', price: '85000' }));
    engine.placeOrder(order({ clientOid: 'r2', type: 'limit', price: '84000' }));
    engine.placeOrder(order({ clientOid: 'r3', type: 'limit', price: '83000' }));
    expect(codeOf(() => engine.cancelByClientOid('r1', null))).toBe('100001');
    expect(engine.cancelByClientOid('r1', 'XBTUSDTM')).toEqual({ clientOid: 'r1' });
    expect(engine.cancelAll('XBTUSDTM').cancelledOrderIds).toHaveLength(2);
    expect(engine.listOrders({ status: 'active' }).totalNum).toBe(0);
  });
});

describe('margin mode and leverage (docs/kucoin.md "Leverage, margin mode and risk limits")', () => {
  it('starts ISOLATED; switching is refused with 50002 while an order or a position exists', () => {
    const engine = makeEngine();
    expect(engine.marginMode('ETHUSDTM')).toEqual({ symbol: 'ETHUSDTM', marginMode: 'ISOLATED' });
    const resting = engine.placeOrder(order({ clientOid: 'm1', symbol: 'ETHUSDTM', type: 'limit', price: '1700' }));
    expect(() => engine.changeMarginMode({ symbol: 'ETHUSDTM', marginMode: 'CROSS' })).toThrow(expect.objectContaining({ code: '50002', message: 'exist.order.or.position' }));
    engine.cancelOrder(resting.orderId);
    engine.placeOrder(order({ clientOid: 'm2', symbol: 'ETHUSDTM' }));
    expect(codeOf(() => engine.changeMarginMode({ symbol: 'ETHUSDTM', marginMode: 'CROSS' }))).toBe('50002');
    engine.placeOrder({ clientOid: 'm3', symbol: 'ETHUSDTM', closeOrder: true, type: 'market' });
    expect(engine.changeMarginMode({ symbol: 'ETHUSDTM', marginMode: 'CROSS' })).toEqual({ symbol: 'ETHUSDTM', marginMode: 'CROSS' });
  });

  it('cross positions use the symbol cross leverage, whatever the order says', () => {
    const engine = makeEngine();
    engine.changeMarginMode({ symbol: 'XBTUSDTM', marginMode: 'CROSS' });
    expect(engine.changeCrossLeverage({ symbol: 'XBTUSDTM', leverage: '10' })).toBe(true);
    expect(engine.crossLeverage('XBTUSDTM')).toEqual({ symbol: 'XBTUSDTM', leverage: '10' });
    engine.placeOrder(order({ marginMode: 'CROSS', size: 10, leverage: 2 }));
    const position = engine.position('XBTUSDTM');
    expect(position).toMatchObject({ crossMode: true, marginMode: 'CROSS', leverage: 10 });
    expect(position.posInit).toBeCloseTo(863.787 / 10, 9);
    expect(position).not.toHaveProperty('riskLimitLevel');
    expect(codeOf(() => engine.changeCrossLeverage({ symbol: 'XBTUSDTM', leverage: '200' }))).toBe('300016');
  });

  it('the risk-limit level is isolated-only, answers true and cancels open orders', () => {
    const engine = makeEngine();
    engine.placeOrder(order({ clientOid: 'k1', type: 'limit', price: '85000' }));
    expect(engine.changeRiskLimitLevel({ symbol: 'XBTUSDTM', level: 2 })).toBe(true);
    expect(engine.position('XBTUSDTM').riskLimitLevel).toBe(2);
    expect(engine.listOrders({ status: 'active' }).totalNum).toBe(0);
    expect(codeOf(() => engine.changeRiskLimitLevel({ symbol: 'XBTUSDTM', level: 13 }))).toBe('100001');
    engine.changeMarginMode({ symbol: 'XBTUSDTM', marginMode: 'CROSS' });
    expect(codeOf(() => engine.changeRiskLimitLevel({ symbol: 'XBTUSDTM', level: 1 }))).toBe('300000');
  });

  it('the XBTUSDTM tiers are the fixture (SPEC-POS), 12 levels from 125x to 1x', () => {
    const tiers = makeEngine().riskLimitTiers('XBTUSDTM');
    expect(tiers).toHaveLength(12);
    expect(tiers[0]).toEqual({ symbol: 'XBTUSDTM', level: 1, maxRiskLimit: 100000, minRiskLimit: 0, maxLeverage: 125, initialMargin: 0.008, maintainMargin: 0.004 });
    expect(tiers.map((t) => t.maxLeverage)).toEqual([125, 100, 75, 50, 30, 20, 10, 5, 4, 3, 2, 1]);
  });
});

describe('order queries (docs/kucoin.md "Orders: clientOid, lookups and what the gateway does")', () => {
  it('lists by status with symbol/side filters and a page envelope, newest first', () => {
    const engine = makeEngine();
    for (let i = 0; i < 5; i++) engine.placeOrder(order({ clientOid: `p${i}`, type: 'limit', price: String(85_000 - i * 10), side: 'buy' }));
    engine.placeOrder(order({ clientOid: 's1', type: 'limit', price: '87000', side: 'sell' }));
    engine.placeOrder(order({ clientOid: 'e1', symbol: 'ETHUSDTM', type: 'limit', price: '1700' }));
    const page = engine.listOrders({ status: 'active', symbol: 'XBTUSDTM', side: 'buy', pageSize: '2', currentPage: '2' });
    expect(page).toMatchObject({ currentPage: 2, pageSize: 2, totalNum: 5, totalPage: 3 });
    expect(page.items.map((o) => o.clientOid)).toEqual(['p2', 'p1']);
    expect(engine.listOrders({ status: 'done' }).totalNum).toBe(0);
    expect(engine.listOrders({}).totalNum).toBe(0);
    expect(codeOf(() => engine.listOrders({ status: 'open' }))).toBe('100001');
  });

  it('finds an order by id and by clientOid; an unknown clientOid is null, an unknown id 100001 error.getOrder.orderNotExist', () => {
    const engine = makeEngine();
    const { orderId } = engine.placeOrder(order({ clientOid: 'find-me' }));
    expect(engine.orderByClientOid('find-me')?.id).toBe(orderId);
    expect(engine.order(orderId)?.clientOid).toBe('find-me');
    expect(engine.orderByClientOid('nobody')).toBeNull();
    expect(codeOf(() => engine.order('1'))).toBe('100001');
    expect(() => engine.order('1')).toThrow('error.getOrder.orderNotExist');
  });

  it('a test order is validated but never exists', () => {
    const engine = makeEngine();
    const placed = engine.placeOrder(order({ clientOid: 't1' }), { test: true });
    expect(codeOf(() => engine.order(placed.orderId))).toBe('100001');
    expect(engine.position('XBTUSDTM').currentQty).toBe(0);
    expect(codeOf(() => engine.placeOrder(order({ clientOid: 't2', leverage: 500 }), { test: true }))).toBe('300016');
  });
});
