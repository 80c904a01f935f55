import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimEngine, type SimPush } from '../../src/simulator/engine/engine.js';

const T0 = 1_731_916_800_000; // on the 60 s grid
const FUNDING_MS = 60_000;

function makeEngine(seed = 1) {
  const clock = { t: T0 + 1_000 };
  const engine = new SimEngine({ seed, now: () => clock.t, markIntervalMs: 1_000, fundingIntervalMs: FUNDING_MS });
  const pushes: SimPush[] = [];
  engine.on('push', (push) => pushes.push(push));
  return { engine, clock, pushes };
}

const subjects = (pushes: SimPush[]) => pushes.map((p) => `${p.topic} ${p.subject}`);

describe('funding (docs/kucoin.md "Fields and units")', () => {
  it('reports the current rate on the funding-rate symbol, next settlement on the grid', () => {
    const { engine } = makeEngine();
    expect(engine.fundingRate('XBTUSDTM')).toEqual({
      symbol: '.XBTUSDTMFPI8H',
      granularity: FUNDING_MS,
      timePoint: T0,
      value: 0.000052,
      predictedValue: 0.000052,
      fundingRateCap: 0.003,
      fundingRateFloor: -0.003,
      period: 0,
      fundingTime: T0 + FUNDING_MS,
    });
    expect(engine.contract('XBTUSDTM').nextFundingRateTime).toBe(FUNDING_MS - 1_000);
  });

  it('settles when due: a long pays a positive rate from its isolated margin, with KuCoin\'s funding pushes', () => {
    const { engine, clock, pushes } = makeEngine();
    engine.placeOrder({ clientOid: 'f1', symbol: 'XBTUSDTM', side: 'buy', type: 'market', size: 100, leverage: 10 });
    engine.setMark('XBTUSDTM', 86_378.7, true);
    const before = engine.accountOverview('USDT');
    pushes.length = 0;
    clock.t = T0 + FUNDING_MS;
    engine.tick();

    const fee = 100 * 0.001 * 86_378.7 * 0.000052;
    const position = engine.position('XBTUSDTM');
    expect(position.posFunding).toBeCloseTo(-fee, 9);
    expect(position.realisedPnl).toBeCloseTo(-(8637.87 * 0.0006) - fee, 9);
    expect(engine.accountOverview('USDT').marginBalance).toBeCloseTo(before.marginBalance - fee, 9);
    // Paid from the position's margin: the available balance does not move.
    expect(engine.accountOverview('USDT').availableBalance).toBeCloseTo(before.availableBalance, 9);

    const settlement = pushes.find((p) => p.subject === 'position.settlement')!;
    expect(settlement).toMatchObject({ topic: '/contract/position:XBTUSDTM', private: true });
    expect(settlement.data).toMatchObject({ fundingTime: T0 + FUNDING_MS, qty: 100, markPrice: 86_378.7, fundingRate: 0.000052, ts: (T0 + FUNDING_MS) * 1e6, settleCurrency: 'USDT' });
    expect((settlement.data as { fundingFee: number }).fundingFee).toBeCloseTo(fee, 9);
    const xbt = pushes.filter((p) => p.topic === '/contract/announcement' || (p.data as { symbol?: string }).symbol === 'XBTUSDTM' || p.topic.endsWith(':XBTUSDTM'));
    expect(subjects(xbt).filter((s) => !s.includes('mark.index.price'))).toEqual([
      '/contract/announcement funding.begin',
      '/contract/position:XBTUSDTM position.settlement',
      '/contract/position:XBTUSDTM position.change',
      '/contract/announcement funding.end',
      '/contract/instrument:XBTUSDTM funding.rate',
      // the other contracts' announcements (no position there)
      ...Array(6).fill(null).map((_, i) => `/contract/announcement funding.${i % 2 === 0 ? 'begin' : 'end'}`),
    ]);
    expect(pushes.find((p) => p.subject === 'funding.begin')!.data).toEqual({ symbol: 'XBTUSDTM', fundingTime: T0 + FUNDING_MS, fundingRate: 0.000052, timestamp: T0 + FUNDING_MS });
    expect(pushes.find((p) => p.subject === 'position.change')!.data).toMatchObject({ changeReason: 'marginChange', currentQty: 100 });
    expect(engine.fundingRate('XBTUSDTM')).toMatchObject({ timePoint: T0 + FUNDING_MS, fundingTime: T0 + 2 * FUNDING_MS });
  });

  it('a short receives a positive rate; settle-now settles every contract at once', () => {
    const { engine } = makeEngine();
    engine.placeOrder({ clientOid: 'f2', symbol: 'ETHUSDTM', side: 'sell', type: 'market', size: 10, leverage: 10 });
    const wallet = engine.accountOverview('USDT').marginBalance;
    const settled = engine.settleFunding();
    expect(settled.map((s) => s.symbol)).toEqual(['XBTUSDTM', 'ETHUSDTM', 'SOLUSDTM', 'XBTUSDM']);
    const eth = settled.find((s) => s.symbol === 'ETHUSDTM')!;
    expect(eth.fundingFee).toBeCloseTo(-10 * 0.01 * 1803.76 * 0.000149, 12);
    expect(engine.accountOverview('USDT').marginBalance).toBeCloseTo(wallet - eth.fundingFee, 9);
  });
});

