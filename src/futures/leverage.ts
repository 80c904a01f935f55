import type { components } from '../../generated/openapi.js';
import { GatewayError } from '../errors.js';
import type { KucoinContract, KucoinCrossLeverage, KucoinOrderPage, KucoinPosition, KucoinRiskLimitTier } from '../kucoin/payloads.js';
import { toUserAsset } from '../symbols.js';
import type { RequestScope } from '../request-scope.js';
import type { FuturesDeps } from './deps.js';
import type { LeverageMemory } from './leverage-memory.js';
import { marginModeOf } from './margin-mode.js';
import { outcomeUnknown } from './order-settlement.js';
import { RiskLimitWatch, untilSubscribed, type PushSource, type TopicHolder } from './risk-limit-outcome.js';

export { LeverageMemory } from './leverage-memory.js';

type LeverageChange = components['schemas']['LeverageChange'];
type LeverageResult = components['schemas']['LeverageResult'];
type OpenOrder = NonNullable<components['schemas']['Problem']['openOrders']>[number];
type Mode = 'CROSS' | 'ISOLATED';

export interface LeverageDeps extends FuturesDeps {
  leverage: LeverageMemory;
  /** The KuCoin stream, when the gateway has one: the risk-limit outcome push arrives on it. */
  riskLimitPushes?: PushSource;
  /**
   * Holds the stream subscribed to the symbol's position topic while the outcome is awaited, so the
   * push arrives with no /ws/futures client connected and no list read holding the stream.
   */
  riskLimitStream?: TopicHolder;
  /** How often the position's level is read while no push has settled a change; default 250 ms. */
  riskLimitPollMs?: number;
}

/** What the answer keeps for itself after the wait for KuCoin's outcome (the 202 must be written by the deadline). */
const ANSWER_MARGIN_MS = 500;
/** Without a request's scope (never in the gateway): how long to wait for the outcome. */
const DEFAULT_WAIT_MS = 5_000;
/** At most this much of the request's time goes to bringing the stream up before the change is posted anyway. */
const STREAM_READY_SHARE = 1 / 3;

/**
 * PUT /api/futures/leverage. Everything is read and checked before the first write; a write that
 * fails after the margin mode was switched in the same request switches it back.
 */
export async function setLeverage(deps: LeverageDeps, scope: RequestScope | null, change: LeverageChange): Promise<{ status: 200 | 202; result: LeverageResult }> {
  const contract = await deps.catalog.resolve(change.symbol, scope);
  const mode: Mode = change.marginMode.toUpperCase() as Mode;
  const leverage = change.leverage;
  if (!Number.isInteger(leverage)) {
    throw new GatewayError('VALIDATION_FAILED', 'Leverage must be a whole number: KuCoin takes an integer (order `leverage`, cross leverage "10").', {
      errors: [{ location: 'body', field: 'leverage', message: 'must be an integer' }],
    });
  }
  if (leverage > contract.maxLeverage) throw tooHigh(`${contract.symbol} allows at most ${contract.maxLeverage}x; ${leverage}x was asked.`, `must be at most ${contract.maxLeverage}`);
  if (mode === 'CROSS' && change.riskLimitLevel !== undefined) {
    // KuCoin: cross margin has a continuous risk limit, no level to choose.
    throw new GatewayError('VALIDATION_FAILED', 'riskLimitLevel applies to isolated margin only.', {
      errors: [{ location: 'body', field: 'riskLimitLevel', message: 'only with marginMode isolated' }],
    });
  }
  const base = { symbol: contract.symbol, baseAsset: toUserAsset(contract.baseCurrency), leverage };
  const currentMode = await marginModeOf(deps, scope, contract.symbol);

  if (mode === 'CROSS') {
    return withModeRestored(deps, scope, contract.symbol, currentMode, mode, async () => {
      await changeCrossLeverage(deps, scope, contract.symbol, leverage);
      return { status: 200, result: { ...base, marginMode: 'cross', riskLimitLevel: null, riskLimitLevelChanged: false, riskLimitStatus: null } };
    });
  }

  const tiers = await deps.client.call<KucoinRiskLimitTier[]>('riskLimitTiers', { params: { symbol: contract.symbol }, context: `reading ${contract.symbol} risk limits`, scope });
  const current = await riskLimitLevelOf(deps, scope, contract.symbol);
  const target = targetRiskLimitLevel(leverage, tiers, current, change.riskLimitLevel, contract);
  if (target === current) {
    return withModeRestored(deps, scope, contract.symbol, currentMode, mode, async () => {
      deps.leverage.set(contract.symbol, leverage);
      return { status: 200, result: { ...base, marginMode: 'isolated', riskLimitLevel: current, riskLimitLevelChanged: false, riskLimitStatus: 'unchanged' } };
    });
  }
  if (change.cancelOpenOrders !== true) {
    const open = await openOrdersOf(deps, scope, contract.symbol);
    if (open.length > 0) {
      throw new GatewayError(
        'RISK_LIMIT_CHANGE_CANCELS_ORDERS',
        `${leverage}x needs ${contract.symbol} at risk-limit level ${target} (now ${current}); KuCoin cancels every open order of the symbol on a level change, and it has ${open.length}. Send "cancelOpenOrders": true to go ahead.`,
        { openOrders: open },
      );
    }
  }
  return withModeRestored(deps, scope, contract.symbol, currentMode, mode, async () => {
    const outcome = await changeRiskLimitLevel(deps, scope, contract.symbol, target);
    if (outcome.kind === 'failed') {
      throw new GatewayError('UPSTREAM_REJECTED', `KuCoin did not move ${contract.symbol} to risk-limit level ${target}: ${outcome.message}`, {
        upstream: { code: 'position.adjustRiskLimit', message: outcome.message },
      });
    }
    deps.leverage.set(contract.symbol, leverage);
    return outcome.kind === 'changed'
      ? { status: 200, result: { ...base, marginMode: 'isolated', riskLimitLevel: outcome.level, riskLimitLevelChanged: true, riskLimitStatus: 'changed' } }
      : { status: 202, result: { ...base, marginMode: 'isolated', riskLimitLevel: target, riskLimitLevelChanged: false, riskLimitStatus: 'pending' } };
  });
}

