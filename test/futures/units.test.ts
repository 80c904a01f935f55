import { describe, expect, it } from 'vitest';
import { baseQtyFor, contractsFor, nsToMs, plainDecimal, type ContractSizing, type QtyUnit } from '../../src/futures/units.js';

const XBTUSDTM: ContractSizing = { multiplier: 0.001, lotSize: 1, isInverse: false };
const ETHUSDTM: ContractSizing = { multiplier: 0.01, lotSize: 1, isInverse: false };
const SOLUSDTM: ContractSizing = { multiplier: 0.1, lotSize: 1, isInverse: false };
const LOT10: ContractSizing = { multiplier: 0.01, lotSize: 10, isInverse: false };
const XBTUSDM: ContractSizing = { multiplier: -1, lotSize: 1, isInverse: true };

interface Given {
  qty: number;
  unit: QtyUnit;
  contract: ContractSizing;
  price?: number;
}
type Want = number | { field: 'qty' | 'qtyUnit' | 'price'; message?: RegExp };

const cases: Array<[string, Given, Want]> = [
  // contracts
  ['contracts: a whole number of lots', { qty: 3, unit: 'contracts', contract: XBTUSDTM }, 3],
  ['contracts: a fraction is refused', { qty: 2.5, unit: 'contracts', contract: XBTUSDTM }, { field: 'qty', message: /whole number/ }],
  ['contracts: a multiple of lot size 10', { qty: 20, unit: 'contracts', contract: LOT10 }, 20],
  ['contracts: not a multiple of lot size 10', { qty: 25, unit: 'contracts', contract: LOT10 }, { field: 'qty', message: /lot size, 10/ }],
  ['contracts: below lot size 10', { qty: 5, unit: 'contracts', contract: LOT10 }, { field: 'qty', message: /lot size/ }],
  ['contracts: zero', { qty: 0, unit: 'contracts', contract: XBTUSDTM }, { field: 'qty', message: /positive/ }],
  ['contracts: negative', { qty: -1, unit: 'contracts', contract: XBTUSDTM }, { field: 'qty' }],
  ['contracts: NaN', { qty: Number.NaN, unit: 'contracts', contract: XBTUSDTM }, { field: 'qty' }],
  ['contracts: Infinity', { qty: Number.POSITIVE_INFINITY, unit: 'contracts', contract: XBTUSDTM }, { field: 'qty' }],
  ['contracts: beyond safe integers', { qty: 2 ** 60, unit: 'contracts', contract: XBTUSDTM }, { field: 'qty', message: /too large/ }],
  ['contracts: inverse takes contracts', { qty: 100, unit: 'contracts', contract: XBTUSDM }, 100],

  // base
  ['base: 0.001 BTC is 1 contract', { qty: 0.001, unit: 'base', contract: XBTUSDTM }, 1],
  ['base: 0.003 BTC is 3 (float gives 2.9999999999999996)', { qty: 0.003, unit: 'base', contract: XBTUSDTM }, 3],
  ['base: 1 BTC is 1000', { qty: 1, unit: 'base', contract: XBTUSDTM }, 1000],
  ['base: 0.07 ETH is 7 (float gives 7.000000000000001)', { qty: 0.07, unit: 'base', contract: ETHUSDTM }, 7],
  ['base: 0.3 SOL is 3', { qty: 0.3, unit: 'base', contract: SOLUSDTM }, 3],
  ['base: 0.1 + 0.2 SOL is 3 (within 1e-9)', { qty: 0.1 + 0.2, unit: 'base', contract: SOLUSDTM }, 3],
  ['base: 0.0015 BTC is not whole', { qty: 0.0015, unit: 'base', contract: XBTUSDTM }, { field: 'qty', message: /not a whole number of contracts \(1 contract = 0.001\)/ }],
  ['base: 0.0000000001 BTC is not a contract', { qty: 1e-10, unit: 'base', contract: XBTUSDTM }, { field: 'qty' }],
  ['base: 0.1 at lot size 10 is 10', { qty: 0.1, unit: 'base', contract: LOT10 }, 10],
  ['base: 0.05 at lot size 10 is 5, not a lot multiple', { qty: 0.05, unit: 'base', contract: LOT10 }, { field: 'qty', message: /lot size, 10/ }],
  ['base: inverse refuses', { qty: 1, unit: 'base', contract: XBTUSDM }, { field: 'qtyUnit', message: /contracts only/ }],

  // quote
  ['quote: 100 USDT at 50000 is 2', { qty: 100, unit: 'quote', contract: XBTUSDTM, price: 50_000 }, 2],
  ['quote: rounds down', { qty: 149.99, unit: 'quote', contract: XBTUSDTM, price: 50_000 }, 2],
  ['quote: 0.3 USDT at 1 with 0.1 per lot is 3 (float floors to 2)', { qty: 0.3, unit: 'quote', contract: SOLUSDTM, price: 1 }, 3],
  ['quote: less than one lot', { qty: 49.99, unit: 'quote', contract: XBTUSDTM, price: 50_000 }, { field: 'qty', message: /less than 1 contract/ }],
  ['quote: lot size 10, rounds down to a multiple', { qty: 10.5, unit: 'quote', contract: LOT10, price: 10 }, 100],
  ['quote: lot size 10, less than a lot', { qty: 0.95, unit: 'quote', contract: LOT10, price: 10 }, { field: 'qty', message: /less than 10 contract/ }],
  ['quote: needs a price', { qty: 100, unit: 'quote', contract: XBTUSDTM }, { field: 'price' }],
  ['quote: price 0 is no price', { qty: 100, unit: 'quote', contract: XBTUSDTM, price: 0 }, { field: 'price' }],
  ['quote: inverse refuses', { qty: 100, unit: 'quote', contract: XBTUSDM, price: 50_000 }, { field: 'qtyUnit' }],
];

