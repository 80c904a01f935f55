/**
 * Order entry, fills and cancels (docs/kucoin.md "REST endpoints the gateway calls"; docs/kucoin.md "Orders: clientOid, lookups and what the gateway does"). Market orders fill at the
 * mark at once (taker); a limit order that the mark has already crossed fills at the mark (taker),
 * otherwise it rests and fills at its own price (maker) when the mark reaches it.
 */
import type { KucoinOrderPlaced } from '../../kucoin/payloads.js';
import { valueOf } from './contracts.js';
import type { EngineCore } from './core.js';
import { refuse } from './errors.js';
import { onStep } from './numbers.js';
import { parseOrderRequest, type OrderRequest } from './order-entry.js';
import { remainingOf } from './orders.js';
import { applyFill, tierOf } from './positions.js';
import type { OrderState } from './state.js';

/** OLD: at most 100 open limit orders per contract. */
const MAX_OPEN_ORDERS = 100;
/** OLD "PRICE": buy ≤ 1.05 × mark, sell ≥ 0.95 × mark. */
const BAND = 0.05;

export function placeOrder(core: EngineCore, body: unknown, test = false): KucoinOrderPlaced {
  const req = parseOrderRequest(body);
  const spec = core.spec(req.symbol);
  // The matching engine's check: it does not lag (only the query side does).
  if (core.state.orders.some((o) => o.clientOid === req.clientOid && core.holdsClientOid(o))) throw refuse.duplicateClientOid();
  const settings = core.settings(spec.symbol);
  if (req.marginMode !== settings.marginMode) throw refuse.marginModeMismatch();
  const pos = core.position(spec.symbol);
  const mark = core.market(spec.symbol).markPrice;

  let side = req.side;
  let size: number;
  if (req.closeOrder) {
    if (pos.qty === 0) throw refuse.nothingToClose();
    side = pos.qty > 0 ? 'sell' : 'buy';
    size = Math.abs(pos.qty);
  } else {
    size = lotsOf(core, req, mark);
  }
  if (side === undefined) throw refuse.invalidParam('side is required');
  if (!Number.isSafeInteger(size) || size < spec.lotSize || size % spec.lotSize !== 0 || size > spec.maxOrderQty) {
    throw refuse.invalidParam(`size must be a whole number of lots between ${spec.lotSize} and ${spec.maxOrderQty}`);
  }
  const price = req.type === 'limit' ? req.price! : 0;
  if (req.type === 'limit') {
    if (!onStep(price, spec.tickSize) || price > spec.maxPrice) throw refuse.invalidParam(`price must be a multiple of the tick size ${spec.tickSize}`);
    const slack = spec.tickSize * 1e-6;
    if (side === 'buy' && price > mark * (1 + BAND) + slack) throw refuse.priceTooHigh(mark * (1 + BAND));
    if (side === 'sell' && price < mark * (1 - BAND) - slack) throw refuse.priceTooLow(mark * (1 - BAND));
  }

  const reducing = req.reduceOnly || req.closeOrder;
  const isolated = settings.marginMode === 'ISOLATED';
  // SUP-CROSS: the order's leverage only matters in isolated mode; cross uses the symbol's setting.
  let leverage = isolated ? req.leverage : settings.crossLeverage;
  if (isolated) {
    const max = Math.min(spec.maxLeverage, tierOf(spec, settings).maxLeverage);
    if (leverage === undefined) {
      if (!reducing) throw refuse.invalidParam('leverage is required');
      leverage = Math.max(1, pos.leverage);
    } else if (leverage > max) throw refuse.leverage(max);
  }
  const lev = leverage ?? 1;

  const against = side === 'buy' ? Math.max(0, -pos.qty) : Math.max(0, pos.qty);
  const opening = reducing ? 0 : Math.max(0, size - against);
  const execPrice = req.type === 'market' ? mark : price;
  const openingValue = Math.abs(valueOf(spec, opening, execPrice));
  if (isolated && opening > 0 && Math.abs(pos.cost) + openingValue > tierOf(spec, settings).maxRiskLimit) throw refuse.riskLimit();
  if (opening > 0 && openingValue * (1 / lev + spec.takerFeeRate) > core.ledger(spec.settleCurrency).availableBalance + 1e-12) throw refuse.balance();
  if (req.type === 'limit' && core.state.orders.filter((o) => o.symbol === spec.symbol && o.status === 'open').length >= MAX_OPEN_ORDERS) {
    throw refuse.activeOrderLimit();
  }

  // A test order is validated only; it never exists afterwards (docs/kucoin.md "REST endpoints the gateway calls").
  if (test) return { orderId: core.nextOrderId(), clientOid: req.clientOid };

  const now = core.now();
  const order: OrderState = {
    id: core.nextOrderId(),
    clientOid: req.clientOid,
    symbol: spec.symbol,
    side,
    type: req.type,
    price,
    size,
    filledSize: 0,
    filledValue: 0,
    filledNotional: 0,
    leverage: lev,
    marginMode: settings.marginMode,
    reduceOnly: req.reduceOnly,
    closeOrder: req.closeOrder,
    postOnly: req.postOnly,
    hidden: req.hidden,
    iceberg: req.iceberg,
    visibleSize: req.visibleSize,
    forceHold: req.forceHold,
    timeInForce: req.timeInForce,
    stp: req.stp,
    remark: req.remark,
    status: 'open',
    canceled: false,
    createdAt: now,
    updatedAt: now,
    endAt: null,
  };
  core.state.orders.push(order);
  core.pushOrder(order, 'open');

  const marketable = req.type === 'market' || (side === 'buy' ? price >= mark : price <= mark);
  // A marketable limit takes at the mark, which is at least as good as its price.
  if (marketable && !req.postOnly) fill(core, order, mark, 'taker');
  else if (marketable || req.timeInForce === 'IOC') cancel(core, order);
  else core.pushWallet(spec.settleCurrency);
  return { orderId: order.id, clientOid: order.clientOid };
}

