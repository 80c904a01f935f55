/**
 * KuCoin Futures REST payloads as KuCoin sends them: the `data` of each endpoint the gateway calls,
 * field for field from KuCoin's Universal SDK specs (docs/kucoin.md "REST endpoints the gateway calls"). Numbers
 * are numbers and strings are strings exactly as KuCoin types them: positions and the account are
 * JSON numbers, orders carry decimals as strings (docs/kucoin.md "Fields and units"). These describe what we expect;
 * nothing here checks it (src/futures/mappers.ts does, field by field, when it maps).
 */

/** The code KuCoin puts on every success (docs/kucoin.md "Envelope, statuses and rate limits"; U-CONST `CodeSuccess`). */
export const KUCOIN_SUCCESS_CODE = '200000';

/** Success is HTTP 200 with `{"code":"200000","data":...}` (docs/kucoin.md "Envelope, statuses and rate limits"). */
export interface KucoinSuccess<T> {
  code: typeof KUCOIN_SUCCESS_CODE;
  data: T;
}

/** Failure is `{"code":"<string>","msg":"<string>"}`, with any HTTP status (200 included) (docs/kucoin.md "Envelope, statuses and rate limits"). */
export interface KucoinFailure {
  code: string;
  msg: string;
}

export type KucoinEnvelope<T> = KucoinSuccess<T> | KucoinFailure;

export type KucoinMarginMode = 'ISOLATED' | 'CROSS';

/** `GET /api/v1/account-overview`: every field a number except `currency` (docs/kucoin.md "REST endpoints the gateway calls"). */
export interface KucoinAccountOverview {
  /** marginBalance + unrealisedPNL */
  accountEquity: number;
  unrealisedPNL: number;
  marginBalance: number;
  positionMargin: number;
  orderMargin: number;
  frozenFunds: number;
  availableBalance: number;
  currency: string;
  /** Cross-margin risk rate. */
  riskRatio: number;
  maxWithdrawAmount: number;
}

/**
 * `GET /api/v1/positions` (array) and `GET /api/v1/position` (one), docs/kucoin.md "REST endpoints the gateway calls". Required fields first;
 * the optional ones are sent for isolated positions (`posMaint` in both modes).
 */
export interface KucoinPosition {
  id: string;
  symbol: string;
  crossMode: boolean;
  /** ADL percentile. */
  delevPercentage: number;
  /** Epoch ms. */
  openingTimestamp: number;
  /** Epoch ms. */
  currentTimestamp: number;
  /** Lots, signed: > 0 long, < 0 short. */
  currentQty: number;
  currentCost: number;
  currentComm: number;
  unrealisedCost: number;
  realisedGrossCost: number;
  realisedCost: number;
  isOpen: boolean;
  markPrice: number;
  markValue: number;
  posCost: number;
  posInit: number;
  posMargin: number;
  realisedGrossPnl: number;
  realisedPnl: number;
  unrealisedPnl: number;
  unrealisedPnlPcnt: number;
  unrealisedRoePcnt: number;
  avgEntryPrice: number;
  liquidationPrice: number;
  bankruptPrice: number;
  settleCurrency: string;
  isInverse: boolean;
  marginMode: KucoinMarginMode;
  /** `BOTH` in one-way mode; hedge mode (docs/kucoin.md "REST endpoints the gateway calls") adds `LONG`/`SHORT`. */
  positionSide: 'BOTH' | 'LONG' | 'SHORT';
  leverage: number;

  autoDeposit?: boolean;
  maintMarginReq?: number;
  riskLimit?: number;
  realLeverage?: number;
  posCross?: number;
  posCrossMargin?: number;
  posComm?: number;
  posCommCommon?: number;
  posLoss?: number;
  posFunding?: number;
  posMaint?: number;
  maintMargin?: number;
  maintainMargin?: number;
  /** In the U-POS examples though missing from its schema (docs/kucoin.md "REST endpoints the gateway calls"). */
  riskLimitLevel?: number;
}