describe('the mark price walk', () => {
  it('moves each contract on its tick grid and pushes mark.index.price', () => {
    const { engine, pushes } = makeEngine();
    engine.tick();
    const marks = pushes.filter((p) => p.subject === 'mark.index.price');
    expect(marks.map((p) => p.topic)).toEqual(['/contract/instrument:XBTUSDTM', '/contract/instrument:ETHUSDTM', '/contract/instrument:SOLUSDTM', '/contract/instrument:XBTUSDM']);
    for (const push of marks) {
      expect(push.private).toBe(false);
      expect(push.data).toMatchObject({ granularity: 1000, timestamp: T0 + 1_000 });
      const { markPrice, indexPrice } = push.data as { markPrice: number; indexPrice: number };
      expect(Math.abs(indexPrice - markPrice) / markPrice).toBeLessThan(0.001);
    }
    const sol = engine.markPrice('SOLUSDTM').value;
    expect(Math.round(sol * 1000) / 1000).toBe(sol);
  });

  it('a held mark stays put; an open position gets the partial mark-driven position push', () => {
    const { engine, pushes } = makeEngine();
    engine.placeOrder({ clientOid: 'h1', symbol: 'SOLUSDTM', side: 'buy', type: 'market', size: 10, leverage: 5 });
    engine.setMark('SOLUSDTM', 180, true);
    pushes.length = 0;
    for (let i = 0; i < 5; i++) engine.tick();
    expect(engine.markPrice('SOLUSDTM').value).toBe(180);
    expect(pushes.filter((p) => p.topic.endsWith(':SOLUSDTM'))).toEqual([]);
    engine.setMark('SOLUSDTM', 181);
    const partial = pushes.find((p) => p.topic === '/contract/position:SOLUSDTM')!;
    expect(partial.data).toMatchObject({ markPrice: 181, settleCurrency: 'USDT' });
    expect(Object.keys(partial.data as object).sort()).toEqual(
      ['currentTimestamp', 'delevPercentage', 'maintMargin', 'markPrice', 'markValue', 'realLeverage', 'settleCurrency', 'unrealisedPnl', 'unrealisedPnlPcnt', 'unrealisedRoePcnt'].sort(),
    );
  });

  describe('timers', () => {
    afterEach(() => vi.useRealTimers());

    it('start() steps the marks every interval and stop() ends it', () => {
      vi.useFakeTimers({ now: T0 + 1_000 });
      const engine = new SimEngine({ seed: 3, markIntervalMs: 1_000, fundingIntervalMs: FUNDING_MS });
      const marks: SimPush[] = [];
      engine.on('push', (p) => p.subject === 'mark.index.price' && marks.push(p));
      engine.start();
      vi.advanceTimersByTime(3_000);
      expect(marks).toHaveLength(12);
      engine.stop();
      vi.advanceTimersByTime(3_000);
      expect(marks).toHaveLength(12);
    });

    it('funding settles on its own timer at the funding time', () => {
      vi.useFakeTimers({ now: T0 + 1_000 });
      const engine = new SimEngine({ seed: 3, markIntervalMs: 3_600_000, fundingIntervalMs: FUNDING_MS });
      const begins: SimPush[] = [];
      engine.on('push', (p) => p.subject === 'funding.begin' && begins.push(p));
      engine.start();
      vi.advanceTimersByTime(FUNDING_MS - 1_001);
      expect(begins).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(begins).toHaveLength(4);
      engine.stop();
    });
  });
});

describe('determinism', () => {
  function run(seed: number) {
    const { engine, clock, pushes } = makeEngine(seed);
    engine.placeOrder({ clientOid: 'd1', symbol: 'XBTUSDTM', side: 'buy', type: 'limit', price: '86200', size: 3, leverage: 10 });
    engine.placeOrder({ clientOid: 'd2', symbol: 'ETHUSDTM', side: 'sell', type: 'market', size: 7, leverage: 4 });
    for (let i = 0; i < 200; i++) {
      clock.t += 1_000;
      engine.tick();
    }
    return { snapshot: engine.snapshot(), pushes };
  }

  it('the same seed and clock give the same state and the same pushes', () => {
    const a = run(42);
    const b = run(42);
    expect(b.snapshot).toEqual(a.snapshot);
    expect(b.pushes).toEqual(a.pushes);
    expect(a.pushes.filter((p) => p.subject === 'funding.begin')).toHaveLength(4 * 3);
  });

  it('another seed walks another way; reset() brings the first back', () => {
    const a = run(42);
    const c = run(43);
    expect(c.snapshot.state.markets).not.toEqual(a.snapshot.state.markets);
    const { engine } = makeEngine(42);
    engine.tick();
    const first = engine.snapshot().state.markets;
    engine.reset();
    engine.tick();
    expect(engine.snapshot().state.markets).toEqual(first);
  });
});
