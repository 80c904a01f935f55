import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  toAccount,
  toCancelResult,
  toContract,
  toFundingRate,
  toOrder,
  toOrderPage,
  toPosition,
  DOCUMENTED_ORDER_TYPES,
  type ContractRef,
} from '../../src/futures/mappers.js';
import { UpstreamShapeError } from '../../src/futures/payload-fields.js';
import type {
  KucoinAccountOverview,
  KucoinCancelResult,
  KucoinContract,
  KucoinFundingRate,
  KucoinOrder,
  KucoinOrderPage,
  KucoinPosition,
} from '../../src/kucoin/payloads.js';

// --- the contract's schemas -------------------------------------------------------------------

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
const spec = parseYaml(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'openapi');
const validators = new Map<string, ValidateFunction>();

function expectValid(schema: string, value: unknown): void {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi#/components/schemas/${schema}` });
    validators.set(schema, validate);
  }
  const valid = validate(value);
  expect(valid ? [] : validate.errors, `${schema}: ${JSON.stringify(value)}`).toEqual([]);
}

// --- fixtures ---------------------------------------------------------------------------------

function data<T>(name: string): T {
  const body = JSON.parse(readFileSync(new URL(`../kucoin/fixtures/${name}`, import.meta.url), 'utf8')) as { data: T };
  return body.data;
}

const contracts = data<KucoinContract[]>('contracts-active.json');
const contractOf = (symbol: string): KucoinContract | undefined => contracts.find((c) => c.symbol === symbol);
const contract = (symbol: string): KucoinContract => {
  const found = contractOf(symbol);
  if (!found) throw new Error(`no fixture contract ${symbol}`);
  return found;
};
// ETHUSDM is in positions.json but not in contracts-active.json: inverse, like XBTUSDM
// (docs/kucoin.md "Fields and units").
const ETHUSDM: ContractRef = { baseCurrency: 'ETH', multiplier: -1 };
const refOf = (symbol: string): ContractRef => (symbol === 'ETHUSDM' ? ETHUSDM : contract(symbol));

const positions = data<KucoinPosition[]>('positions.json');
const position = data<KucoinPosition>('position.json');
const flat = data<KucoinPosition>('position-flat.json');
const shortCross = data<KucoinPosition>('position-short-cross.json');
const activePage = data<KucoinOrderPage>('orders-active.json');
const filledMarket = data<KucoinOrder>('order.json');
const canceled = data<KucoinOrder>('order-canceled.json');
const funding = data<KucoinFundingRate>('funding-rate-current.json');
const overview = data<KucoinAccountOverview>('account-overview.json');

// --- every fixture maps to a valid contract object --------------------------------------------

const mapped: Array<[string, string, () => unknown]> = [
  ...positions.map((p, i): [string, string, () => unknown] => [`positions.json[${i}] ${p.symbol}`, 'Position', () => toPosition(p, refOf(p.symbol))]),
  ['position.json', 'Position', () => toPosition(position, contract('XBTUSDTM'))],
  ['position-flat.json', 'Position', () => toPosition(flat, contract('XBTUSDTM'))],
  ['position-short-cross.json', 'Position', () => toPosition(shortCross, contract('ETHUSDTM'))],
  ['orders-active.json', 'OrderPage', () => toOrderPage(activePage, contractOf)],
  ...activePage.items.map((o, i): [string, string, () => unknown] => [`orders-active.json items[${i}]`, 'Order', () => toOrder(o, contract(o.symbol))]),
  ['order.json', 'Order', () => toOrder(filledMarket, contract('XBTUSDTM'))],
  ['order-canceled.json', 'Order', () => toOrder(canceled, contract('XBTUSDTM'))],
  ['order-cancel.json', 'CancelResult', () => toCancelResult(data<KucoinCancelResult>('order-cancel.json'))],
  ['funding-rate-current.json', 'FundingRate', () => toFundingRate(funding, contract('XBTUSDTM'))],
  ['account-overview.json', 'Account', () => toAccount(overview)],
  ...contracts.map((c): [string, string, () => unknown] => [`contracts-active.json ${c.symbol}`, 'Contract', () => toContract(c)]),
  ['contract-xbtusdtm.json', 'Contract', () => toContract(data<KucoinContract>('contract-xbtusdtm.json'))],
];

describe('every fixture maps to an object the contract accepts', () => {
  it.each(mapped)('%s → %s', (_title, schema, map) => {
    expectValid(schema, map());
  });
});

// --- positions --------------------------------------------------------------------------------

