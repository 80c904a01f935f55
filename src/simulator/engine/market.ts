/**
 * The moving mark price: a seeded random walk on each contract's tick grid, with the index a hair
 * away. Every move is pushed as `mark.index.price` (docs/kucoin.md "The private WebSocket", `/contract/instrument:{symbol}`), fills the
 * resting limits it crosses, and refreshes open positions with KuCoin's partial mark-driven push.
 */
import type { EngineCore } from './core.js';
import { refuse } from './errors.js';
import { markChangePayload } from './positions.js';
import { toStep } from './numbers.js';
import { fillCrossed } from './trading.js';

/** How far the index strays from the mark, as a fraction. */
const INDEX_SPREAD = 0.0002;

export function walkMarks(core: EngineCore): void {
  for (const spec of core.specs) {
    const market = core.market(spec.symbol);
    if (market.held) continue;
    const step = core.random.signed() * spec.stepVolatility * market.markPrice;
    const mark = Math.max(spec.tickSize, toStep(market.markPrice + step, spec.tickSize));
    const index = toStep(mark * (1 + core.random.signed() * INDEX_SPREAD), spec.indexPriceTickSize);
    moveMark(core, spec.symbol, mark, index);
  }
}

/** `POST /sim/mark`: an exact mark, optionally held still by the walk until released. */
export function setMark(core: EngineCore, symbol: string, price: number, hold: boolean): void {
  const spec = core.spec(symbol);
  if (!Number.isFinite(price) || price <= 0) throw refuse.invalidParam('price must be a positive number');
  const mark = Math.max(spec.tickSize, toStep(price, spec.tickSize));
  core.market(symbol).held = hold;
  moveMark(core, symbol, mark, toStep(mark, spec.indexPriceTickSize));
}

function moveMark(core: EngineCore, symbol: string, mark: number, index: number): void {
  const now = core.now();
  Object.assign(core.market(symbol), { markPrice: mark, indexPrice: index, markedAt: now });
  core.push(`/contract/instrument:${symbol}`, 'mark.index.price', { markPrice: mark, indexPrice: index, granularity: 1000, timestamp: now }, false);
  fillCrossed(core, symbol);
  if (core.position(symbol).qty !== 0) {
    core.push(`/contract/position:${symbol}`, 'position.change', markChangePayload(core.positionPayload(symbol)), true);
  }
}
