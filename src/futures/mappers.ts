/**
 * KuCoin payloads (src/kucoin/payloads.ts) to the contract's shapes (openapi.yaml components).
 * Pure. Every field is read with a check (payload-fields.ts): what KuCoin sends that the gateway
 * cannot understand becomes an `UpstreamShapeError`, never a NaN or an undefined in a response.
 */
import type { components } from '../../generated/openapi.js';
import type {
  KucoinAccountOverview,
  KucoinCancelResult,
  KucoinContract,
  KucoinFundingRate,
  KucoinOrder,
  KucoinOrderPage,
  KucoinPosition,
} from '../kucoin/payloads.js';
import { assetOf, Fields, preview, symbolOf, UpstreamShapeError } from './payload-fields.js';
import { baseQtyFor, nsToMs } from './units.js';

type Schemas = components['schemas'];
export type Position = Schemas['Position'];
export type Order = Schemas['Order'];
export type OrderPage = Schemas['OrderPage'];
export type CancelResult = Schemas['CancelResult'];
export type FundingRate = Schemas['FundingRate'];
export type Account = Schemas['Account'];
export type Contract = Schemas['Contract'];

/** What the position and order mappers need of the symbol's contract (docs/kucoin.md "REST endpoints the gateway calls"). */
export type ContractRef = Pick<KucoinContract, 'baseCurrency' | 'multiplier'>;
/** What the funding mapper needs: the contract's id and base currency. */
export type FundingContractRef = Pick<KucoinContract, 'symbol' | 'baseCurrency'>;

/** KuCoin's position (docs/kucoin.md "REST endpoints the gateway calls") → `Position`. `contract` is the position's contract (for the base asset and multiplier). */
export function toPosition(kucoinPosition: KucoinPosition, contract: ContractRef): Position {
  const f = new Fields(kucoinPosition, 'position');
  const qty = f.integer('currentQty');
  const side = qty > 0 ? 'LONG' : qty < 0 ? 'SHORT' : 'FLAT';
  const marginMode = positionMarginMode(f);
  const isolated = marginMode === 'isolated';
  // A liquidation price of 0 (flat, or nothing to liquidate) is "none".
  const liquidationPrice = f.number('liquidationPrice');
  // realLeverage is the isolated position's effective leverage; a flat one reports 0 (0/0).
  const realLeverage = isolated ? f.optionalNumber('realLeverage') : null;
  return {
    symbol: f.symbol('symbol'),
    baseAsset: assetOf(contract.baseCurrency, 'contract.baseCurrency'),
    settleCurrency: f.asset('settleCurrency'),
    marginMode,
    side,
    qty,
    baseQty: baseQtyFor(qty, { multiplier: multiplierOf(contract) }),
    entryPrice: f.number('avgEntryPrice'),
    markPrice: f.number('markPrice'),
    liquidationPrice: side === 'FLAT' || liquidationPrice <= 0 ? null : liquidationPrice,
    leverage: realLeverage !== null && realLeverage > 0 ? realLeverage : f.number('leverage'),
    margin: f.number('posMargin'),
    unrealisedPnl: f.number('unrealisedPnl'),
    unrealisedPnlPct: f.number('unrealisedPnlPcnt'),
    realisedPnl: f.number('realisedPnl'),
    // Risk-limit levels are isolated-only; cross uses a continuous limit (docs/kucoin.md "REST endpoints the gateway calls").
    riskLimitLevel: isolated ? f.optionalInteger('riskLimitLevel') : null,
    isOpen: f.boolean('isOpen'),
    openedAt: side === 'FLAT' ? null : f.epochMs('openingTimestamp'),
    updatedAt: f.epochMs('currentTimestamp'),
  };
}

