/**
 * Position arithmetic and the REST position object (docs/kucoin.md "REST endpoints the gateway calls"). KuCoin's cost convention (BitMEX heritage, visible
 * in the U-POS examples): cost and value are signed like the quantity for linear contracts, and
 * `lots × multiplier / price` (so a long is negative) for inverse ones; unrealised PnL is always
 * markValue − posCost. The figures follow the fixtures' relations: unrealisedPnlPcnt = PnL/|cost|,
 * unrealisedRoePcnt = PnL/posInit, maintMargin = posMargin + PnL, realLeverage = |markValue|/maintMargin,
 * realisedCost = realisedGrossCost + currentComm, realisedPnl = −realisedCost + funding.
 */
import type { KucoinPosition, KucoinRiskLimitTier } from '../../kucoin/payloads.js';
import { valueOf, priceOf, type ContractSpec } from './contracts.js';
import { decimalsOf, round, tidy, toStep } from './numbers.js';
import type { MarketState, PositionState, SymbolSettings } from './state.js';

export function flatPosition(id: string, symbol: string, settings: SymbolSettings, now: number): PositionState {
  return {
    id,
    symbol,
    qty: 0,
    cost: 0,
    posInit: 0,
    posFunding: 0,
    comm: 0,
    realisedGrossPnl: 0,
    funding: 0,
    marginMode: settings.marginMode,
    leverage: 1,
    openingTimestamp: now,
    currentTimestamp: now,
  };
}

/**
 * Applies a fill of `lots` (signed) at `price` to the position: the part against the position
 * closes it and realises PnL, the rest opens at `leverage`. Returns the realised gross PnL.
 */
export function applyFill(pos: PositionState, spec: ContractSpec, settings: SymbolSettings, lots: number, price: number, leverage: number, now: number): number {
  let rest = lots;
  let realised = 0;
  if (pos.qty !== 0 && Math.sign(pos.qty) !== Math.sign(lots)) {
    const closing = Math.min(Math.abs(lots), Math.abs(pos.qty));
    const fraction = closing / Math.abs(pos.qty);
    const costPart = pos.cost * fraction;
    realised = valueOf(spec, Math.sign(pos.qty) * closing, price) - costPart;
    pos.realisedGrossPnl += realised;
    pos.cost -= costPart;
    pos.posInit -= pos.posInit * fraction;
    pos.posFunding -= pos.posFunding * fraction;
    pos.qty += Math.sign(lots) * closing;
    rest -= Math.sign(lots) * closing;
  }
  if (rest !== 0) {
    if (pos.qty === 0) Object.assign(pos, { ...flatPosition(pos.id, pos.symbol, settings, now), leverage: pos.leverage });
    const added = valueOf(spec, rest, price);
    pos.cost += added;
    pos.posInit += Math.abs(added) / leverage;
    pos.qty += rest;
    pos.leverage = leverage;
  }
  if (pos.qty === 0) Object.assign(pos, { cost: 0, posInit: 0, posFunding: 0 });
  pos.currentTimestamp = now;
  return realised;
}

/** The tier covering a position value (cross margin has no manual level, docs/kucoin.md "REST endpoints the gateway calls"). */
export function tierForValue(spec: ContractSpec, value: number): KucoinRiskLimitTier {
  return spec.tiers.find((tier) => value <= tier.maxRiskLimit) ?? spec.tiers[spec.tiers.length - 1]!;
}

export function tierOf(spec: ContractSpec, settings: SymbolSettings): KucoinRiskLimitTier {
  return spec.tiers[settings.riskLimitLevel - 1] ?? spec.tiers[0]!;
}

/** The numbers the account overview also needs (no liquidation price, which needs the account). */
export interface PositionFigures {
  isolated: boolean;
  markValue: number;
  unrealisedPnl: number;
  posInit: number;
  posComm: number;
  posMargin: number;
  posMaint: number;
  mmr: number;
}

export function figuresOf(pos: PositionState, spec: ContractSpec, settings: SymbolSettings, market: MarketState): PositionFigures {
  const isolated = settings.marginMode === 'ISOLATED';
  const absCost = Math.abs(pos.cost);
  const markValue = valueOf(spec, pos.qty, market.markPrice);
  const unrealisedPnl = pos.qty === 0 ? 0 : markValue - pos.cost;
  const posInit = isolated ? pos.posInit : absCost / settings.crossLeverage;
  // Isolated positions reserve the taker fee of closing them (OLD "HOLDS"; posComm in the examples).
  const posComm = isolated ? absCost * spec.takerFeeRate : 0;
  const posMargin = isolated ? posInit + posComm + pos.posFunding : posInit;
  const mmr = (isolated ? tierOf(spec, settings) : tierForValue(spec, absCost)).maintainMargin;
  return { isolated, markValue, unrealisedPnl, posInit, posComm, posMargin, posMaint: Math.abs(markValue) * mmr, mmr };
}

