/**
 * Per-symbol settings (docs/kucoin.md "Leverage, margin mode and risk limits"): margin mode, cross leverage, isolated
 * risk-limit level. Changes are pushed on the private `user.config` topics (docs/kucoin.md "The private WebSocket").
 */
import type { KucoinCrossLeverage, KucoinMarginMode, KucoinMarginModeResult } from '../../kucoin/payloads.js';
import type { EngineCore } from './core.js';
import { refuse } from './errors.js';
import { tierOf } from './positions.js';
import { cancelAll } from './trading.js';

export function marginModeOf(core: EngineCore, symbol: string | null): KucoinMarginModeResult {
  const spec = core.spec(symbol);
  return { symbol: spec.symbol, marginMode: core.settings(spec.symbol).marginMode };
}

/** SUP-CROSS: switching needs no open orders and no position; else 50002 `exist.order.or.position`. */
export function changeMarginMode(core: EngineCore, body: Record<string, unknown>): KucoinMarginModeResult {
  const spec = core.spec(body.symbol);
  const mode = body.marginMode;
  if (mode !== 'ISOLATED' && mode !== 'CROSS') throw refuse.invalidParam('marginMode must be ISOLATED or CROSS');
  const settings = core.settings(spec.symbol);
  if (settings.marginMode !== mode) {
    const busy = core.position(spec.symbol).qty !== 0 || core.state.orders.some((o) => o.symbol === spec.symbol && o.status === 'open');
    if (busy) throw refuse.marginModeBlocked();
    settings.marginMode = mode as KucoinMarginMode;
    core.position(spec.symbol).marginMode = settings.marginMode;
    core.push('/contract/marginMode', 'user.config', { [spec.symbol]: mode }, true);
  }
  return { symbol: spec.symbol, marginMode: settings.marginMode };
}

export function crossLeverageOf(core: EngineCore, symbol: string | null): KucoinCrossLeverage {
  const spec = core.spec(symbol);
  return { symbol: spec.symbol, leverage: String(core.settings(spec.symbol).crossLeverage) };
}

/** `{symbol, leverage: "10"}` → true (docs/kucoin.md "REST endpoints the gateway calls"). Above the contract's maximum: 300016. */
export function changeCrossLeverage(core: EngineCore, body: Record<string, unknown>): boolean {
  const spec = core.spec(body.symbol);
  const leverage = Number(body.leverage);
  // api-3470261: a string holding an integer, e.g. "10".
  if (body.leverage === undefined || body.leverage === '' || !Number.isInteger(leverage) || leverage <= 0) throw refuse.invalidParam('leverage must be a positive integer');
  if (leverage > spec.maxLeverage) throw refuse.leverage(spec.maxLeverage);
  core.settings(spec.symbol).crossLeverage = leverage;
  core.push('/contract/crossLeverage', 'user.config', { [spec.symbol]: { leverage: String(leverage) } }, true);
  if (core.settings(spec.symbol).marginMode === 'CROSS' && core.position(spec.symbol).qty !== 0) {
    core.pushPosition(spec.symbol, 'marginChange');
    core.pushWallet(spec.settleCurrency);
  }
  return true;
}

/** How the simulated exchange settles a level change; set through the control API (POST /sim/risk-limit). */
export interface RiskLimitBehaviour {
  /** Time from the POST to the outcome push; 0 settles before the POST answers. */
  delayMs: number;
  /** When set, the change fails with this message (KuCoin's `msg`), e.g. insufficient balance. */
  failWith?: string;
}

/**
 * `{symbol, level}` → true, which only means "submitted" (https://www.kucoin.com/docs-new/api-3470264);
 * the outcome is pushed as `position.adjustRiskLimit` `{success, riskLimitLevel, msg}` after
 * `behaviour.delayMs`. Adjusting cancels the symbol's open orders (same page), at once. Risk-limit
 * levels are isolated-only; KuCoin's answer in cross mode is not documented, so the simulator
 * refuses it with 300000 (request parameter illegal).
 */
export function changeRiskLimitLevel(core: EngineCore, body: Record<string, unknown>, behaviour: RiskLimitBehaviour = { delayMs: 0 }): boolean {
  const spec = core.spec(body.symbol);
  const level = Number(body.level);
  if (!Number.isSafeInteger(level) || level < 1 || level > spec.tiers.length) throw refuse.invalidParam(`level must be an integer from 1 to ${spec.tiers.length}`);
  const settings = core.settings(spec.symbol);
  if (settings.marginMode !== 'ISOLATED') throw refuse.paramIllegal('Risk limit levels apply to isolated margin only');
  cancelAll(core, spec.symbol);
  const settle = (): void => {
    const tier = spec.tiers[level - 1]!;
    const position = core.position(spec.symbol);
    const leverageFits = position.qty === 0 || position.leverage <= tier.maxLeverage;
    const fits = Math.abs(position.cost) <= tier.maxRiskLimit && leverageFits;
    const success = fits && behaviour.failWith === undefined;
    if (success) settings.riskLimitLevel = level;
    const msg = success ? '' : (behaviour.failWith ?? 'The position does not fit the requested risk limit level');
    core.push(`/contract/position:${spec.symbol}`, 'position.adjustRiskLimit', { success, riskLimitLevel: tierOf(spec, settings).level, msg }, true);
  };
  if (behaviour.delayMs > 0) setTimeout(settle, behaviour.delayMs).unref();
  else settle();
  return true;
}
