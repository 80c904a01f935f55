/** Contract object for a simulated contract, market fields from the live mark and funding (docs/kucoin.md "REST endpoints the gateway calls"). */
import type { KucoinContract } from '../../kucoin/payloads.js';
import { fundingRateSymbolOf, type ContractSpec } from './contracts.js';
import { round, toStep } from './numbers.js';
import type { FundingState, MarketState } from './state.js';

/** Contract listing dates as in the fixtures (KuCoin's own). */
const FIRST_OPEN: Record<string, number> = { XBTUSDTM: 1585555200000, ETHUSDTM: 1591086000000, SOLUSDTM: 1615881600000, XBTUSDM: 1552638575000 };

export function contractPayload(spec: ContractSpec, market: MarketState, funding: FundingState, fundingIntervalMs: number, openInterest: number, now: number): KucoinContract {
  const level1 = spec.tiers[0]!;
  const mark = market.markPrice;
  return {
    symbol: spec.symbol,
    rootSymbol: spec.settleCurrency,
    type: 'FFWCSX',
    firstOpenDate: FIRST_OPEN[spec.symbol] ?? 1585555200000,
    expireDate: null,
    settleDate: null,
    baseCurrency: spec.baseCurrency,
    quoteCurrency: spec.quoteCurrency,
    settleCurrency: spec.settleCurrency,
    maxOrderQty: spec.maxOrderQty,
    maxPrice: spec.maxPrice,
    lotSize: spec.lotSize,
    tickSize: spec.tickSize,
    indexPriceTickSize: spec.indexPriceTickSize,
    multiplier: spec.multiplier,
    initialMargin: level1.initialMargin,
    maintainMargin: level1.maintainMargin,
    maxRiskLimit: level1.maxRiskLimit,
    minRiskLimit: level1.maxRiskLimit,
    riskStep: spec.riskStep,
    makerFeeRate: spec.makerFeeRate,
    takerFeeRate: spec.takerFeeRate,
    takerFixFee: 0,
    makerFixFee: 0,
    settlementFee: null,
    isDeleverage: true,
    isQuanto: !spec.isInverse,
    isInverse: spec.isInverse,
    markMethod: 'FairPrice',
    fairMethod: 'FundingRate',
    fundingBaseSymbol: spec.fundingBaseSymbol,
    fundingQuoteSymbol: spec.fundingQuoteSymbol,
    fundingRateSymbol: fundingRateSymbolOf(spec.symbol),
    indexSymbol: spec.indexSymbol,
    settlementSymbol: spec.isInverse ? null : '',
    status: 'Open',
    fundingFeeRate: funding.value,
    predictedFundingFeeRate: funding.predictedValue,
    fundingRateGranularity: fundingIntervalMs,
    // A countdown in ms, not an epoch (docs/kucoin.md "REST endpoints the gateway calls").
    nextFundingRateTime: Math.max(0, funding.fundingTime - now),
    openInterest: String(openInterest),
    turnoverOf24h: 0,
    volumeOf24h: 0,
    markPrice: mark,
    indexPrice: market.indexPrice,
    lastTradePrice: mark,
    maxLeverage: spec.maxLeverage,
    sourceExchanges: [...spec.sourceExchanges],
    premiumsSymbol1M: `.${spec.symbol}PI`,
    premiumsSymbol8H: `.${spec.symbol}PI8H`,
    fundingBaseSymbol1M: spec.fundingBaseSymbol.replace(/8H$/, ''),
    fundingQuoteSymbol1M: spec.fundingQuoteSymbol.replace(/8H$/, ''),
    lowPrice: round(Math.min(mark, spec.startPrice), 10),
    highPrice: round(Math.max(mark, spec.startPrice), 10),
    priceChgPct: round((mark - spec.startPrice) / spec.startPrice, 4),
    priceChg: toStep(mark - spec.startPrice, spec.tickSize),
    k: 490,
    m: 300,
    f: 1.3,
    mmrLimit: 0.3,
    mmrLevConstant: spec.maxLeverage,
    supportCross: true,
    // The current price band (OLD "PRICE"): ±5 % of the mark.
    buyLimit: toStep(Math.floor((mark * 1.05) / spec.tickSize + 1e-9) * spec.tickSize, spec.tickSize),
    sellLimit: toStep(Math.ceil((mark * 0.95) / spec.tickSize - 1e-9) * spec.tickSize, spec.tickSize),
  };
}