describe('toPosition', () => {
  it('maps an isolated long field by field (position.json)', () => {
    expect(toPosition(position, contract('XBTUSDTM'))).toEqual({
      symbol: 'XBTUSDTM',
      baseAsset: 'BTC',
      settleCurrency: 'USDT',
      marginMode: 'isolated',
      side: 'LONG',
      qty: 1,
      baseQty: 0.001,
      entryPrice: 67430.9,
      markPrice: 68900.7,
      liquidationPrice: 45314.33,
      leverage: 2.88,
      margin: 22.5097045843,
      unrealisedPnl: 1.4698,
      unrealisedPnlPct: 0.0218,
      realisedPnl: -0.06166534,
      riskLimitLevel: 2,
      isOpen: true,
      openedAt: 1729155616322,
      updatedAt: 1729482542135,
    });
  });

  it.each<[string, () => KucoinPosition, ContractRef, Record<string, unknown>]>([
    [
      'flat: FLAT, openedAt and liquidationPrice null, leverage from `leverage` when realLeverage is 0',
      () => flat,
      contract('XBTUSDTM'),
      { side: 'FLAT', qty: 0, baseQty: 0, isOpen: false, openedAt: null, liquidationPrice: null, leverage: 3, riskLimitLevel: 1, updatedAt: 1729500000000 },
    ],
    [
      'cross short: SHORT, negative quantities, riskLimitLevel null',
      () => shortCross,
      contract('ETHUSDTM'),
      { side: 'SHORT', qty: -5, baseQty: -0.05, marginMode: 'cross', riskLimitLevel: null, leverage: 5, baseAsset: 'ETH', openedAt: 1730700000000 },
    ],
    [
      'inverse cross (positions.json[0]): base quantity in USD, settled in the coin',
      () => positions[0]!,
      ETHUSDM,
      { symbol: 'ETHUSDM', baseAsset: 'ETH', settleCurrency: 'ETH', marginMode: 'cross', qty: 1, baseQty: 1, leverage: 10, riskLimitLevel: null, margin: 4.07478e-5 },
    ],
    [
      'isolated (positions.json[1]): leverage is realLeverage',
      () => positions[1]!,
      contract('XBTUSDTM'),
      { marginMode: 'isolated', leverage: 2.97, riskLimitLevel: 2, baseAsset: 'BTC' },
    ],
    [
      'cross with a riskLimitLevel in the payload still answers null',
      () => ({ ...shortCross, riskLimitLevel: 3 }),
      contract('ETHUSDTM'),
      { riskLimitLevel: null },
    ],
    [
      'cross ignores realLeverage',
      () => ({ ...shortCross, realLeverage: 4.2 }),
      contract('ETHUSDTM'),
      { leverage: 5 },
    ],
    [
      'isolated without realLeverage or riskLimitLevel',
      () => {
        const { realLeverage: _r, riskLimitLevel: _l, ...rest } = position;
        return rest;
      },
      contract('XBTUSDTM'),
      { leverage: 2.88, riskLimitLevel: null },
    ],
    [
      'no marginMode: crossMode decides',
      () => {
        const { marginMode: _m, ...rest } = shortCross;
        return rest as KucoinPosition;
      },
      contract('ETHUSDTM'),
      { marginMode: 'cross' },
    ],
    [
      'an inverse XBT position settles in BTC',
      () => ({ ...positions[0]!, symbol: 'XBTUSDM', settleCurrency: 'XBT' }),
      contract('XBTUSDM'),
      { baseAsset: 'BTC', settleCurrency: 'BTC', baseQty: 1 },
    ],
    [
      'numbers sent as strings are read',
      () => ({ ...position, markPrice: '68900.7' as unknown as number }),
      contract('XBTUSDTM'),
      { markPrice: 68900.7 },
    ],
  ])('%s', (_title, given, ref, want) => {
    const result = toPosition(given(), ref);
    expect(result).toMatchObject(want);
    expectValid('Position', result);
  });
});

// --- orders -----------------------------------------------------------------------------------

