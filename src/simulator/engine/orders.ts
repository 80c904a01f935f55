/**
 * Order wire shapes: the REST order object (sizes integers, prices and values strings; docs/kucoin.md "REST endpoints the gateway calls") and the push
 * `orderChange` push data (every size and price a string, `orderTime`/`ts` in ns).
 */
import type { KucoinOrder } from '../../kucoin/payloads.js';
import { valueOf, type ContractSpec } from './contracts.js';
import { decimalsOf, decimalString, msToNs, round } from './numbers.js';
import type { OrderState } from './state.js';

export const remainingOf = (order: OrderState): number => order.size - order.filledSize;

export function averagePriceOf(order: OrderState, spec: ContractSpec): number {
  return order.filledSize === 0 ? 0 : round(order.filledNotional / order.filledSize, decimalsOf(spec.tickSize) + 2);
}

/** Value of an order at its own price (limit) or at what it filled (market), settle currency. */
function orderValue(order: OrderState, spec: ContractSpec): number {
  return order.type === 'market' ? order.filledValue : Math.abs(valueOf(spec, order.size, order.price));
}

export function orderPayload(order: OrderState, spec: ContractSpec): KucoinOrder {
  const active = order.status === 'open';
  return {
    id: order.id,
    symbol: order.symbol,
    type: order.type,
    side: order.side,
    // The CCXT fetchOrder fixture: a market order's price is "0" (docs/kucoin.md "REST endpoints the gateway calls").
    price: order.type === 'market' ? '0' : decimalString(order.price),
    size: order.size,
    value: decimalString(orderValue(order, spec)),
    dealValue: decimalString(order.filledValue),
    dealSize: order.filledSize,
    stp: order.stp,
    stop: '',
    stopPriceType: '',
    stopTriggered: false,
    stopPrice: null,
    timeInForce: order.timeInForce,
    postOnly: order.postOnly,
    hidden: order.hidden,
    iceberg: order.iceberg,
    leverage: String(order.leverage),
    forceHold: order.forceHold,
    closeOrder: order.closeOrder,
    visibleSize: order.visibleSize,
    clientOid: order.clientOid,
    remark: order.remark,
    tags: '',
    isActive: active,
    cancelExist: order.canceled,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    endAt: order.endAt,
    orderTime: msToNs(order.createdAt),
    settleCurrency: spec.settleCurrency,
    marginMode: order.marginMode,
    avgDealPrice: decimalString(averagePriceOf(order, spec)),
    filledSize: order.filledSize,
    filledValue: decimalString(order.filledValue),
    status: order.status,
    reduceOnly: order.reduceOnly,
  };
}

export type OrderEvent = 'open' | 'match' | 'filled' | 'canceled';

export interface MatchDetails {
  matchPrice: number;
  matchSize: number;
  tradeId: string;
  liquidity: 'maker' | 'taker';
}

/** `orderChange` / `symbolOrderChange` data for one order event (docs/kucoin.md "The private WebSocket"). */
export function orderChangePayload(order: OrderState, type: OrderEvent, now: number, match?: MatchDetails): Record<string, unknown> {
  const open = order.status === 'open';
  const status = type === 'open' ? 'open' : type === 'match' && open ? 'match' : 'done';
  const data: Record<string, unknown> = {
    symbol: order.symbol,
    orderType: order.type,
    side: order.side,
    orderId: order.id,
    clientOid: order.clientOid,
    marginMode: order.marginMode,
    type,
    status,
    size: String(order.size),
    filledSize: String(order.filledSize),
    remainSize: String(open ? remainingOf(order) : 0),
    canceledSize: String(order.canceled ? remainingOf(order) : 0),
    // As in the REST order object: a market order's price is "0" (docs/kucoin.md "REST endpoints the gateway calls", CCXT fixture); the push example shows only a limit.
    price: order.type === 'market' ? '0' : decimalString(order.price),
    liquidity: match?.liquidity ?? (order.type === 'market' ? 'taker' : 'maker'),
    orderTime: msToNs(order.createdAt),
    ts: msToNs(now),
  };
  if (match) {
    Object.assign(data, {
      matchPrice: decimalString(match.matchPrice),
      matchSize: String(match.matchSize),
      tradeId: match.tradeId,
      feeType: match.liquidity === 'maker' ? 'makerFee' : 'takerFee',
      tradeType: 'trade',
    });
  }
  return data;
}
