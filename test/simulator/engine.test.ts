import { describe, expect, it } from 'vitest';
import { toOrder, toPosition, toAccount, toContract, toFundingRate } from '../../src/futures/mappers.js';
import { SimEngine, type SimPush } from '../../src/simulator/engine/engine.js';

const T0 = 1_731_916_800_000;

function makeEngine(seed = 1) {
  const clock = { t: T0 };
  const engine = new SimEngine({ seed, now: () => clock.t, markIntervalMs: 1_000, fundingIntervalMs: 60_000 });
  const pushes: SimPush[] = [];
  engine.on('push', (push) => pushes.push(push));
  return { engine, clock, pushes };
}

const market = (symbol: string, side: 'buy' | 'sell', size: number, extra: Record<string, unknown> = {}) => ({
  clientOid: `oid-${symbol}-${side}-${size}-${Math.random().toString(36).slice(2, 8)}`,
  symbol,
  side,
  type: 'market',
  size,
  leverage: 5,
  ...extra,
});

describe('market orders', () => {
  it('fill at the mark at once, as a taker, and open a position', () => {
    const { engine } = makeEngine();
    const { orderId } = engine.placeOrder(market('XBTUSDTM', 'buy', 10));
    const order = engine.order(orderId)!;
    expect(order).toMatchObject({ status: 'done', isActive: false, filledSize: 10, dealSize: 10, price: '0', avgDealPrice: '86378.7', value: '863.787' });
    const position = engine.position('XBTUSDTM');
    expect(position).toMatchObject({ currentQty: 10, isOpen: true, avgEntryPrice: 86378.7, posCost: 863.787, markValue: 863.787, unrealisedPnl: 0, marginMode: 'ISOLATED' });
    // Taker fee 0.06 % of 863.787 (contracts-active.json takerFeeRate).
    expect(position.currentComm).toBeCloseTo(0.5182722, 9);
    expect(position.realisedPnl).toBeCloseTo(-0.5182722, 9);
    expect(position.posInit).toBeCloseTo(863.787 / 5, 9);
  });

  it('mark moves change the unrealised PnL; closing realises it', () => {
    const { engine } = makeEngine();
    engine.placeOrder(market('XBTUSDTM', 'buy', 10));
    engine.setMark('XBTUSDTM', 87_000);
    const open = engine.position('XBTUSDTM');
    expect(open.unrealisedPnl).toBeCloseTo(10 * 0.001 * (87_000 - 86_378.7), 9);
    expect(open.unrealisedPnlPcnt).toBeCloseTo(open.unrealisedPnl / 863.787, 4);
    expect(open.unrealisedRoePcnt).toBeCloseTo(open.unrealisedPnl / open.posInit, 4);
    expect(engine.accountOverview('USDT').accountEquity).toBeCloseTo(engine.accountOverview('USDT').marginBalance + open.unrealisedPnl, 9);

    engine.placeOrder({ clientOid: 'close-1', symbol: 'XBTUSDTM', closeOrder: true, type: 'market' });
    const closed = engine.position('XBTUSDTM');
    expect(closed).toMatchObject({ currentQty: 0, isOpen: false, posMargin: 0, unrealisedPnl: 0 });
    expect(closed.realisedGrossPnl).toBeCloseTo(6.213, 9);
    const fees = 863.787 * 0.0006 + 870 * 0.0006;
    expect(closed.realisedPnl).toBeCloseTo(6.213 - fees, 9);
    expect(engine.accountOverview('USDT')).toMatchObject({ positionMargin: 0, orderMargin: 0, unrealisedPNL: 0 });
    expect(engine.accountOverview('USDT').availableBalance).toBeCloseTo(10_000 + 6.213 - fees, 9);
  });

  it('a short gains when the mark falls', () => {
    const { engine } = makeEngine();
    engine.placeOrder(market('ETHUSDTM', 'sell', 100, { leverage: 10 }));
    engine.setMark('ETHUSDTM', 1_700);
    const position = engine.position('ETHUSDTM');
    expect(position.currentQty).toBe(-100);
    expect(position.posCost).toBeCloseTo(-1803.76, 9);
    expect(position.unrealisedPnl).toBeCloseTo(100 * 0.01 * (1803.76 - 1700), 9);
    expect(position.liquidationPrice).toBeGreaterThan(1803.76);
  });

  it('an inverse position is costed in the coin (XBTUSDM, 1 lot = 1 USD)', () => {
    const { engine } = makeEngine();
    engine.placeOrder(market('XBTUSDM', 'buy', 1000, { leverage: 10 }));
    engine.setMark('XBTUSDM', 90_000);
    const position = engine.position('XBTUSDM');
    expect(position).toMatchObject({ isInverse: true, settleCurrency: 'XBT', currentQty: 1000 });
    // The SPEC-POS ETHUSDM example (docs/kucoin.md "Sources"): a long's cost is negative in coin.
    expect(position.posCost).toBeCloseTo(-1000 / 86_378.7, 12);
    expect(position.unrealisedPnl).toBeCloseTo(1000 / 86_378.7 - 1000 / 90_000, 12);
    expect(position.avgEntryPrice).toBeCloseTo(86_378.7, 6);
    expect(engine.accountOverview()).toMatchObject({ currency: 'XBT' });
    expect(engine.accountOverview().positionMargin).toBeGreaterThan(0);
  });
});