/**
 * The price at which the position has lost `buffer` (settle currency): its bankruptcy price when
 * the buffer is the margin, its liquidation price when the maintenance margin is kept back.
 * A simple formula, not KuCoin's (which also counts fees and the ADL queue).
 */
function priceAfterLoss(spec: ContractSpec, pos: PositionState, buffer: number): number {
  if (pos.qty === 0) return 0;
  const target = pos.cost - buffer;
  const price = priceOf(spec, pos.qty, target);
  if (!Number.isFinite(price) || price <= 0) return pos.qty > 0 ? 0 : spec.maxPrice;
  return Math.min(toStep(price, spec.tickSize), spec.maxPrice);
}

/** The full REST position object. `crossAvailable` is the account's available balance, the extra buffer of a cross position. */
export function positionPayload(pos: PositionState, spec: ContractSpec, settings: SymbolSettings, market: MarketState, crossAvailable: number, now: number): KucoinPosition {
  const f = figuresOf(pos, spec, settings, market);
  const open = pos.qty !== 0;
  const absCost = Math.abs(pos.cost);
  const maintMargin = f.posMargin + f.unrealisedPnl;
  const realLeverage = open && maintMargin > 0 ? Math.abs(f.markValue) / maintMargin : 0;
  const buffer = f.isolated ? f.posMargin : f.posMargin + crossAvailable;
  const tier = tierOf(spec, settings);
  const r = tidy;
  const payload: KucoinPosition = {
    id: pos.id,
    symbol: pos.symbol,
    crossMode: !f.isolated,
    // An ADL rank of sorts: how leveraged the position runs against the contract's maximum.
    delevPercentage: open ? round(Math.min(1, realLeverage / spec.maxLeverage), 2) : 0,
    openingTimestamp: pos.openingTimestamp,
    currentTimestamp: now,
    currentQty: pos.qty,
    currentCost: r(pos.cost),
    currentComm: r(pos.comm),
    unrealisedCost: r(pos.cost),
    realisedGrossCost: r(-pos.realisedGrossPnl),
    realisedCost: r(-pos.realisedGrossPnl + pos.comm),
    isOpen: open,
    markPrice: market.markPrice,
    markValue: r(f.markValue),
    posCost: r(pos.cost),
    posInit: r(f.posInit),
    posMargin: r(f.posMargin),
    realisedGrossPnl: r(pos.realisedGrossPnl),
    realisedPnl: r(pos.realisedGrossPnl - pos.comm + pos.funding),
    unrealisedPnl: r(f.unrealisedPnl),
    unrealisedPnlPcnt: open && absCost > 0 ? round(f.unrealisedPnl / absCost, 4) : 0,
    unrealisedRoePcnt: open && f.posInit > 0 ? round(f.unrealisedPnl / f.posInit, 4) : 0,
    avgEntryPrice: open ? round(priceOf(spec, pos.qty, pos.cost), decimalsOf(spec.tickSize) + 2) : 0,
    liquidationPrice: open ? priceAfterLoss(spec, pos, buffer - f.posMaint) : 0,
    bankruptPrice: open ? priceAfterLoss(spec, pos, buffer) : 0,
    settleCurrency: spec.settleCurrency,
    isInverse: spec.isInverse,
    marginMode: settings.marginMode,
    positionSide: 'BOTH',
    leverage: f.isolated ? (open ? tidy(realLeverage) : pos.leverage) : settings.crossLeverage,
    posMaint: r(f.posMaint),
  };
  if (!f.isolated) return payload;
  // These are sent for isolated positions only (docs/kucoin.md "REST endpoints the gateway calls").
  return {
    ...payload,
    autoDeposit: false,
    maintMarginReq: tier.maintainMargin,
    riskLimit: tier.maxRiskLimit,
    realLeverage: tidy(realLeverage),
    posCross: 0,
    posCrossMargin: 0,
    posComm: r(f.posComm),
    posCommCommon: r(f.posComm),
    posLoss: 0,
    posFunding: r(pos.posFunding),
    maintMargin: r(maintMargin),
    maintainMargin: tier.maintainMargin,
    riskLimitLevel: settings.riskLimitLevel,
  };
}

/**
 * The partial `position.change` KuCoin pushes when only the mark moved (docs/kucoin.md "The private WebSocket": "mark-price-driven
 * pushes are partial"); the field set is the OLD docs' "position changes caused by mark price".
 */
export function markChangePayload(full: KucoinPosition): Record<string, unknown> {
  return {
    markPrice: full.markPrice,
    markValue: full.markValue,
    maintMargin: full.maintMargin ?? tidy(full.posMargin + full.unrealisedPnl),
    realLeverage: full.realLeverage ?? full.leverage,
    unrealisedPnl: full.unrealisedPnl,
    unrealisedRoePcnt: full.unrealisedRoePcnt,
    unrealisedPnlPcnt: full.unrealisedPnlPcnt,
    delevPercentage: full.delevPercentage,
    currentTimestamp: full.currentTimestamp,
    settleCurrency: full.settleCurrency,
  };
}
