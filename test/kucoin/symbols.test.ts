import { describe, expect, it } from 'vitest';
import { toKucoinSymbol, toUserAsset } from '../../src/symbols.js';

// docs/kucoin.md "Fields and units": BTC↔XBT is the only rename; the M suffix marks futures.
describe('toKucoinSymbol', () => {
  it.each([
    ['XBTUSDTM', 'XBTUSDTM'],
    ['BTCUSDTM', 'XBTUSDTM'],
    ['BTC-USDT', 'XBTUSDTM'],
    ['BTCUSDT', 'XBTUSDTM'],
    ['BTC/USDT:USDT', 'XBTUSDTM'],
    ['btc-usdt', 'XBTUSDTM'],
    [' BTCUSDTM ', 'XBTUSDTM'],
    ['ETHUSDTM', 'ETHUSDTM'],
    ['ETH-USDT', 'ETHUSDTM'],
    ['SOL/USDT:USDT', 'SOLUSDTM'],
    ['XBTUSDM', 'XBTUSDM'],
    ['BTC/USD:BTC', 'XBTUSDM'],
    ['BTCUSD', 'XBTUSDM'],
    ['ETHUSDCM', 'ETHUSDCM'],
    ['1000PEPEUSDTM', '1000PEPEUSDTM'],
  ])('%s → %s', (input, want) => {
    expect(toKucoinSymbol(input)).toBe(want);
  });

  it.each(['NOPE', 'BTC', 'BTC-EUR', 'BTC/USDT:USDT:USDT', '', 'XBTMM20'])('%s has no futures spelling', (input) => {
    expect(toKucoinSymbol(input)).toBeUndefined();
  });
});

describe('toUserAsset', () => {
  it.each([
    ['XBT', 'BTC'],
    ['ETH', 'ETH'],
    ['USDT', 'USDT'],
  ])('%s → %s', (asset, want) => {
    expect(toUserAsset(asset)).toBe(want);
  });
});
