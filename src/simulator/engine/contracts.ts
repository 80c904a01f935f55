/**
 * The simulated contracts. XBTUSDTM, ETHUSDTM and SOLUSDTM follow test/kucoin/fixtures/
 * contracts-active.json (multiplier, lot, tick, fees, symbols); XBTUSDTM's risk-limit tiers are
 * test/kucoin/fixtures/risk-limit-xbtusdtm.json verbatim (U-POS). The other tier tables are
 * invented in the same pattern: levels 1..N, max leverage falling, IMR = 1/maxLeverage,
 * MMR = IMR/2 (docs/kucoin.md "What the simulator assumes"). XBTUSDM is inverse: multiplier -1,
 * one lot = 1 USD, settles in XBT, risk limits in XBT (docs/kucoin.md "Fields and units").
 */
import type { KucoinRiskLimitTier } from '../../kucoin/payloads.js';

export interface ContractSpec {
  symbol: string;
  baseCurrency: string;
  quoteCurrency: string;
  settleCurrency: string;
  /** Coin per lot (linear), -1 for inverse (one lot = 1 USD). */
  multiplier: number;
  isInverse: boolean;
  lotSize: number;
  tickSize: number;
  indexPriceTickSize: number;
  maxOrderQty: number;
  maxPrice: number;
  maxLeverage: number;
  makerFeeRate: number;
  takerFeeRate: number;
  riskStep: number;
  indexSymbol: string;
  fundingBaseSymbol: string;
  fundingQuoteSymbol: string;
  sourceExchanges: string[];
  /** Where the mark starts after a (re)seed. */
  startPrice: number;
  /** Largest mark move per step, as a fraction of the price. */
  stepVolatility: number;
  /** Funding rate after a (re)seed. */
  startFundingRate: number;
  tiers: KucoinRiskLimitTier[];
}

/** Tiers from (upper bound, max leverage) pairs; IMR = 1/lev, MMR = IMR/2 (the fixture's pattern). */
function tiers(symbol: string, levels: ReadonlyArray<readonly [number, number]>): KucoinRiskLimitTier[] {
  return levels.map(([maxRiskLimit, maxLeverage], i) => ({
    symbol,
    level: i + 1,
    maxRiskLimit,
    minRiskLimit: i === 0 ? 0 : levels[i - 1]![0],
    maxLeverage,
    initialMargin: Number((1 / maxLeverage).toFixed(6)),
    maintainMargin: Number((1 / maxLeverage / 2).toFixed(6)),
  }));
}

// test/kucoin/fixtures/risk-limit-xbtusdtm.json (U-POS example), IMR/MMR as published.
const XBTUSDTM_TIERS: KucoinRiskLimitTier[] = (
  [
    [100000, 125, 0.008, 0.004],
    [500000, 100, 0.01, 0.005],
    [1000000, 75, 0.014, 0.007],
    [2000000, 50, 0.02, 0.01],
    [3000000, 30, 0.034, 0.017],
    [5000000, 20, 0.05, 0.025],
    [8000000, 10, 0.1, 0.05],
    [12000000, 5, 0.2, 0.1],
    [20000000, 4, 0.25, 0.125],
    [30000000, 3, 0.334, 0.167],
    [40000000, 2, 0.5, 0.25],
    [50000000, 1, 1.0, 0.5],
  ] as const
).map(([maxRiskLimit, maxLeverage, initialMargin, maintainMargin], i, all) => ({
  symbol: 'XBTUSDTM',
  level: i + 1,
  maxRiskLimit,
  minRiskLimit: i === 0 ? 0 : all[i - 1]![0],
  maxLeverage,
  initialMargin,
  maintainMargin,
}));

