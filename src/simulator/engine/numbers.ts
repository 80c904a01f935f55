/**
 * Arithmetic helpers for money on the simulated account. KuCoin writes prices on a tick grid and
 * decimals without binary noise (docs/kucoin.md "Fields and units"), so every value leaves the
 * engine rounded.
 */

/** Decimal places of a step such as 0.1, 0.001 or 1e-5. */
export function decimalsOf(step: number): number {
  const text = step.toExponential();
  const [mantissa = '', exponent = '0'] = text.split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** Rounds to `places` decimals, dropping binary noise (0.1 + 0.2 → 0.3). */
export function round(value: number, places = 10): number {
  const rounded = Number(value.toFixed(places));
  return Object.is(rounded, -0) ? 0 : rounded;
}

/** Fourteen significant digits: exact for a coin amount of 1e-10, free of binary noise (doubles hold ~15.9). */
export function tidy(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value === 0 ? 0 : value;
  return Number(value.toPrecision(14));
}

/** The nearest multiple of `step`, written with the step's decimals. */
export function toStep(value: number, step: number): number {
  return round(Math.round(value / step) * step, decimalsOf(step));
}

/** Whether `value` lies on the `step` grid, allowing for binary rounding. */
export function onStep(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-9 * Math.max(1, Math.abs(ratio));
}

/** A decimal string as KuCoin sends order fields: never exponent notation, no trailing zeros. */
export function decimalString(value: number, places = 10): string {
  const fixed = round(value, places).toFixed(places);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Epoch ms → the ns KuCoin uses for `orderTime` and WS `ts` (docs/kucoin.md "Fields and units"). */
export const msToNs = (ms: number): number => ms * 1_000_000;
