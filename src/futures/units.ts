/**
 * Quantities and times between the client's units and KuCoin's. KuCoin sizes are lots
 * ("contracts"), always integers; a linear lot is `multiplier` of the base asset, an inverse lot is
 * 1 USD and its `multiplier` is -1 (docs/kucoin.md "Fields and units").
 *
 * Arithmetic is done on exact decimals (the shortest decimal spelling of each double, which is what
 * the client or KuCoin wrote), so 0.3 BASE at 0.1 per lot is 3 lots, not 2.9999999999999996.
 */

export type QtyUnit = 'contracts' | 'base' | 'quote';

/** What sizing needs of a contract; KuCoin's contract and ours both fit. */
export interface ContractSizing {
  /** Base asset per lot; KuCoin's raw value may be negative (inverse), its magnitude is used. */
  multiplier: number;
  /** Minimum lots, and the step between sizes. */
  lotSize: number;
  isInverse: boolean;
}

export interface UnitsFailure {
  ok: false;
  /** The request field to blame (`qty`, or `qtyUnit`/`price` when those make `qty` unusable). */
  field: 'qty' | 'qtyUnit' | 'price';
  message: string;
}

export type ContractsResult = { ok: true; contracts: number } | UnitsFailure;

/** A lot count within this of a whole number is that number (absorbs binary-float noise in inputs). */
const WHOLE_TOLERANCE_DENOMINATOR = 1_000_000_000n; // 1e-9

/**
 * The whole number of contracts for `qty` in `unit`, or why there is none.
 * - `contracts`: a positive integer multiple of `lotSize`.
 * - `base`: `qty / |multiplier|` must come out whole (within 1e-9) and a multiple of `lotSize`.
 * - `quote`: needs `price` (the LIMIT price, or the mark price for MARKET); rounds down to whole
 *   lots, then to a multiple of `lotSize`; fails if that is 0.
 * Inverse contracts take `contracts` only (docs/kucoin.md "REST endpoints the gateway calls": `size` is their only unit).
 */
export function contractsFor(qty: number, unit: QtyUnit, contract: ContractSizing, price?: number): ContractsResult {
  const { lotSize, step } = sizingOf(contract);
  if (!Number.isFinite(qty) || qty <= 0) return fail('qty', 'qty must be a positive number');
  if (unit !== 'contracts' && contract.isInverse) {
    return fail('qtyUnit', `inverse contracts are sized in contracts only (1 contract = 1 USD), not in ${unit}`);
  }

  switch (unit) {
    case 'contracts':
      if (!Number.isInteger(qty)) return fail('qty', `qty in contracts must be a whole number, got ${qty}`);
      return lotMultiple(BigInt(qty), lotSize);
    case 'base': {
      const lots = wholeQuotient(decimalOf(qty), step);
      if (lots === undefined) {
        return fail('qty', `qty ${qty} in the base asset is not a whole number of contracts (1 contract = ${numberOf(step)})`);
      }
      return lotMultiple(lots, lotSize);
    }
    case 'quote': {
      if (price === undefined || !Number.isFinite(price) || price <= 0) {
        return fail('price', 'a positive price is needed to convert a quote quantity to contracts');
      }
      const lotValue = multiply(decimalOf(price), step);
      const lots = floorQuotient(decimalOf(qty), lotValue);
      const contracts = (lots / BigInt(lotSize)) * BigInt(lotSize);
      if (contracts === 0n) {
        return fail('qty', `qty ${qty} in the quote currency is less than ${lotSize} contract(s) at price ${price} (1 contract = ${numberOf(lotValue)})`);
      }
      return safeContracts(contracts);
    }
  }
}

/** `contracts × |multiplier|`: the base-asset amount (inverse contracts: USD). Keeps the sign. */
export function baseQtyFor(contracts: number, contract: Pick<ContractSizing, 'multiplier'>): number {
  if (!Number.isFinite(contracts)) throw new RangeError(`contracts must be finite, got ${contracts}`);
  return numberOf(multiply(decimalOf(contracts), stepOf(contract.multiplier)));
}

/**
 * Epoch nanoseconds (KuCoin's `orderTime`, `ts`, `tradeTime`; docs/kucoin.md "Fields and units") to whole epoch
 * milliseconds, rounded down. A decimal string is exact. A JSON number past 2^53 has been rounded
 * to the nearest double (a multiple of 256 ns today), so it stands for any integer within half a
 * step of it; the top of that range is taken, so a whole-ms value JSON rounded down
 * (1731916985789000000 → …788999936) keeps its millisecond.
 */
export function nsToMs(ns: number | string): number {
  let value: bigint;
  if (typeof ns === 'string') {
    if (!/^\d{1,30}$/.test(ns)) throw new RangeError(`not a nanosecond timestamp: ${JSON.stringify(ns)}`);
    value = BigInt(ns);
  } else {
    if (!Number.isFinite(ns) || ns < 0) throw new RangeError(`not a nanosecond timestamp: ${ns}`);
    value = BigInt(Math.trunc(ns));
    if (ns > Number.MAX_SAFE_INTEGER) value += halfStepOf(value);
  }
  return Number(value / 1_000_000n);
}