/** KuCoin's order (docs/kucoin.md "REST endpoints the gateway calls") → `Order`. `contract` is the order's contract (for the base asset). */
export function toOrder(kucoinOrder: KucoinOrder, contract: Pick<ContractRef, 'baseCurrency'>): Order {
  const f = new Fields(kucoinOrder, 'order');
  const type = orderTypeOf(f);
  const qty = f.integer('size');
  const filledQty = f.integer('filledSize');
  if (qty < 0 || filledQty < 0 || filledQty > qty) {
    throw f.error('filledSize', `a filled size of ${filledQty} does not fit an order of ${qty}`);
  }
  const active = f.boolean('isActive') || f.oneOf('status', ['open', 'done'] as const) === 'open';
  const status = active ? 'open' : filledQty === qty ? 'filled' : 'canceled';
  return {
    orderId: f.string('id'),
    clientOid: f.optionalString('clientOid'),
    symbol: f.symbol('symbol'),
    baseAsset: assetOf(contract.baseCurrency, 'contract.baseCurrency'),
    side: f.oneOf('side', ['buy', 'sell'] as const) === 'buy' ? 'BUY' : 'SELL',
    type,
    status,
    // KuCoin sends "0" (or "") as the price of market orders (docs/kucoin.md "REST endpoints the gateway calls"; CCXT fetchOrder fixture).
    price: isMarketKind(type) ? null : f.optionalPrice('price'),
    qty,
    filledQty,
    // A done order has nothing left to fill, whatever it did not fill was cancelled.
    remainingQty: status === 'open' ? qty - filledQty : 0,
    avgFillPrice: filledQty > 0 ? f.optionalPrice('avgDealPrice') : null,
    // Orders older than cross margin carry no marginMode (docs/kucoin.md "REST endpoints the gateway calls"); ISOLATED was the only mode then.
    marginMode: f.has('marginMode') ? marginModeOf(f.oneOf('marginMode', ['ISOLATED', 'CROSS'] as const)) : 'isolated',
    leverage: f.optionalNumber('leverage'),
    timeInForce: f.oneOf('timeInForce', ['GTC', 'IOC', 'RPI'] as const),
    reduceOnly: f.boolean('reduceOnly'),
    closeOrder: f.boolean('closeOrder'),
    postOnly: f.boolean('postOnly'),
    // `createdAt` is ms; `orderTime` (ns, docs/kucoin.md "Fields and units") stands in where it is missing.
    createdAt: f.has('createdAt') ? f.epochMs('createdAt') : f.epochNs('orderTime'),
    updatedAt: f.epochMs('updatedAt'),
  };
}

/** The order of the position list: by symbol (KuCoin does not document its own). */
export const positionListOrder = (a: Position, b: Position): number => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);

/** The order of an order list: newest first, as KuCoin lists them, then by id for orders of the same ms. */
export const orderListOrder = (a: Order, b: Order): number => b.createdAt - a.createdAt || (a.orderId < b.orderId ? 1 : a.orderId > b.orderId ? -1 : 0);

/** KuCoin's order page (docs/kucoin.md "REST endpoints the gateway calls") → `OrderPage`; `contractOf` finds each item's contract (the cached contract list). */
export function toOrderPage(kucoinPage: KucoinOrderPage, contractOf: (symbol: string) => Pick<ContractRef, 'baseCurrency'> | undefined): OrderPage {
  const f = new Fields(kucoinPage, 'orders');
  const items = f.array('items').map((item, index) => {
    const symbol = new Fields(item, `orders.items.${index}`).symbol('symbol');
    const contract = contractOf(symbol);
    if (!contract) throw new UpstreamShapeError(`orders.items.${index}.symbol`, `KuCoin listed an order on ${symbol}, a contract the gateway does not know`);
    return toOrder(item as KucoinOrder, contract);
  });
  return {
    page: Math.max(1, f.integer('currentPage')),
    pageSize: Math.max(1, f.integer('pageSize')),
    total: f.integer('totalNum'),
    items,
  };
}

/** KuCoin's cancel answer (docs/kucoin.md "REST endpoints the gateway calls") → `CancelResult`. */
export function toCancelResult(kucoinCancel: KucoinCancelResult): CancelResult {
  const f = new Fields(kucoinCancel, 'cancel');
  return {
    cancelledOrderIds: f.array('cancelledOrderIds').map((id, index) => {
      if (typeof id !== 'string' || id === '') throw new UpstreamShapeError(`cancel.cancelledOrderIds.${index}`, 'KuCoin cancel: an order id is not a string');
      return id;
    }),
  };
}

/**
 * KuCoin's funding rate (docs/kucoin.md "REST endpoints the gateway calls") → `FundingRate`. KuCoin names the funding index (`.XBTUSDTMFPI8H`), not the contract, so
 * the contract is passed in: its id, or better the contract itself (its `baseCurrency` is the truth;
 * an id is split by the `<BASE><QUOTE>M` naming (docs/kucoin.md "Fields and units"), which dated futures do not follow).
 */
export function toFundingRate(kucoinFunding: KucoinFundingRate, contract: string | FundingContractRef): FundingRate {
  const f = new Fields(kucoinFunding, 'funding');
  const { symbol, baseCurrency } = typeof contract === 'string' ? { symbol: contract, baseCurrency: baseOfSymbol(contract) } : contract;
  return {
    symbol: symbolOf(symbol, 'contract.symbol'),
    baseAsset: assetOf(baseCurrency, 'contract.baseCurrency'),
    fundingRateSymbol: f.string('symbol'),
    rate: f.number('value'),
    predictedRate: f.optionalNumber('predictedValue'),
    rateCap: f.optionalNumber('fundingRateCap'),
    rateFloor: f.optionalNumber('fundingRateFloor'),
    intervalMs: f.integer('granularity'),
    previousFundingTime: f.optionalEpochMs('timePoint'),
    nextFundingTime: f.optionalEpochMs('fundingTime'),
  };
}