describe('toOrder', () => {
  it('maps a filled market order field by field (order.json)', () => {
    expect(toOrder(filledMarket, contract('XBTUSDTM'))).toEqual({
      orderId: '236317213710184449',
      clientOid: '5c52e11203aa677f33e493fb',
      symbol: 'XBTUSDTM',
      baseAsset: 'BTC',
      side: 'BUY',
      type: 'MARKET',
      status: 'filled',
      price: null,
      qty: 1,
      filledQty: 1,
      remainingQty: 0,
      avgFillPrice: 67430.9,
      marginMode: 'isolated',
      leverage: 3,
      timeInForce: 'GTC',
      reduceOnly: false,
      closeOrder: false,
      postOnly: false,
      createdAt: 1729155616310,
      updatedAt: 1729155616324,
    });
  });

  it('maps the active page (orders-active.json)', () => {
    const page = toOrderPage(activePage, contractOf);
    expect(page).toMatchObject({ page: 1, pageSize: 50, total: 2 });
    expect(page.items[0]).toMatchObject({ status: 'open', type: 'LIMIT', side: 'BUY', price: 0.1, qty: 1, filledQty: 0, remainingQty: 1, avgFillPrice: null, baseAsset: 'BTC' });
    expect(page.items[1]).toMatchObject({
      status: 'open',
      side: 'SELL',
      price: 2455.5,
      qty: 10,
      filledQty: 4,
      remainingQty: 6,
      avgFillPrice: 2455.5,
      marginMode: 'cross',
      postOnly: true,
      baseAsset: 'ETH',
      leverage: 5,
    });
  });

  it('a partly filled, cancelled order is canceled with its fill (order-canceled.json)', () => {
    expect(toOrder(canceled, contract('XBTUSDTM'))).toMatchObject({ status: 'canceled', filledQty: 2, remainingQty: 0, qty: 5, reduceOnly: true, price: 69500.5 });
  });

  it.each<[string, Partial<Record<keyof KucoinOrder, unknown>>, Record<string, unknown>]>([
    ['isActive → open', { isActive: true, status: 'open', size: 3, filledSize: 1 }, { status: 'open', remainingQty: 2 }],
    ['status open → open even if isActive is false', { isActive: false, status: 'open', size: 3, filledSize: 0 }, { status: 'open' }],
    ['done, all filled → filled', { isActive: false, status: 'done', size: 3, filledSize: 3 }, { status: 'filled', remainingQty: 0 }],
    ['done, none filled → canceled', { isActive: false, status: 'done', size: 3, filledSize: 0 }, { status: 'canceled', remainingQty: 0, avgFillPrice: null }],
    ['done, part filled → canceled', { isActive: false, status: 'done', size: 3, filledSize: 2 }, { status: 'canceled', filledQty: 2 }],
    ['limit → LIMIT', { type: 'limit', price: '70000' }, { type: 'LIMIT', price: 70000 }],
    ['limit_stop → LIMIT_STOP', { type: 'limit_stop', price: '70000' }, { type: 'LIMIT_STOP', price: 70000 }],
    ['market_stop → MARKET_STOP, price null', { type: 'market_stop', price: '70000' }, { type: 'MARKET_STOP', price: null }],
    ['oco_limit → OCO_LIMIT', { type: 'oco_limit', price: '70000' }, { type: 'OCO_LIMIT', price: 70000 }],
    ['oco_stop → OCO_STOP', { type: 'oco_stop', price: '70000' }, { type: 'OCO_STOP', price: 70000 }],
    ['a type KuCoin adds later is passed on upper-cased', { type: 'trailing_stop', price: '70000' }, { type: 'TRAILING_STOP', price: 70000 }],
    ['market with price "" → null', { type: 'market', price: '' }, { price: null }],
    ['limit with price "0" → null', { type: 'limit', price: '0' }, { price: null }],
    ['sell → SELL', { side: 'sell' }, { side: 'SELL' }],
    ['IOC', { timeInForce: 'IOC' }, { timeInForce: 'IOC' }],
    ['leverage "10.0" → 10', { leverage: '10.0' }, { leverage: 10 }],
    ['leverage "" → null', { leverage: '' }, { leverage: null }],
    ['clientOid null → null', { clientOid: null }, { clientOid: null }],
    ['no marginMode (older orders) → isolated', { marginMode: undefined }, { marginMode: 'isolated' }],
    ['no avgDealPrice (older orders) → null', { avgDealPrice: undefined }, { avgFillPrice: null }],
    ['no createdAt: orderTime ns → ms', { createdAt: undefined }, { createdAt: 1729155616310 }],
    ['no createdAt: orderTime as a decimal string', { createdAt: undefined, orderTime: '1729155616310999999' }, { createdAt: 1729155616310 }],
  ])('%s', (_title, change, want) => {
    const result = toOrder({ ...filledMarket, ...change } as KucoinOrder, contract('XBTUSDTM'));
    expect(result).toMatchObject(want);
    expectValid('Order', result);
  });

  it('orderTime in the fixture is ns and converts to the ms beside createdAt', () => {
    // SPEC-ORD example (docs/kucoin.md "Sources"): orderTime 1729155616310180400 ns, createdAt 1729155616310 ms.
    const { createdAt: _c, ...withoutCreatedAt } = filledMarket;
    expect(toOrder(withoutCreatedAt as KucoinOrder, contract('XBTUSDTM')).createdAt).toBe(filledMarket.createdAt);
  });
});

