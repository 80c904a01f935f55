import { describe, expect, it } from 'vitest';
import type { FundingRate, Order } from '../../src/futures/mappers.js';
import { UpstreamShapeError } from '../../src/futures/payload-fields.js';
import type { KucoinPosition } from '../../src/kucoin/payloads.js';
import {
  announcement,
  applyOrderChange,
  fundingRateChange,
  mergePositionChange,
  parseOrderChange,
  parseSettlement,
  settlementChange,
  topicSymbol,
} from '../../src/account/push-mappers.js';

const ORDER: Order = {
  orderId: '1',
  clientOid: 'c',
  symbol: 'XBTUSDTM',
  baseAsset: 'BTC',
  side: 'BUY',
  type: 'LIMIT',
  status: 'open',
  price: 100,
  qty: 10,
  filledQty: 0,
  remainingQty: 10,
  avgFillPrice: null,
  marginMode: 'isolated',
  leverage: 3,
  timeInForce: 'GTC',
  reduceOnly: false,
  closeOrder: false,
  postOnly: false,
  createdAt: 1000,
  updatedAt: 1000,
};

const FUNDING: FundingRate = {
  symbol: 'XBTUSDTM',
  baseAsset: 'BTC',
  fundingRateSymbol: '.XBTUSDTMFPI8H',
  rate: 0.0001,
  predictedRate: 0.0002,
  rateCap: 0.003,
  rateFloor: -0.003,
  intervalMs: 14_400_000,
  previousFundingTime: 1_000_000,
  nextFundingTime: 15_400_000,
};

const push = (type: string, status: string, sizes: Record<string, string> = {}) => ({
  orderId: '1',
  symbol: 'XBTUSDTM',
  type,
  status,
  size: '10',
  filledSize: '0',
  ts: '1764200000123456789',
  ...sizes,
});

describe('topicSymbol', () => {
  it.each([
    ['/contract/position:XBTUSDTM', 'XBTUSDTM'],
    ['/contract/instrument:ETHUSDTM', 'ETHUSDTM'],
    ['/contract/positionAll', undefined],
    ['/contract/instrument:XBTUSDTM,ETHUSDTM', undefined],
  ])('%s → %s', (topic, want) => expect(topicSymbol(topic)).toBe(want));
});

describe('applyOrderChange', () => {
  it.each([
    ['open stays open', push('open', 'open', { remainSize: '10' }), { status: 'open', filledQty: 0, remainingQty: 10, avgFillPrice: null }],
    ['a partial match', push('match', 'match', { filledSize: '4', remainSize: '6', matchPrice: '101', matchSize: '4' }), { status: 'open', filledQty: 4, remainingQty: 6, avgFillPrice: 101 }],
    ['a last match is filled', push('match', 'done', { filledSize: '10', remainSize: '0', matchPrice: '100', matchSize: '10' }), { status: 'filled', remainingQty: 0, avgFillPrice: 100 }],
    ['filled', push('filled', 'done', { filledSize: '10' }), { status: 'filled', filledQty: 10, remainingQty: 0 }],
    ['canceled with a partial fill', push('canceled', 'done', { filledSize: '3', remainSize: '0', canceledSize: '7' }), { status: 'canceled', filledQty: 3, remainingQty: 0 }],
    ['a size update', push('update', 'open', { size: '6', oldSize: '10', remainSize: '6' }), { status: 'open', qty: 6, remainingQty: 6 }],
  ])('%s', (_title, data, want) => {
    expect(applyOrderChange(ORDER, parseOrderChange(data))).toMatchObject({ ...want, updatedAt: 1764200000123 });
  });

  it('weights the average fill price by size over several matches', () => {
    const first = applyOrderChange(ORDER, parseOrderChange(push('match', 'match', { filledSize: '2', matchPrice: '100', matchSize: '2' })));
    const second = applyOrderChange(first, parseOrderChange(push('match', 'match', { filledSize: '6', matchPrice: '104', matchSize: '4' })));
    expect(second.avgFillPrice).toBeCloseTo((2 * 100 + 4 * 104) / 6, 12);
  });

  it.each([
    ['an unknown type', push('teleport', 'open')],
    ['an unknown status', push('open', 'pending')],
    ['a size that is not a number', push('open', 'open', { size: 'ten' })],
    ['a time that is not ns', push('open', 'open', { ts: 'soon' })],
    ['no order id', { ...push('open', 'open'), orderId: '' }],
  ])('refuses %s', (_title, data) => {
    expect(() => parseOrderChange(data)).toThrow(UpstreamShapeError);
  });

  it('refuses a fill larger than the order', () => {
    expect(() => applyOrderChange(ORDER, parseOrderChange(push('match', 'match', { filledSize: '11' })))).toThrow(UpstreamShapeError);
  });
});