/** `POST /api/v1/orders` (and `/orders/test`) (docs/kucoin.md "REST endpoints the gateway calls"). */
export interface KucoinOrderPlaced {
  orderId: string;
  clientOid: string;
}

/** `DELETE /api/v1/orders/{orderId}` and `DELETE /api/v3/orders?symbol=` (docs/kucoin.md "REST endpoints the gateway calls"). */
export interface KucoinCancelResult {
  cancelledOrderIds: string[];
}

/** The list's `type` filter values; items carry the same spellings (docs/kucoin.md "REST endpoints the gateway calls"). */
export type KucoinOrderType = 'limit' | 'market' | 'limit_stop' | 'market_stop' | 'oco_limit' | 'oco_stop';

/**
 * The order object (docs/kucoin.md "REST endpoints the gateway calls"): items of `GET /api/v1/orders`, `GET /api/v1/orders/{order-id}` and
 * `GET /api/v1/orders/byClientOid`. Sizes are lots (integers); prices and values are strings.
 */
export interface KucoinOrder {
  id: string;
  symbol: string;
  /** One of {@link KucoinOrderType}. */
  type: string;
  /** `buy` | `sell`. */
  side: string;
  /** `"0"` (or `""`) for market orders. */
  price: string;
  size: number;
  value: string;
  dealValue: string;
  dealSize: number;
  /** `""` if none. */
  stp: string;
  stop: 'up' | 'down' | '';
  stopPriceType: 'TP' | 'MP' | 'IP' | '';
  stopTriggered: boolean;
  stopPrice: number | null;
  /** `GTC` | `IOC` (TS adds `RPI`, docs/kucoin.md "REST endpoints the gateway calls"). */
  timeInForce: string;
  postOnly: boolean;
  hidden: boolean;
  iceberg: boolean;
  leverage: string;
  forceHold: boolean;
  closeOrder: boolean;
  visibleSize: number;
  clientOid: string;
  remark: string | null;
  tags: string;
  isActive: boolean;
  cancelExist: boolean;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  updatedAt: number;
  /** Epoch ms; null while the order is active. */
  endAt: number | null;
  /** Epoch **nanoseconds**; a JSON number past 2^53, so it arrives rounded (docs/kucoin.md "Fields and units"). */
  orderTime: number;
  settleCurrency: string;
  /** Missing from older orders (the CCXT fixture), which predate cross margin (docs/kucoin.md "REST endpoints the gateway calls"). */
  marginMode?: KucoinMarginMode;
  /** Missing from older orders (docs/kucoin.md "REST endpoints the gateway calls"). */
  avgDealPrice?: string;
  filledSize: number;
  filledValue: string;
  status: 'open' | 'done';
  reduceOnly: boolean;
}

/** `GET /api/v1/orders` page envelope (docs/kucoin.md "REST endpoints the gateway calls"). */
export interface KucoinOrderPage {
  currentPage: number;
  pageSize: number;
  totalNum: number;
  totalPage: number;
  items: KucoinOrder[];
}

/** `GET /api/v2/position/getMarginMode` and `POST /api/v2/position/changeMarginMode` (docs/kucoin.md "REST endpoints the gateway calls"). */
export interface KucoinMarginModeResult {
  symbol: string;
  marginMode: KucoinMarginMode;
}

/** `GET /api/v2/getCrossUserLeverage`: the leverage is a string (`"3"`) (docs/kucoin.md "REST endpoints the gateway calls"). */
export interface KucoinCrossLeverage {
  symbol: string;
  leverage: string;
}

/** `GET /api/v1/contracts/risk-limit/{symbol}`: one tier; position value in (min, max] (docs/kucoin.md "REST endpoints the gateway calls"). */
export interface KucoinRiskLimitTier {
  symbol: string;
  /** Tier index, 1..N. */
  level: number;
  maxRiskLimit: number;
  minRiskLimit: number;
  maxLeverage: number;
  initialMargin: number;
  maintainMargin: number;
}