// --- funding, account, contracts --------------------------------------------------------------

describe('toFundingRate', () => {
  const want = {
    symbol: 'XBTUSDTM',
    baseAsset: 'BTC',
    fundingRateSymbol: '.XBTUSDTMFPI8H',
    rate: 0.000641,
    predictedRate: 0.000052,
    rateCap: 0.003,
    rateFloor: -0.003,
    intervalMs: 28_800_000,
    previousFundingTime: 1731441600000,
    nextFundingTime: 1731470400000,
  };

  it('maps funding-rate-current.json with the contract', () => {
    expect(toFundingRate(funding, contract('XBTUSDTM'))).toEqual(want);
  });

  it('maps it with the contract id alone', () => {
    expect(toFundingRate(funding, 'XBTUSDTM')).toEqual(want);
  });

  it('the older payload without the last four fields gives nulls', () => {
    const { predictedValue: _p, fundingRateCap: _c, fundingRateFloor: _f, period: _d, fundingTime: _t, ...older } = funding;
    const result = toFundingRate(older, contract('XBTUSDTM'));
    expect(result).toMatchObject({ predictedRate: null, rateCap: null, rateFloor: null, nextFundingTime: null, previousFundingTime: 1731441600000 });
    expectValid('FundingRate', result);
  });
});

describe('toAccount', () => {
  it('maps account-overview.json field by field', () => {
    expect(toAccount(overview)).toEqual({
      currency: 'USDT',
      equity: 394.439280806,
      unrealisedPnl: 20.15278,
      marginBalance: 371.394298816,
      positionMargin: 102.20664159,
      orderMargin: 10.06002012,
      frozenFunds: 0,
      availableBalance: 290.326799096,
      riskRatio: 0.0065289525,
      maxWithdrawAmount: 290.326419096,
    });
  });

  it('an XBT account is a BTC account', () => {
    expect(toAccount({ ...overview, currency: 'XBT' }).currency).toBe('BTC');
  });
});

