/**
 * The account per settle currency: the REST overview (docs/kucoin.md "REST endpoints the gateway calls") and the `walletBalance.change` push data (docs/kucoin.md "The private WebSocket"), both from
 * one ledger so they always agree. The wallet balance is cash (deposits + realised PnL − fees +
 * funding); isolated position margin and order margin are set aside from it; cross positions also
 * lend their unrealised PnL to the available balance (SUP-CROSS: cross margin shares the balance).
 * accountEquity = marginBalance + unrealisedPNL, as the account overview defines it.
 */
import type { KucoinAccountOverview } from '../../kucoin/payloads.js';
import { valueOf, type ContractSpec } from './contracts.js';
import { remainingOf } from './orders.js';
import { figuresOf } from './positions.js';
import { decimalString, tidy } from './numbers.js';
import type { AccountState, OrderState, SymbolSettings } from './state.js';

export interface Ledger {
  currency: string;
  walletBalance: number;
  isolatedPosMargin: number;
  crossPosMargin: number;
  isolatedOrderMargin: number;
  crossOrderMargin: number;
  isolatedUnPnl: number;
  crossUnPnl: number;
  crossMaint: number;
  availableBalance: number;
}

/** Margin an open order sets aside; reduce-only and close orders freeze nothing (OLD "HOLDS", docs/kucoin.md "REST endpoints the gateway calls"). */
export function orderMarginOf(order: OrderState, spec: ContractSpec, settings: SymbolSettings): number {
  if (order.status !== 'open' || order.reduceOnly || order.closeOrder) return 0;
  const leverage = order.marginMode === 'CROSS' ? settings.crossLeverage : order.leverage;
  return Math.abs(valueOf(spec, remainingOf(order), order.price)) / leverage;
}

export function ledgerOf(state: AccountState, specs: readonly ContractSpec[], currency: string): Ledger {
  const ledger: Ledger = {
    currency,
    walletBalance: state.wallet[currency] ?? 0,
    isolatedPosMargin: 0,
    crossPosMargin: 0,
    isolatedOrderMargin: 0,
    crossOrderMargin: 0,
    isolatedUnPnl: 0,
    crossUnPnl: 0,
    crossMaint: 0,
    availableBalance: 0,
  };
  const bySymbol = new Map(specs.map((spec) => [spec.symbol, spec]));
  for (const spec of specs) {
    if (spec.settleCurrency !== currency) continue;
    const pos = state.positions[spec.symbol];
    const settings = state.settings[spec.symbol]!;
    if (!pos || pos.qty === 0) continue;
    const f = figuresOf(pos, spec, settings, state.markets[spec.symbol]!);
    if (f.isolated) {
      ledger.isolatedPosMargin += f.posMargin;
      ledger.isolatedUnPnl += f.unrealisedPnl;
    } else {
      ledger.crossPosMargin += f.posMargin;
      ledger.crossUnPnl += f.unrealisedPnl;
      ledger.crossMaint += f.posMaint;
    }
  }
  for (const order of state.orders) {
    const spec = bySymbol.get(order.symbol);
    if (order.status !== 'open' || !spec || spec.settleCurrency !== currency) continue;
    const margin = orderMarginOf(order, spec, state.settings[order.symbol]!);
    if (order.marginMode === 'CROSS') ledger.crossOrderMargin += margin;
    else ledger.isolatedOrderMargin += margin;
  }
  const free = ledger.walletBalance - ledger.isolatedPosMargin - ledger.crossPosMargin - ledger.isolatedOrderMargin - ledger.crossOrderMargin + ledger.crossUnPnl;
  ledger.availableBalance = Math.max(0, free);
  return ledger;
}

export function overviewOf(ledger: Ledger): KucoinAccountOverview {
  const r = tidy;
  const unrealised = ledger.isolatedUnPnl + ledger.crossUnPnl;
  const crossEquity = ledger.walletBalance - ledger.isolatedPosMargin - ledger.isolatedOrderMargin + ledger.crossUnPnl;
  return {
    accountEquity: r(ledger.walletBalance + unrealised),
    unrealisedPNL: r(unrealised),
    marginBalance: r(ledger.walletBalance),
    positionMargin: r(ledger.isolatedPosMargin + ledger.crossPosMargin),
    orderMargin: r(ledger.isolatedOrderMargin + ledger.crossOrderMargin),
    frozenFunds: 0,
    availableBalance: r(ledger.availableBalance),
    currency: ledger.currency,
    riskRatio: crossEquity > 0 ? tidy(ledger.crossMaint / crossEquity) : 0,
    // Unrealised profit cannot be withdrawn.
    maxWithdrawAmount: r(Math.max(0, ledger.availableBalance - Math.max(0, ledger.crossUnPnl))),
  };
}

/** `/contractAccount/wallet` `walletBalance.change` data: every field a string (docs/kucoin.md "The private WebSocket"). */
export function walletPushPayload(ledger: Ledger, version: number, now: number): Record<string, string> {
  const s = (n: number) => decimalString(n);
  return {
    crossPosMargin: s(ledger.crossPosMargin),
    isolatedOrderMargin: s(ledger.isolatedOrderMargin),
    holdBalance: '0',
    equity: s(ledger.walletBalance + ledger.isolatedUnPnl + ledger.crossUnPnl),
    version: String(version),
    availableBalance: s(ledger.availableBalance),
    isolatedPosMargin: s(ledger.isolatedPosMargin),
    walletBalance: s(ledger.walletBalance),
    isolatedFundingFeeMargin: '0',
    crossUnPnl: s(ledger.crossUnPnl),
    // The U-WSPRIV example has totalCrossMargin = availableBalance with no cross position.
    totalCrossMargin: s(ledger.availableBalance + ledger.crossPosMargin + ledger.crossOrderMargin),
    currency: ledger.currency,
    isolatedUnPnl: s(ledger.isolatedUnPnl),
    crossOrderMargin: s(ledger.crossOrderMargin),
    timestamp: String(now),
  };
}