/**
 * `GET /api/v1/funding-rate/{symbol}/current` (docs/kucoin.md "REST endpoints the gateway calls"). `symbol` is the funding-rate index
 * (`.XBTUSDTMFPI8H`), not the contract. The older CCXT fixture lacks the last four fields and the
 * U-FUND example lacks `period` and `fundingTime`, so they are optional here.
 */
export interface KucoinFundingRate {
  symbol: string;
  /** ms, e.g. 28800000. */
  granularity: number;
  /** Epoch ms of the previous cycle. */
  timePoint: number;
  value: number;
  predictedValue?: number;
  fundingRateCap?: number;
  fundingRateFloor?: number;
  period?: 0 | 1;
  /** Epoch ms of the next settlement. */
  fundingTime?: number;
}

/**
 * `GET /api/v1/contracts/active` (array) and `/api/v1/contracts/{symbol}` (docs/kucoin.md "REST endpoints the gateway calls"). Types follow the
 * U-MKT example; `multiplier` is negative (-1) for inverse contracts (docs/kucoin.md "Fields and units").
 */
export interface KucoinContract {
  symbol: string;
  /** Settle group, e.g. `USDT`/`XBT`. */
  rootSymbol: string;
  /** `FFWCSX` perpetual | `FFICSX` futures. */
  type: string;
  firstOpenDate: number;
  /** null = perpetual. */
  expireDate: number | null;
  settleDate: number | null;
  /** `XBT` for bitcoin. */
  baseCurrency: string;
  quoteCurrency: string;
  settleCurrency: string;
  maxOrderQty: number;
  maxPrice: number;
  /** Minimum lots. */
  lotSize: number;
  tickSize: number;
  indexPriceTickSize: number;
  /** Coin per lot (0.001 for XBTUSDTM); -1 for inverse contracts, where a lot is 1 USD. */
  multiplier: number;
  initialMargin: number;
  maintainMargin: number;
  maxRiskLimit: number;
  minRiskLimit: number;
  riskStep: number;
  makerFeeRate: number;
  takerFeeRate: number;
  /** Deprecated. */
  takerFixFee: number;
  /** Deprecated. */
  makerFixFee: number;
  settlementFee: number | null;
  isDeleverage: boolean;
  /** Deprecated. */
  isQuanto: boolean;
  isInverse: boolean;
  markMethod: string;
  fairMethod: string;
  fundingBaseSymbol: string;
  fundingQuoteSymbol: string;
  fundingRateSymbol: string;
  indexSymbol: string;
  /** `""` in U-MKT, null for XBTUSDM in the CCXT markets fixture. */
  settlementSymbol: string | null;
  /** `Init`, `Open`, `BeingSettled`, `Settled`, `Paused`, `Closed`, `CancelOnly`. */
  status: string;
  /** Inference: null for dated futures, which have no funding. */
  fundingFeeRate: number | null;
  predictedFundingFeeRate: number | null;
  fundingRateGranularity: number | null;
  /** Inference (docs/kucoin.md "REST endpoints the gateway calls"): a countdown in ms, not an epoch. */
  nextFundingRateTime: number | null;
  /** Lots, as a string. */
  openInterest: string;
  turnoverOf24h: number;
  volumeOf24h: number;
  markPrice: number;
  indexPrice: number;
  lastTradePrice: number;
  maxLeverage: number;
  sourceExchanges: string[];
  premiumsSymbol1M: string;
  premiumsSymbol8H: string;
  fundingBaseSymbol1M: string;
  fundingQuoteSymbol1M: string;
  lowPrice: number;
  highPrice: number;
  priceChgPct: number;
  priceChg: number;
  /** The fields below are in U-MKT (2025) but not in the older CCXT markets fixture. */
  k?: number;
  m?: number;
  f?: number;
  mmrLimit?: number;
  mmrLevConstant?: number;
  supportCross?: boolean;
  /** The current price band. */
  buyLimit?: number;
  sellLimit?: number;
}

/** `GET /api/v1/timestamp`: server time, epoch ms (docs/kucoin.md "Signing and authentication"). */
export type KucoinServerTime = number;