describe('mergePositionChange', () => {
  const cached = { symbol: 'XBTUSDTM', currentQty: 1, markPrice: 100, id: 'p1' } as unknown as KucoinPosition;

  it('merges a full push over the cache and keeps its reason', () => {
    const change = mergePositionChange('/contract/position:XBTUSDTM', { symbol: 'XBTUSDTM', currentQty: 2, changeReason: 'positionChange' }, cached);
    expect(change).toEqual({ symbol: 'XBTUSDTM', reason: 'positionChange', raw: { symbol: 'XBTUSDTM', currentQty: 2, markPrice: 100, id: 'p1' } });
  });

  it('merges a partial push (no changeReason) as markPrice, with the symbol from the topic', () => {
    const change = mergePositionChange('/contract/position:XBTUSDTM', { markPrice: 101 }, cached);
    expect(change).toMatchObject({ reason: 'markPrice', raw: { currentQty: 1, markPrice: 101 } });
  });

  it('ignores a partial push for a position it does not hold', () => {
    expect(mergePositionChange('/contract/position:XBTUSDTM', { markPrice: 101 }, undefined)).toBeUndefined();
  });
});

describe('funding', () => {
  it.each([
    ['60000 is the predicted rate', 60_000, { rate: 0.0001, predictedRate: 0.0005 }],
    ["the symbol's own interval is the rate in force", 14_400_000, { rate: 0.0005, predictedRate: 0.0002 }],
    ['8 h is the rate in force', 28_800_000, { rate: 0.0005, predictedRate: 0.0002 }],
  ])('funding.rate: %s', (_title, granularity, want) => {
    expect(fundingRateChange({ fundingRate: 0.0005, granularity, timestamp: 1 })(FUNDING)).toMatchObject(want);
  });

  it('funding.begin sets the rate; funding.end also moves the cycle on by one interval', () => {
    const data = { symbol: 'XBTUSDTM', fundingTime: 15_400_000, fundingRate: 0.0003, timestamp: 15_400_000 };
    expect(announcement('funding.begin', data).change(FUNDING)).toEqual({ ...FUNDING, rate: 0.0003 });
    expect(announcement('funding.end', data).change(FUNDING)).toEqual({ ...FUNDING, rate: 0.0003, previousFundingTime: 15_400_000, nextFundingTime: 29_800_000 });
  });

  it('a settlement sets the settled rate and the previous funding time', () => {
    const settlement = parseSettlement({ fundingTime: 15_400_000, qty: 1, markPrice: 100, fundingRate: -0.0002, fundingFee: 0.01, ts: '15400000005000000', settleCurrency: 'USDT' });
    expect(settlement).toEqual({ fundingTime: 15_400_000, fundingRate: -0.0002, markPrice: 100, at: 15_400_000_005 });
    expect(settlementChange(settlement)(FUNDING)).toMatchObject({ rate: -0.0002, previousFundingTime: 15_400_000, nextFundingTime: 29_800_000 });
  });

  it('refuses an announcement without a symbol', () => {
    expect(() => announcement('funding.begin', { fundingTime: 1, fundingRate: 0.1 })).toThrow(UpstreamShapeError);
  });
});