describe('limit orders', () => {
  it('rest until the mark crosses them, then fill at their own price as a maker', () => {
    const { engine, pushes } = makeEngine();
    const { orderId } = engine.placeOrder({ clientOid: 'lim-1', symbol: 'XBTUSDTM', side: 'buy', type: 'limit', price: '86000', size: 5, leverage: 10 });
    expect(engine.order(orderId)).toMatchObject({ status: 'open', isActive: true, filledSize: 0, endAt: null });
    expect(engine.accountOverview('USDT').orderMargin).toBeCloseTo((5 * 0.001 * 86_000) / 10, 9);
    engine.setMark('XBTUSDTM', 86_100);
    expect(engine.order(orderId)!.status).toBe('open');
    pushes.length = 0;
    engine.setMark('XBTUSDTM', 85_999.9);
    expect(engine.order(orderId)).toMatchObject({ status: 'done', filledSize: 5, avgDealPrice: '86000' });
    expect(engine.position('XBTUSDTM')).toMatchObject({ currentQty: 5, avgEntryPrice: 86_000 });
    expect(engine.position('XBTUSDTM').currentComm).toBeCloseTo(430 * 0.0002, 9);
    expect(engine.accountOverview('USDT').orderMargin).toBe(0);
    const match = pushes.find((p) => p.subject === 'symbolOrderChange' && (p.data as { type: string }).type === 'match');
    expect(match?.data).toMatchObject({ matchPrice: '86000', matchSize: '5', liquidity: 'maker', feeType: 'makerFee', tradeType: 'trade' });
  });

  it('a marketable limit fills at once at the mark; post-only would take, so it is cancelled', () => {
    const { engine } = makeEngine();
    const taker = engine.placeOrder({ clientOid: 'lim-2', symbol: 'XBTUSDTM', side: 'buy', type: 'limit', price: '87000', size: 1, leverage: 10 });
    expect(engine.order(taker.orderId)).toMatchObject({ status: 'done', filledSize: 1, avgDealPrice: '86378.7' });
    const postOnly = engine.placeOrder({ clientOid: 'lim-3', symbol: 'XBTUSDTM', side: 'buy', type: 'limit', price: '87000', size: 1, leverage: 10, postOnly: true });
    expect(engine.order(postOnly.orderId)).toMatchObject({ status: 'done', filledSize: 0, cancelExist: true });
  });

  it('cancel: the order is done and its margin freed', () => {
    const { engine } = makeEngine();
    const { orderId } = engine.placeOrder({ clientOid: 'lim-4', symbol: 'SOLUSDTM', side: 'sell', type: 'limit', price: '180', size: 3, leverage: 3 });
    expect(engine.cancelOrder(orderId)).toEqual({ cancelledOrderIds: [orderId] });
    expect(engine.order(orderId)).toMatchObject({ status: 'done', cancelExist: true, isActive: false });
    expect(engine.accountOverview('USDT').orderMargin).toBe(0);
  });

  it('reduce-only fills only what reduces the position and cancels the rest', () => {
    const { engine } = makeEngine();
    engine.placeOrder(market('XBTUSDTM', 'buy', 3));
    const { orderId } = engine.placeOrder(market('XBTUSDTM', 'sell', 5, { reduceOnly: true }));
    expect(engine.order(orderId)).toMatchObject({ status: 'done', filledSize: 3, cancelExist: true, reduceOnly: true });
    expect(engine.position('XBTUSDTM').currentQty).toBe(0);
  });
});

describe('the gateway mappers read every engine payload', () => {
  it('positions, orders, account, contracts and funding rates map without throwing', () => {
    const { engine } = makeEngine();
    engine.placeOrder(market('XBTUSDTM', 'buy', 2));
    engine.placeOrder({ clientOid: 'resting', symbol: 'ETHUSDTM', side: 'buy', type: 'limit', price: '1700', size: 1, leverage: 2 });
    engine.changeMarginMode({ symbol: 'SOLUSDTM', marginMode: 'CROSS' });
    engine.placeOrder(market('SOLUSDTM', 'sell', 4, { marginMode: 'CROSS' }));
    engine.placeOrder(market('XBTUSDM', 'buy', 100));
    for (const contract of engine.contracts()) {
      expect(() => toContract(contract)).not.toThrow();
      expect(() => toPosition(engine.position(contract.symbol), contract)).not.toThrow();
      expect(toFundingRate(engine.fundingRate(contract.symbol), contract).fundingRateSymbol).toBe(`.${contract.symbol}FPI8H`);
    }
    expect(toPosition(engine.position('SOLUSDTM'), engine.contract('SOLUSDTM'))).toMatchObject({ marginMode: 'cross', side: 'SHORT', qty: -4, riskLimitLevel: null });
    for (const order of [...engine.listOrders({ status: 'done' }).items, ...engine.listOrders({ status: 'active' }).items]) {
      expect(() => toOrder(order, engine.contract(order.symbol))).not.toThrow();
    }
    expect(() => toAccount(engine.accountOverview('USDT'))).not.toThrow();
    expect(() => toAccount(engine.accountOverview('XBT'))).not.toThrow();
  });
});