describe('toContract', () => {
  it('maps XBTUSDTM field by field (contract-xbtusdtm.json)', () => {
    expect(toContract(data<KucoinContract>('contract-xbtusdtm.json'))).toEqual({
      symbol: 'XBTUSDTM',
      baseAsset: 'BTC',
      quoteCurrency: 'USDT',
      settleCurrency: 'USDT',
      isInverse: false,
      multiplier: 0.001,
      lotSize: 1,
      tickSize: 0.1,
      maxOrderQty: 1_000_000,
      maxLeverage: 125,
      status: 'Open',
      markPrice: 86378.69,
      indexPrice: 86382.64,
      fundingRate: 0.000052,
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ['ETHUSDTM', { baseAsset: 'ETH', multiplier: 0.01, tickSize: 0.01, maxLeverage: 100 }],
    ['SOLUSDTM', { baseAsset: 'SOL', multiplier: 0.1, tickSize: 0.001 }],
    ['XBTUSDM', { baseAsset: 'BTC', quoteCurrency: 'USD', settleCurrency: 'BTC', isInverse: true, multiplier: 1, maxLeverage: 50 }],
  ])('maps %s from contracts-active.json', (symbol, want) => {
    expect(toContract(contract(symbol))).toMatchObject({ symbol, ...want });
  });

  it('a dated future without funding has fundingRate null', () => {
    const result = toContract({ ...contract('XBTUSDTM'), fundingFeeRate: null });
    expect(result.fundingRate).toBeNull();
    expectValid('Contract', result);
  });
});

// --- payloads the gateway cannot understand ---------------------------------------------------

describe('a payload that cannot be mapped is an UpstreamShapeError', () => {
  it.each<[string, () => unknown, string]>([
    ['a position price that is not a number', () => toPosition({ ...position, markPrice: 'abc' as unknown as number }, contract('XBTUSDTM')), 'position.markPrice'],
    ['a position price "NaN"', () => toPosition({ ...position, markPrice: 'NaN' as unknown as number }, contract('XBTUSDTM')), 'position.markPrice'],
    ['a position price "Infinity"', () => toPosition({ ...position, avgEntryPrice: 'Infinity' as unknown as number }, contract('XBTUSDTM')), 'position.avgEntryPrice'],
    ['a position price ""', () => toPosition({ ...position, posMargin: '' as unknown as number }, contract('XBTUSDTM')), 'position.posMargin'],
    ['a fractional currentQty', () => toPosition({ ...position, currentQty: 1.5 }, contract('XBTUSDTM')), 'position.currentQty'],
    ['a missing symbol', () => toPosition({ ...position, symbol: undefined as unknown as string }, contract('XBTUSDTM')), 'position.symbol'],
    ['an unknown margin mode', () => toPosition({ ...position, marginMode: 'PORTFOLIO' as 'CROSS' }, contract('XBTUSDTM')), 'position.marginMode'],
    ['a contract with no multiplier', () => toPosition(position, { baseCurrency: 'XBT', multiplier: undefined as unknown as number }), 'contract.multiplier'],
    ['a position that is not an object', () => toPosition(null as unknown as KucoinPosition, contract('XBTUSDTM')), 'position'],
    ['an order price that is not a number', () => toOrder({ ...canceled, price: '69,500.5' }, contract('XBTUSDTM')), 'order.price'],
    ['an order leverage that is not a number', () => toOrder({ ...canceled, leverage: 'x' }, contract('XBTUSDTM')), 'order.leverage'],
    ['a filled size above the size', () => toOrder({ ...canceled, filledSize: 6 }, contract('XBTUSDTM')), 'order.filledSize'],
    ['an unknown side', () => toOrder({ ...canceled, side: 'BUY' }, contract('XBTUSDTM')), 'order.side'],
    ['an order type that is not a type name', () => toOrder({ ...canceled, type: 'stop loss!' }, contract('XBTUSDTM')), 'order.type'],
    ['an order type that is not a string', () => toOrder({ ...canceled, type: 7 as unknown as string }, contract('XBTUSDTM')), 'order.type'],
    ['a time in force the contract lacks', () => toOrder({ ...canceled, timeInForce: 'FOK' }, contract('XBTUSDTM')), 'order.timeInForce'],
    ['a bad orderTime without createdAt', () => toOrder({ ...canceled, createdAt: undefined as unknown as number, orderTime: -1 }, contract('XBTUSDTM')), 'order.orderTime'],
    ['an order on a contract the gateway does not know', () => toOrderPage(activePage, () => undefined), 'orders.items.0.symbol'],
    ['a funding rate that is not a number', () => toFundingRate({ ...funding, value: null as unknown as number }, contract('XBTUSDTM')), 'funding.value'],
    ['an account number that is not a number', () => toAccount({ ...overview, accountEquity: 'lots' as unknown as number }), 'account.accountEquity'],
    ['a contract with lot size 0', () => toContract({ ...contract('XBTUSDTM'), lotSize: 0 }), 'contract.lotSize'],
    ['a contract with multiplier 0', () => toContract({ ...contract('XBTUSDTM'), multiplier: 0 }), 'contract.multiplier'],
    ['a lower-case base currency', () => toContract({ ...contract('XBTUSDTM'), baseCurrency: 'xbt' }), 'contract.baseCurrency'],
  ])('%s', (_title, map, field) => {
    let thrown: unknown;
    try {
      map();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamShapeError);
    expect(thrown).toMatchObject({ name: 'UpstreamShapeError', code: 'UPSTREAM_BAD_RESPONSE', field });
  });
});

describe('order types (KuCoin Get Order List, https://www.kucoin.com/docs-new/api-3470244)', () => {
  it("the contract's OrderKind lists every documented type, as the mapper spells them", () => {
    const kind = (spec as { components: { schemas: Record<string, { anyOf: { enum?: string[] }[] }> } }).components.schemas.OrderKind!;
    expect(kind.anyOf[0]!.enum).toEqual([...DOCUMENTED_ORDER_TYPES]);
  });

  it.each(['oco_stop', 'oco_limit', 'limit_stop', 'market_stop', 'some_new_type'])('a page with one %s order maps whole', (type) => {
    const [first] = activePage.items;
    const page = { ...activePage, items: [...activePage.items, { ...first!, id: 'odd', type }] };
    const mapped = toOrderPage(page, (symbol) => contract(symbol));
    expect(mapped.items).toHaveLength(activePage.items.length + 1);
    expect(mapped.items.at(-1)!.type).toBe(type.toUpperCase());
    expectValid('OrderPage', mapped);
  });
});