describe('contractsFor', () => {
  it.each(cases)('%s', (_title, given, want) => {
    const result = contractsFor(given.qty, given.unit, given.contract, given.price);
    if (typeof want === 'number') {
      expect(result).toEqual({ ok: true, contracts: want });
    } else {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.field).toBe(want.field);
      if (want.message) expect(result.message).toMatch(want.message);
    }
  });

  it('refuses a contract that cannot size anything', () => {
    expect(() => contractsFor(1, 'contracts', { multiplier: 0.001, lotSize: 0, isInverse: false })).toThrow(RangeError);
    expect(() => contractsFor(1, 'base', { multiplier: 0, lotSize: 1, isInverse: false })).toThrow(RangeError);
  });
});

describe('baseQtyFor', () => {
  it.each<[string, number, ContractSizing, number]>([
    ['3 × 0.1 is 0.3, not 0.30000000000000004', 3, SOLUSDTM, 0.3],
    ['7 × 0.001', 7, XBTUSDTM, 0.007],
    ['keeps the sign of a short', -5, ETHUSDTM, -0.05],
    ['flat is 0', 0, XBTUSDTM, 0],
    ['inverse: USD per contract, |-1|', 100, XBTUSDM, 100],
    ['large sizes stay exact', 1_000_000, XBTUSDTM, 1000],
  ])('%s', (_title, contracts, contract, want) => {
    expect(baseQtyFor(contracts, contract)).toBe(want);
  });
});

describe('nsToMs', () => {
  it.each<[string, number | string, number]>([
    ['a JSON number past 2^53 (SPEC-ORD orderTime)', 1729236185885647952, 1729236185885],
    ['the same as a decimal string', '1729236185885647952', 1729236185885],
    ['a string never rounds up into the next ms', '1729236185885999999', 1729236185885],
    ['a whole-ms ns value (WS ts)', 1731916985789000000, 1731916985789],
    ['zero', 0, 0],
    ['a safe integer', 1_500_000, 1],
    ['a fraction of a ns is dropped', 1_999_999.5, 1],
    ['2^53 itself', 2 ** 53, 9007199254],
  ])('%s', (_title, ns, want) => {
    const ms = nsToMs(ns);
    expect(ms).toBe(want);
    expect(Number.isInteger(ms)).toBe(true);
  });

  it.each<[string, number | string]>([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a word', 'abc'],
    ['a decimal string', '1.5'],
    ['an empty string', ''],
  ])('refuses %s', (_title, ns) => {
    expect(() => nsToMs(ns)).toThrow(RangeError);
  });
});

describe('plainDecimal: numbers KuCoin takes in strings, never in exponent form', () => {
  it.each<[number, string]>([
    [8e-7, '0.0000008'],
    [1e-7, '0.0000001'],
    [8.1e-7, '0.00000081'],
    [1.23e-10, '0.000000000123'],
    [0.1 + 0.2, '0.3'],
    [0.7 * 3, '2.1'],
    [60000, '60000'],
    [60000.5, '60000.5'],
    [91670.1, '91670.1'],
    [1e21, '1000000000000000000000'],
    [1.5e21, '1500000000000000000000'],
    [-0.0000012, '-0.0000012'],
    [0, '0'],
    [-0, '0'],
    [10, '10'],
  ])('%d → %s', (n, text) => {
    expect(plainDecimal(n)).toBe(text);
    expect(plainDecimal(n)).not.toMatch(/e/i);
    expect(Number(plainDecimal(n))).toBe(Number(n.toPrecision(15)));
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses %d', (n) => {
    expect(() => plainDecimal(n)).toThrow(RangeError);
  });
});
