/**
 * Funding (docs/kucoin.md "REST endpoints the gateway calls", funding rate): a current and a predicted rate per contract, settled every
 * `fundingIntervalMs` on a grid. Settling charges longs and credits shorts when the rate is
 * positive (and the reverse), in the settle currency, at the mark: fee = side × |markValue| × rate.
 * Isolated positions pay it from their margin (posFunding). Pushes, in order: `funding.begin` on
 * `/contract/announcement` (topic without the symbol, docs/kucoin.md "The private WebSocket"), `position.settlement` and a full
 * `position.change` per position, the wallet, `funding.end`, then the new `funding.rate`.
 */
import type { KucoinFundingRate } from '../../kucoin/payloads.js';
import { fundingRateSymbolOf, valueOf } from './contracts.js';
import type { EngineCore } from './core.js';
import { msToNs, round, tidy } from './numbers.js';

/** ±0.3 %: the cap and floor of the U-FUND example. */
export const FUNDING_RATE_CAP = 0.003;
/** How far the predicted rate may drift per cycle. */
const RATE_DRIFT = 0.0001;

export function fundingRatePayload(core: EngineCore, symbol: string): KucoinFundingRate {
  core.spec(symbol);
  const f = core.state.funding[symbol]!;
  return {
    symbol: fundingRateSymbolOf(symbol),
    // The simulator's cycle, not KuCoin's 8 h, so timePoint + granularity = fundingTime holds.
    granularity: core.fundingIntervalMs,
    timePoint: f.timePoint,
    value: f.value,
    predictedValue: f.predictedValue,
    fundingRateCap: FUNDING_RATE_CAP,
    fundingRateFloor: -FUNDING_RATE_CAP,
    period: 0,
    fundingTime: f.fundingTime,
  };
}

/** Settles every contract whose funding time has come; true if any did. */
export function settleDueFunding(core: EngineCore): boolean {
  const now = core.now();
  const due = core.specs.filter((spec) => core.state.funding[spec.symbol]!.fundingTime <= now);
  for (const spec of due) settle(core, spec.symbol, core.state.funding[spec.symbol]!.fundingTime);
  return due.length > 0;
}

/** `POST /sim/funding/settle`: every contract settles now. */
export function settleAllNow(core: EngineCore): Array<{ symbol: string; fundingRate: number; fundingFee: number }> {
  return core.specs.map((spec) => settle(core, spec.symbol, core.now()));
}

function settle(core: EngineCore, symbol: string, fundingTime: number): { symbol: string; fundingRate: number; fundingFee: number } {
  const spec = core.spec(symbol);
  const f = core.state.funding[symbol]!;
  const now = core.now();
  const rate = f.value;
  const announce = (subject: string) =>
    core.push('/contract/announcement', subject, { symbol, fundingTime, fundingRate: rate, timestamp: now }, false);
  announce('funding.begin');

  const pos = core.position(symbol);
  let fee = 0;
  if (pos.qty !== 0) {
    const markPrice = core.market(symbol).markPrice;
    fee = tidy(Math.sign(pos.qty) * Math.abs(valueOf(spec, pos.qty, markPrice)) * rate);
    const settings = core.settings(symbol);
    pos.funding -= fee;
    if (settings.marginMode === 'ISOLATED') pos.posFunding -= fee;
    pos.currentTimestamp = now;
    core.state.wallet[spec.settleCurrency] = (core.state.wallet[spec.settleCurrency] ?? 0) - fee;
    core.state.fundingHistory.push({
      id: ++core.state.seq.funding,
      symbol,
      timePoint: fundingTime,
      fundingRate: rate,
      markPrice,
      positionQty: pos.qty,
      positionCost: tidy(pos.cost),
      funding: -fee,
      settleCurrency: spec.settleCurrency,
      marginMode: settings.marginMode,
    });
    // OLD example: a long receiving a negative rate has fundingFee < 0, so the fee is what was paid.
    core.push(`/contract/position:${symbol}`, 'position.settlement', { fundingTime, qty: pos.qty, markPrice, fundingRate: rate, fundingFee: fee, ts: msToNs(now), settleCurrency: spec.settleCurrency }, true);
    core.pushPosition(symbol, 'marginChange');
    core.pushWallet(spec.settleCurrency);
  }
  announce('funding.end');

  f.timePoint = fundingTime;
  while (f.fundingTime <= Math.max(now, fundingTime)) f.fundingTime += core.fundingIntervalMs;
  f.value = f.predictedValue;
  f.predictedValue = round(Math.min(FUNDING_RATE_CAP, Math.max(-FUNDING_RATE_CAP, f.value + core.random.signed() * RATE_DRIFT)), 6);
  // `funding.rate`: the rate now in force, with the cycle as granularity (docs/kucoin.md "The private WebSocket").
  core.push(`/contract/instrument:${symbol}`, 'funding.rate', { granularity: core.fundingIntervalMs, fundingRate: f.value, timestamp: now }, false);
  return { symbol, fundingRate: rate, fundingFee: fee };
}