function lotsOf(core: EngineCore, req: OrderRequest, mark: number): number {
  const spec = core.spec(req.symbol);
  if (req.size !== undefined) return req.size;
  // Qty and valueQty exist for USDT/USDC-margined contracts only (docs/kucoin.md "REST endpoints the gateway calls").
  if (spec.isInverse) throw refuse.invalidParam('qty and valueQty are for USDT/USDC-margined contracts; send size');
  if (req.qty !== undefined) {
    const lots = req.qty / spec.multiplier;
    if (Math.abs(lots - Math.round(lots)) > 1e-9) throw refuse.invalidParam(`qty must be a multiple of the multiplier ${spec.multiplier}`);
    return Math.round(lots);
  }
  const price = req.type === 'limit' ? req.price! : mark;
  return Math.floor(req.valueQty! / (spec.multiplier * price) + 1e-9);
}

/** Fills what is left of `order` at `price`; a reduce-only remainder that has nothing left to reduce is cancelled (docs/kucoin.md "REST endpoints the gateway calls"). */
export function fill(core: EngineCore, order: OrderState, price: number, liquidity: 'maker' | 'taker'): void {
  const spec = core.spec(order.symbol);
  const settings = core.settings(order.symbol);
  const pos = core.position(order.symbol);
  let lots = remainingOf(order);
  if (order.reduceOnly || order.closeOrder) lots = Math.min(lots, order.side === 'buy' ? Math.max(0, -pos.qty) : Math.max(0, pos.qty));
  const now = core.now();
  if (lots > 0) {
    const leverage = order.marginMode === 'CROSS' ? settings.crossLeverage : order.leverage;
    const realised = applyFill(pos, spec, settings, order.side === 'buy' ? lots : -lots, price, leverage, now);
    const value = Math.abs(valueOf(spec, lots, price));
    const fee = value * (liquidity === 'maker' ? spec.makerFeeRate : spec.takerFeeRate);
    pos.comm += fee;
    core.state.wallet[spec.settleCurrency] = (core.state.wallet[spec.settleCurrency] ?? 0) + realised - fee;
    order.filledSize += lots;
    order.filledValue += value;
    order.filledNotional += price * lots;
    order.updatedAt = now;
    if (order.filledSize === order.size) Object.assign(order, { status: 'done', endAt: now });
    core.pushOrder(order, 'match', { matchPrice: price, matchSize: lots, tradeId: core.nextTradeId(), liquidity });
    if (order.status === 'done') core.pushOrder(order, 'filled');
    core.pushPosition(order.symbol, 'positionChange');
  }
  if (order.status === 'open') cancel(core, order);
  else core.pushWallet(spec.settleCurrency);
}

function cancel(core: EngineCore, order: OrderState): void {
  const now = core.now();
  Object.assign(order, { status: 'done', canceled: true, updatedAt: now, endAt: now });
  core.pushOrder(order, 'canceled');
  core.pushWallet(core.spec(order.symbol).settleCurrency);
}

/** Resting limits the mark has reached fill at their own price, oldest first. */
export function fillCrossed(core: EngineCore, symbol: string): void {
  const mark = core.market(symbol).markPrice;
  const crossed = core.state.orders.filter(
    (o) => o.symbol === symbol && o.status === 'open' && o.type === 'limit' && (o.side === 'buy' ? mark <= o.price : mark >= o.price),
  );
  for (const order of crossed) if (order.status === 'open') fill(core, order, order.price, 'maker');
}

/** Cancel by id. A done order cannot be cancelled (100004); an unknown id is 100001 `error.getOrder.orderNotExist`, as KuCoin answers it. */
export function cancelOrder(core: EngineCore, orderId: string): { cancelledOrderIds: string[] } {
  const order = core.state.orders.find((o) => o.id === orderId);
  if (!order) throw refuse.unknownOrder();
  if (order.status !== 'open') throw refuse.notCancelable();
  cancel(core, order);
  return { cancelledOrderIds: [order.id] };
}

export function cancelByClientOid(core: EngineCore, clientOid: string, symbol: string | null): { clientOid: string } {
  if (!symbol) throw refuse.invalidParam('symbol is required');
  core.spec(symbol);
  const order = core.state.orders.find((o) => o.clientOid === clientOid && o.symbol === symbol);
  if (!order) throw refuse.notCancelable('The order does not exist');
  if (order.status !== 'open') throw refuse.notCancelable();
  cancel(core, order);
  return { clientOid };
}

/** `DELETE /api/v3/orders?symbol=`: every open order of the symbol (stop orders are not simulated). */
export function cancelAll(core: EngineCore, symbol: string | null): { cancelledOrderIds: string[] } {
  if (!symbol) throw refuse.invalidParam('symbol is required');
  core.spec(symbol);
  const open = core.state.orders.filter((o) => o.symbol === symbol && o.status === 'open');
  for (const order of open) cancel(core, order);
  return { cancelledOrderIds: open.map((o) => o.id) };
}
