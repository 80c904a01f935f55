/** The simulated account's state: plain data, so a snapshot is a deep copy and two runs compare with toEqual. */
import type { KucoinMarginMode } from '../../kucoin/payloads.js';

export interface MarketState {
  markPrice: number;
  indexPrice: number;
  /** Set by `POST /sim/mark {hold:true}`: the random walk leaves this mark alone. */
  held: boolean;
  /** Epoch ms of the last mark move. */
  markedAt: number;
}

export interface FundingState {
  /** The rate settled at `fundingTime`. */
  value: number;
  predictedValue: number;
  /** Epoch ms of the previous settlement. */
  timePoint: number;
  /** Epoch ms of the next settlement. */
  fundingTime: number;
}

/** Per-symbol user settings (docs/kucoin.md "Leverage, margin mode and risk limits"). */
export interface SymbolSettings {
  marginMode: KucoinMarginMode;
  crossLeverage: number;
  /** Isolated only. */
  riskLimitLevel: number;
}

export interface PositionState {
  id: string;
  symbol: string;
  /** Lots, signed. */
  qty: number;
  /** Signed cost in the settle currency (posCost). */
  cost: number;
  /** Isolated: the initial margin put up by the opening orders. */
  posInit: number;
  /** Isolated: funding settled into this position's margin (negative = paid). */
  posFunding: number;
  /** Fees paid since the position opened (currentComm). */
  comm: number;
  realisedGrossPnl: number;
  /** Funding received (+) or paid (−) since the position opened. */
  funding: number;
  marginMode: KucoinMarginMode;
  /** Isolated: the leverage of the last order that opened lots (shown while flat, when realLeverage is 0). */
  leverage: number;
  openingTimestamp: number;
  currentTimestamp: number;
}

export interface OrderState {
  id: string;
  clientOid: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'limit' | 'market';
  /** Limit price; 0 for market orders. */
  price: number;
  size: number;
  filledSize: number;
  /** Absolute value filled, in the settle currency. */
  filledValue: number;
  /** Σ price × lots of the fills, for the average. */
  filledNotional: number;
  leverage: number;
  marginMode: KucoinMarginMode;
  reduceOnly: boolean;
  closeOrder: boolean;
  postOnly: boolean;
  hidden: boolean;
  iceberg: boolean;
  visibleSize: number;
  forceHold: boolean;
  timeInForce: 'GTC' | 'IOC';
  stp: string;
  remark: string | null;
  status: 'open' | 'done';
  canceled: boolean;
  createdAt: number;
  updatedAt: number;
  endAt: number | null;
}

export interface FundingRecord {
  id: number;
  symbol: string;
  timePoint: number;
  fundingRate: number;
  markPrice: number;
  positionQty: number;
  positionCost: number;
  /** Positive = received. */
  funding: number;
  settleCurrency: string;
  marginMode: KucoinMarginMode;
}

export interface AccountState {
  /** Cash per settle currency: deposits + realised PnL − fees + funding (the wallet balance). */
  wallet: Record<string, number>;
  settings: Record<string, SymbolSettings>;
  positions: Record<string, PositionState>;
  markets: Record<string, MarketState>;
  funding: Record<string, FundingState>;
  /** Every order, oldest first. */
  orders: OrderState[];
  fundingHistory: FundingRecord[];
  /** Counters behind the deterministic ids. */
  seq: { order: number; trade: number; funding: number; wallet: number };
}
