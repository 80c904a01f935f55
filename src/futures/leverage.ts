import type { components } from '../../generated/openapi.js';
import { GatewayError } from '../http/errors.js';
import type { KucoinContract, KucoinRiskLimitTier } from '../kucoin/payloads.js';
import { toUserAsset } from '../kucoin/symbols.js';
import type { FuturesDeps } from './deps.js';
import { marginModeOf } from './margin-mode.js';

type LeverageChange = components['schemas']['LeverageChange'];
type LeverageResult = components['schemas']['LeverageResult'];

/**
 * Isolated leverage has no KuCoin setting: it travels with each order (kucoin-futures.md §3.5).
 * What PUT /api/futures/leverage sets for isolated symbols is remembered here and used as the
 * default for later isolated orders. In-memory, per process.
 */
export class LeverageMemory {
  readonly #bySymbol = new Map<string, number>();
  get(symbol: string): number | undefined {
    return this.#bySymbol.get(symbol);
  }
  set(symbol: string, leverage: number): void {
    this.#bySymbol.set(symbol, leverage);
  }
}

export async function setLeverage(deps: FuturesDeps & { leverage: LeverageMemory }, change: LeverageChange): Promise<LeverageResult> {
  const contract = await deps.catalog.resolve(change.symbol);
  const mode = change.marginMode.toUpperCase() as 'CROSS' | 'ISOLATED';
  if (change.leverage > contract.maxLeverage) {
    throw new GatewayError('LEVERAGE_TOO_HIGH', `${contract.symbol} allows at most ${contract.maxLeverage}x; ${change.leverage}x was asked.`, {
      errors: [{ location: 'body', field: 'leverage', message: `must be at most ${contract.maxLeverage}` }],
    });
  }
  await ensureMarginMode(deps, contract.symbol, mode);
  const base = { symbol: contract.symbol, baseAsset: toUserAsset(contract.baseCurrency), leverage: change.leverage };

  if (mode === 'CROSS') {
    await deps.client.call<boolean>('changeCrossLeverage', {
      body: { symbol: contract.symbol, leverage: String(change.leverage) },
      context: `setting ${contract.symbol} cross leverage`,
    });
    return { ...base, marginMode: 'cross', riskLimitLevel: null };
  }

  const tiers = await deps.client.call<KucoinRiskLimitTier[]>('riskLimitTiers', { params: { symbol: contract.symbol }, context: `reading ${contract.symbol} risk limits` });
  const level = riskLimitLevelFor(change.leverage, tiers, contract);
  await deps.client.call<boolean>('changeRiskLimitLevel', {
    body: { symbol: contract.symbol, level },
    context: `moving ${contract.symbol} to risk-limit level ${level}`,
  });
  deps.leverage.set(contract.symbol, change.leverage);
  return { ...base, marginMode: 'isolated', riskLimitLevel: level };
}

/**
 * design.md §6: the highest level whose maxLeverage still allows the requested leverage, i.e. the
 * largest position possible at that leverage. Tiers run from level 1 (highest leverage, smallest
 * positions) upwards (kucoin-futures.md §3.7).
 */
export function riskLimitLevelFor(leverage: number, tiers: readonly KucoinRiskLimitTier[], contract: KucoinContract): number {
  const allowed = tiers.filter((tier) => tier.maxLeverage >= leverage).map((tier) => tier.level);
  if (allowed.length === 0) {
    throw new GatewayError('LEVERAGE_TOO_HIGH', `No ${contract.symbol} risk-limit level allows ${leverage}x.`, {
      errors: [{ location: 'body', field: 'leverage', message: 'is above every risk-limit level' }],
    });
  }
  return Math.max(...allowed);
}

/** KuCoin refuses a mode change while orders or positions are open (50002 → 409), which passes through. */
async function ensureMarginMode(deps: FuturesDeps, symbol: string, mode: 'CROSS' | 'ISOLATED'): Promise<void> {
  if ((await marginModeOf(deps, symbol)) === mode) return;
  await deps.client.call('changeMarginMode', { body: { symbol, marginMode: mode }, context: `switching ${symbol} to ${mode.toLowerCase()} margin` });
  deps.marginModes?.set(symbol, mode);
}