const linear = (base: string, over: Partial<ContractSpec> & Pick<ContractSpec, 'multiplier' | 'tickSize' | 'maxLeverage' | 'startPrice' | 'tiers' | 'riskStep'>): ContractSpec => ({
  symbol: `${base}USDTM`,
  baseCurrency: base,
  quoteCurrency: 'USDT',
  settleCurrency: 'USDT',
  isInverse: false,
  lotSize: 1,
  indexPriceTickSize: 0.01,
  maxOrderQty: 1_000_000,
  maxPrice: 1_000_000,
  makerFeeRate: 0.0002,
  takerFeeRate: 0.0006,
  indexSymbol: `.K${base}USDT`,
  fundingBaseSymbol: `.${base}INT8H`,
  fundingQuoteSymbol: '.USDTINT8H',
  sourceExchanges: ['okex', 'binance', 'kucoin', 'bybit', 'bitmart', 'gateio'],
  stepVolatility: 0.0005,
  startFundingRate: 0.0001,
  ...over,
});

export const CONTRACT_SPECS: readonly ContractSpec[] = [
  linear('XBT', { multiplier: 0.001, tickSize: 0.1, maxLeverage: 125, startPrice: 86378.7, riskStep: 50000, startFundingRate: 0.000052, tiers: XBTUSDTM_TIERS }),
  linear('ETH', {
    multiplier: 0.01,
    tickSize: 0.01,
    maxLeverage: 100,
    startPrice: 1803.76,
    riskStep: 20000,
    startFundingRate: 0.000149,
    tiers: tiers('ETHUSDTM', [[100000, 100], [500000, 75], [1000000, 50], [2000000, 30], [3000000, 20], [5000000, 10], [8000000, 5], [12000000, 3], [20000000, 2], [30000000, 1]]),
  }),
  linear('SOL', {
    multiplier: 0.1,
    tickSize: 0.001,
    maxLeverage: 75,
    startPrice: 177.842,
    riskStep: 15000,
    stepVolatility: 0.0008,
    tiers: tiers('SOLUSDTM', [[30000, 75], [100000, 50], [300000, 30], [600000, 20], [1000000, 10], [2000000, 5], [4000000, 3], [6000000, 1]]),
  }),
  {
    symbol: 'XBTUSDM',
    baseCurrency: 'XBT',
    quoteCurrency: 'USD',
    settleCurrency: 'XBT',
    multiplier: -1,
    isInverse: true,
    lotSize: 1,
    tickSize: 0.1,
    indexPriceTickSize: 0.01,
    maxOrderQty: 10_000_000,
    maxPrice: 10_000_000,
    maxLeverage: 100,
    makerFeeRate: 0.0002,
    takerFeeRate: 0.0006,
    riskStep: 20,
    indexSymbol: '.BXBT',
    fundingBaseSymbol: '.XBTINT8H',
    fundingQuoteSymbol: '.USDINT8H',
    sourceExchanges: ['bitstamp', 'bittrex', 'coinbase', 'gemini', 'kraken', 'liquid'],
    startPrice: 86378.7,
    stepVolatility: 0.0005,
    startFundingRate: 0.0001,
    // Risk limits of an inverse contract are in its settle coin (XBT).
    tiers: tiers('XBTUSDM', [[20, 100], [40, 75], [80, 50], [150, 30], [300, 20], [500, 10], [800, 5], [1000, 1]]),
  },
];

/** `.XBTUSDTMFPI8H`: the funding-rate symbol KuCoin names instead of the contract (docs/kucoin.md "REST endpoints the gateway calls"). */
export const fundingRateSymbolOf = (symbol: string): string => `.${symbol}FPI8H`;

/** Value in the settle currency of `lots` at `price`, signed like `lots` (KuCoin's cost convention, docs/kucoin.md "REST endpoints the gateway calls"). */
export function valueOf(spec: ContractSpec, lots: number, price: number): number {
  if (price <= 0) return 0;
  // Inverse: a long's cost is negative in coin (the U-POS ETHUSDM example: currentCost -4.07e-4).
  return spec.isInverse ? (lots * spec.multiplier) / price : lots * spec.multiplier * price;
}

/** The price at which `lots` are worth `value` (inverse of valueOf). */
export function priceOf(spec: ContractSpec, lots: number, value: number): number {
  if (lots === 0 || value === 0) return 0;
  return spec.isInverse ? (lots * spec.multiplier) / value : value / (lots * spec.multiplier);
}