/** KuCoin's account overview (docs/kucoin.md "REST endpoints the gateway calls") → `Account`. */
export function toAccount(overview: KucoinAccountOverview): Account {
  const f = new Fields(overview, 'account');
  return {
    currency: f.asset('currency'),
    equity: f.number('accountEquity'),
    unrealisedPnl: f.number('unrealisedPNL'),
    marginBalance: f.number('marginBalance'),
    positionMargin: f.number('positionMargin'),
    orderMargin: f.number('orderMargin'),
    frozenFunds: f.number('frozenFunds'),
    availableBalance: f.number('availableBalance'),
    riskRatio: f.number('riskRatio'),
    maxWithdrawAmount: f.number('maxWithdrawAmount'),
  };
}

/** KuCoin's contract (docs/kucoin.md "REST endpoints the gateway calls") → `Contract`; `multiplier` is KuCoin's magnitude (inverse contracts send -1, docs/kucoin.md "Fields and units"). */
export function toContract(kucoinContract: KucoinContract): Contract {
  const f = new Fields(kucoinContract, 'contract');
  const lotSize = f.integer('lotSize');
  if (lotSize < 1) throw f.error('lotSize', `a lot size of ${lotSize} is not a positive integer`);
  const tickSize = f.number('tickSize');
  if (tickSize <= 0) throw f.error('tickSize', `a tick size of ${tickSize} is not positive`);
  return {
    symbol: f.symbol('symbol'),
    baseAsset: f.asset('baseCurrency'),
    quoteCurrency: f.asset('quoteCurrency'),
    settleCurrency: f.asset('settleCurrency'),
    isInverse: f.boolean('isInverse'),
    multiplier: Math.abs(multiplierOf({ multiplier: f.number('multiplier') })),
    lotSize,
    tickSize,
    maxOrderQty: f.integer('maxOrderQty'),
    maxLeverage: f.number('maxLeverage'),
    status: f.string('status'),
    markPrice: f.optionalNumber('markPrice'),
    indexPrice: f.optionalNumber('indexPrice'),
    fundingRate: f.optionalNumber('fundingFeeRate'),
  };
}

// --- helpers ----------------------------------------------------------------------------------

function marginModeOf(mode: 'ISOLATED' | 'CROSS'): 'isolated' | 'cross' {
  return mode === 'CROSS' ? 'cross' : 'isolated';
}

/** `marginMode` is required (docs/kucoin.md "REST endpoints the gateway calls"); `crossMode` says the same and covers payloads without it. */
function positionMarginMode(f: Fields): 'isolated' | 'cross' {
  if (f.has('marginMode')) return marginModeOf(f.oneOf('marginMode', ['ISOLATED', 'CROSS'] as const));
  return f.boolean('crossMode') ? 'cross' : 'isolated';
}

/**
 * The order types KuCoin documents (Get Order List's `type`, https://www.kucoin.com/docs-new/api-3470244),
 * as the contract's `OrderKind` spells them.
 */
export const DOCUMENTED_ORDER_TYPES = ['LIMIT', 'MARKET', 'LIMIT_STOP', 'MARKET_STOP', 'OCO_LIMIT', 'OCO_STOP'] as const;

// The open half of `OrderKind`: a type KuCoin adds later is passed on upper-cased, not refused, so
// one such order cannot fail a whole list or snapshot.
const ORDER_KIND = /^[A-Z][A-Z0-9_]{0,31}$/;

/** KuCoin's `type` upper-cased (`limit_stop` → LIMIT_STOP); a value that is not even a type name is a shape error. */
function orderTypeOf(f: Fields): Order['type'] {
  const raw = f.string('type');
  const type = raw.toUpperCase();
  if (!ORDER_KIND.test(type)) throw f.error('type', `${preview(raw)} is not an order type name`);
  return type;
}

/** MARKET and MARKET_STOP carry no price of their own (KuCoin sends "0" or ""). */
const isMarketKind = (type: string): boolean => type === 'MARKET' || type === 'MARKET_STOP';

function multiplierOf(contract: Pick<ContractRef, 'multiplier'>): number {
  const { multiplier } = contract;
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier === 0) {
    throw new UpstreamShapeError('contract.multiplier', `KuCoin contract: multiplier ${preview(multiplier)} is not a non-zero number`);
  }
  return multiplier;
}

/** The base currency of a `<BASE><QUOTE>M` id (docs/kucoin.md "Fields and units"): XBTUSDTM → XBT. */
function baseOfSymbol(symbol: string): string {
  const match = /^([A-Z0-9]+?)(?:USDT|USDC|USD)M$/.exec(symbol);
  if (!match) throw new TypeError(`cannot tell the base currency of ${symbol}; pass its contract instead`);
  return match[1]!;
}