/**
 * The level to be at: the explicit one when asked (its maxLeverage must allow the leverage), else
 * the current one when it allows the leverage, else the allowed level nearest the current one (the
 * lower on a tie). Higher levels allow larger positions but carry larger maintenance margins, so
 * moving further than needed brings liquidation nearer for nothing (risk-limit tiers,
 * https://www.kucoin.com/docs-new/api-3470263).
 */
export function targetRiskLimitLevel(leverage: number, tiers: readonly KucoinRiskLimitTier[], current: number, explicit: number | undefined, contract: Pick<KucoinContract, 'symbol'>): number {
  if (explicit !== undefined) {
    const tier = tiers.find((t) => t.level === explicit);
    if (!tier) {
      const levels = tiers.map((t) => t.level);
      throw new GatewayError('VALIDATION_FAILED', `${contract.symbol} has risk-limit levels ${Math.min(...levels)} to ${Math.max(...levels)}; ${explicit} was asked.`, {
        errors: [{ location: 'body', field: 'riskLimitLevel', message: `must be a level of ${contract.symbol}` }],
      });
    }
    if (tier.maxLeverage < leverage) throw tooHigh(`${contract.symbol} risk-limit level ${explicit} allows at most ${tier.maxLeverage}x; ${leverage}x was asked.`, `must be at most ${tier.maxLeverage} at level ${explicit}`);
    return explicit;
  }
  const allowed = tiers.filter((tier) => tier.maxLeverage >= leverage).map((tier) => tier.level);
  if (allowed.length === 0) throw tooHigh(`No ${contract.symbol} risk-limit level allows ${leverage}x.`, 'is above every risk-limit level');
  if (allowed.includes(current)) return current;
  return allowed.reduce((best, level) => {
    const d = Math.abs(level - current) - Math.abs(best - current);
    return d < 0 || (d === 0 && level < best) ? level : best;
  });
}

function tooHigh(detail: string, message: string): GatewayError {
  return new GatewayError('LEVERAGE_TOO_HIGH', detail, { errors: [{ location: 'body', field: 'leverage', message }] });
}

/** The position's level (GET /api/v1/position carries `riskLimitLevel`, flat or not); 1, KuCoin's first tier, when it reports none. */
async function riskLimitLevelOf(deps: FuturesDeps, scope: RequestScope | null, symbol: string, leaveMs?: number): Promise<number> {
  const position = await deps.client.call<Partial<KucoinPosition> | null>('position', {
    query: { symbol },
    context: `reading the ${symbol} risk-limit level`,
    scope,
    ...(leaveMs === undefined ? {} : { leaveMs }),
  });
  const level = position?.riskLimitLevel;
  return typeof level === 'number' && Number.isInteger(level) && level >= 1 ? level : 1;
}

/** The symbol's open orders, the ones a level change cancels (GET /api/v1/orders?status=active). */
async function openOrdersOf(deps: FuturesDeps, scope: RequestScope | null, symbol: string): Promise<OpenOrder[]> {
  const page = await deps.client.call<Partial<KucoinOrderPage> | null>('listOrders', {
    query: { status: 'active', symbol, currentPage: 1, pageSize: 100 },
    context: `listing the ${symbol} open orders`,
    scope,
  });
  return (page?.items ?? []).map((order) => ({ orderId: String(order.id), clientOid: order.clientOid ? String(order.clientOid) : null }));
}

/** KuCoin answers 200000 with `data: false` for a change it did not make: never a success. */
function requireTrue(data: unknown, what: string): void {
  if (data !== true) {
    throw new GatewayError('UPSTREAM_REJECTED', `KuCoin answered ${JSON.stringify(data)} to ${what}: nothing was changed.`, {
      upstream: { code: '200000', message: `data: ${JSON.stringify(data)}` },
    });
  }
}

/** What a lost answer's read-back leaves of the request's deadline for the rest of the request. */
function readBackReserve(deps: FuturesDeps): number {
  return deps.client.reconcileReserveMs;
}