/** Significant digits kept when a number is written for KuCoin: a double holds 15 exactly. */
const SIGNIFICANT_DIGITS = 15;

/**
 * A number as KuCoin takes decimals in strings (`price`, `stopPrice`, cross `leverage`): plain
 * digits, never an exponent. `String(8e-7)` is "8e-7" and `String(1e21)` is "1e+21", which KuCoin's
 * Add Order (https://www.kucoin.com/docs-new/api-3470235) types as a plain string decimal. Rounded to
 * 15 significant digits first, so the noise of binary arithmetic (0.1 + 0.2 = 0.30000000000000004)
 * is not sent as if it were the caller's price.
 */
export function plainDecimal(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  const { digits, scale } = decimalOf(Number(n.toPrecision(SIGNIFICANT_DIGITS)));
  const negative = digits < 0n;
  const magnitude = (negative ? -digits : digits).toString().padStart(scale + 1, '0');
  const whole = magnitude.slice(0, magnitude.length - scale);
  const fraction = magnitude.slice(magnitude.length - scale).replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return negative && text !== '0' ? `-${text}` : text;
}

/** Half the spacing between doubles at `value` (≥ 2^53): 2^(exponent − 53). */
function halfStepOf(value: bigint): bigint {
  const exponent = value.toString(2).length - 1;
  return 1n << BigInt(exponent - 53);
}

// --- exact decimals ---------------------------------------------------------------------------

/** `digits / 10^scale`, scale ≥ 0. */
interface Decimal {
  digits: bigint;
  scale: number;
}

function decimalOf(n: number): Decimal {
  // String(n) is the shortest decimal that reads back as n: "0.1", "1e-7", "1.5e+21".
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(n));
  if (!match) throw new RangeError(`not a finite number: ${n}`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = BigInt(`${sign}${whole}${fraction}`);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits, scale };
}

function multiply(a: Decimal, b: Decimal): Decimal {
  return { digits: a.digits * b.digits, scale: a.scale + b.scale };
}

function numberOf(d: Decimal): number {
  return Number(`${d.digits}e-${d.scale}`);
}

/** a / b as a fraction with a positive denominator; b must be positive. */
function quotient(a: Decimal, b: Decimal): { num: bigint; den: bigint } {
  return { num: a.digits * 10n ** BigInt(b.scale), den: b.digits * 10n ** BigInt(a.scale) };
}

/** a / b when it is within 1e-9 of a whole number, else undefined (a, b > 0). */
function wholeQuotient(a: Decimal, b: Decimal): bigint | undefined {
  const { num, den } = quotient(a, b);
  const nearest = (2n * num + den) / (2n * den);
  const gap = num - nearest * den;
  const distance = gap < 0n ? -gap : gap;
  return distance * WHOLE_TOLERANCE_DENOMINATOR <= den ? nearest : undefined;
}

/** floor(a / b), counting a quotient 1e-9 short of a whole number as that number (a, b > 0). */
function floorQuotient(a: Decimal, b: Decimal): bigint {
  const { num, den } = quotient(a, b);
  return (num * WHOLE_TOLERANCE_DENOMINATOR + den) / (den * WHOLE_TOLERANCE_DENOMINATOR);
}

// --- contract checks --------------------------------------------------------------------------

function stepOf(multiplier: number): Decimal {
  if (!Number.isFinite(multiplier) || multiplier === 0) throw new RangeError(`contract multiplier must be a non-zero number, got ${multiplier}`);
  return decimalOf(Math.abs(multiplier));
}

function sizingOf(contract: ContractSizing): { lotSize: number; step: Decimal } {
  if (!Number.isSafeInteger(contract.lotSize) || contract.lotSize < 1) {
    throw new RangeError(`contract lotSize must be a positive integer, got ${contract.lotSize}`);
  }
  return { lotSize: contract.lotSize, step: stepOf(contract.multiplier) };
}

function lotMultiple(contracts: bigint, lotSize: number): ContractsResult {
  const lot = BigInt(lotSize);
  if (contracts < lot || contracts % lot !== 0n) {
    return fail('qty', `qty must be a multiple of the lot size, ${lotSize} contract(s); it comes to ${contracts}`);
  }
  return safeContracts(contracts);
}

function safeContracts(contracts: bigint): ContractsResult {
  if (contracts > BigInt(Number.MAX_SAFE_INTEGER)) return fail('qty', 'qty is too large');
  return { ok: true, contracts: Number(contracts) };
}

function fail(field: UnitsFailure['field'], message: string): UnitsFailure {
  return { ok: false, field, message };
}