/** `POST /api/v2/changeCrossUserLeverage` `{symbol, leverage: "10"}` (a string holding an integer, api-3470261). */
async function changeCrossLeverage(deps: FuturesDeps, scope: RequestScope | null, symbol: string, leverage: number): Promise<void> {
  const context = `setting ${symbol} cross leverage to ${leverage}x`;
  let data: unknown;
  try {
    data = await deps.client.call<unknown>('changeCrossLeverage', { body: { symbol, leverage: String(leverage) }, context, leaveMs: readBackReserve(deps), scope });
  } catch (error) {
    if (!outcomeUnknown(error)) throw error;
    const now = await deps.client.call<Partial<KucoinCrossLeverage> | null>('getCrossLeverage', { query: { symbol }, context: `reading back ${symbol} cross leverage`, scope });
    if (Number(now?.leverage) === leverage) return;
    throw error;
  }
  requireTrue(data, context);
}

/** `POST /api/v2/position/changeMarginMode` (api-3470262); a lost answer is settled by reading the mode back. */
async function switchMarginMode(deps: FuturesDeps, scope: RequestScope | null, symbol: string, mode: Mode, leaveMs = readBackReserve(deps)): Promise<void> {
  const context = `switching ${symbol} to ${mode.toLowerCase()} margin`;
  try {
    await deps.client.call('changeMarginMode', { body: { symbol, marginMode: mode }, context, leaveMs, scope });
  } catch (error) {
    if (!outcomeUnknown(error)) throw error;
    if ((await marginModeOf(deps, scope, symbol)) !== mode) throw error;
  }
  // Orders send the symbol's mode from memory (margin-mode.ts): it is this one now.
  deps.marginModes?.set(symbol, mode);
}

/**
 * Runs `work` with the symbol in `mode`, switching it first when it is in another. If `work`
 * fails after a switch, the mode is switched back (best effort); the error's detail says whether
 * it was, so the caller knows the state things are in. KuCoin refuses a switch while orders or
 * positions are open (50002 → 409 MARGIN_MODE_CHANGE_BLOCKED), which passes through.
 */
async function withModeRestored<T>(deps: FuturesDeps, scope: RequestScope | null, symbol: string, currentMode: string | undefined, mode: Mode, work: () => Promise<T>): Promise<T> {
  if (currentMode === mode) return work();
  await switchMarginMode(deps, scope, symbol, mode);
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof GatewayError) || currentMode === undefined) throw error;
    const previous = currentMode.toLowerCase();
    let note: string;
    try {
      await switchMarginMode(deps, scope, symbol, currentMode as Mode, 0);
      note = `${symbol} was switched back to ${previous} margin.`;
    } catch {
      note = `${symbol} was switched to ${mode.toLowerCase()} margin and could not be switched back to ${previous}: it is now in ${mode.toLowerCase()} margin.`;
    }
    deps.logger.warn({ event: 'margin_mode_restore', symbol, restored: note.includes('switched back') }, note);
    throw new GatewayError(error.code, `${error.message} ${note}`, error.options);
  }
}

/**
 * Posts the level change and waits for KuCoin's outcome within the request's deadline. The outcome
 * push comes on `/contract/position:{symbol}` (subject `position.adjustRiskLimit`, the older futures
 * docs, Kucoin/kucoin-futures-api-docs "Position Change Events", 2021.11.04): that topic is held
 * for the wait and the change posted once KuCoin acked it, so a failure is seen even when nothing
 * else holds the stream. When the stream does not come up in time, the change is posted anyway:
 * success is still seen by reading the position's level, failure then ends `pending` (202).
 */
async function changeRiskLimitLevel(deps: LeverageDeps, scope: RequestScope | null, symbol: string, level: number): Promise<Awaited<ReturnType<RiskLimitWatch['outcome']>>> {
  const deadline = scope?.deadline ?? Date.now() + DEFAULT_WAIT_MS;
  const hold = deps.riskLimitStream?.holdTopic(`/contract/position:${symbol}`);
  try {
    if (hold) await untilSubscribed(hold, Date.now() + Math.max(0, deadline - Date.now()) * STREAM_READY_SHARE, Date.now);
    const watch = new RiskLimitWatch({
      symbol,
      level,
      pushes: deps.riskLimitPushes,
      readLevel: () => riskLimitLevelOf(deps, scope, symbol, ANSWER_MARGIN_MS),
      pollIntervalMs: deps.riskLimitPollMs ?? 250,
      now: Date.now,
    });
    const context = `moving ${symbol} to risk-limit level ${level}`;
    try {
      const data = await deps.client.call<unknown>('changeRiskLimitLevel', { body: { symbol, level }, context, leaveMs: readBackReserve(deps), scope });
      requireTrue(data, context);
    } catch (error) {
      // A lost answer may still have been submitted: the outcome, if any, says so.
      if (!outcomeUnknown(error)) {
        watch.close();
        throw error;
      }
    }
    return await watch.outcome(deadline - ANSWER_MARGIN_MS);
  } finally {
    hold?.release();
  }
}
