import { describe, expect, it } from 'vitest';
import { deliveriesFor, expandTopic, type SimPush } from '../../src/simulator/ws/topics.js';

describe('expandTopic (docs/kucoin.md "The private WebSocket")', () => {
  const cases: [string, { given: string; want: string[] | undefined; private?: boolean }][] = [
    ['a public symbol topic', { given: '/contract/instrument:XBTUSDTM', want: ['/contract/instrument:XBTUSDTM'], private: false }],
    ['comma-joined symbols, one each', { given: '/contract/instrument:XBTUSDTM,ETHUSDTM', want: ['/contract/instrument:XBTUSDTM', '/contract/instrument:ETHUSDTM'] }],
    ['a repeated symbol once', { given: '/contractMarket/tickerV2:XBTUSDTM,XBTUSDTM', want: ['/contractMarket/tickerV2:XBTUSDTM'] }],
    ['the bare announcement topic (OLD)', { given: '/contract/announcement', want: ['/contract/announcement'], private: false }],
    ['the announcement topic with a symbol (docs-new)', { given: '/contract/announcement:XBTUSDTM', want: ['/contract/announcement:XBTUSDTM'] }],
    ['a private symbol topic', { given: '/contract/position:XBTUSDTM', want: ['/contract/position:XBTUSDTM'], private: true }],
    ['positionAll', { given: '/contract/positionAll', want: ['/contract/positionAll'], private: true }],
    ['all orders', { given: '/contractMarket/tradeOrders', want: ['/contractMarket/tradeOrders'], private: true }],
    ['orders of one symbol', { given: '/contractMarket/tradeOrders:XBTUSDTM', want: ['/contractMarket/tradeOrders:XBTUSDTM'], private: true }],
    ['the wallet', { given: '/contractAccount/wallet', want: ['/contractAccount/wallet'], private: true }],
    ['margin mode', { given: '/contract/marginMode', want: ['/contract/marginMode'], private: true }],
    ['cross leverage', { given: '/contract/crossLeverage', want: ['/contract/crossLeverage'], private: true }],
    ['stop orders', { given: '/contractMarket/advancedOrders', want: ['/contractMarket/advancedOrders'], private: true }],
    ['a Pro API topic name (docs/simulator.md)', { given: '/futuresTrade/orders', want: undefined }],
    ['a symbol topic without its symbol', { given: '/contract/instrument', want: undefined }],
    ['an empty symbol', { given: '/contract/instrument:', want: undefined }],
    ['an empty symbol in a list', { given: '/contract/instrument:XBTUSDTM,', want: undefined }],
    ['a symbol on a topic that takes none', { given: '/contractAccount/wallet:XBTUSDTM', want: undefined }],
    ['a prototype key', { given: 'constructor', want: undefined }],
  ];
  it.each(cases)('%s', (_title, { given, want, private: isPrivate }) => {
    const got = expandTopic(given);
    expect(got?.map((s) => s.topic)).toEqual(want);
    if (isPrivate !== undefined) expect(got?.every((s) => s.private === isPrivate)).toBe(true);
  });
});

describe('deliveriesFor', () => {
  const route = (push: SimPush) => deliveriesFor(push).map((d) => ({ subscriptions: d.subscriptions, topic: d.push.topic, subject: d.push.subject }));

  it('sends a plain push to its exact topic', () => {
    expect(route({ topic: '/contractAccount/wallet', subject: 'walletBalance.change', data: {}, private: true })).toEqual([
      { subscriptions: ['/contractAccount/wallet'], topic: '/contractAccount/wallet', subject: 'walletBalance.change' },
    ]);
  });

  it('sends a position push to positionAll too, topic unchanged', () => {
    expect(route({ topic: '/contract/position:XBTUSDTM', subject: 'position.change', data: {}, private: true })).toEqual([
      { subscriptions: ['/contract/position:XBTUSDTM', '/contract/positionAll'], topic: '/contract/position:XBTUSDTM', subject: 'position.change' },
    ]);
  });

  it('sends an announcement to the subscription naming its data.symbol', () => {
    expect(route({ topic: '/contract/announcement', subject: 'funding.begin', data: { symbol: 'XBTUSDTM' }, private: false })).toEqual([
      { subscriptions: ['/contract/announcement', '/contract/announcement:XBTUSDTM'], topic: '/contract/announcement', subject: 'funding.begin' },
    ]);
  });

  it.each([
    ['symbolOrderChange', { topic: '/contractMarket/tradeOrders:XBTUSDTM', subject: 'symbolOrderChange' }],
    ['orderChange', { topic: '/contractMarket/tradeOrders', subject: 'orderChange' }],
  ])('turns an order event emitted as %s into both order topics with their subjects', (_title, form) => {
    const got = route({ ...form, data: { symbol: 'XBTUSDTM' }, private: true });
    expect(got).toHaveLength(2);
    expect(got).toEqual(
      expect.arrayContaining([
        { subscriptions: ['/contractMarket/tradeOrders'], topic: '/contractMarket/tradeOrders', subject: 'orderChange' },
        { subscriptions: ['/contractMarket/tradeOrders:XBTUSDTM'], topic: '/contractMarket/tradeOrders:XBTUSDTM', subject: 'symbolOrderChange' },
      ]),
    );
  });

  it.each([
    ['symbolOrderChange', { topic: '/contractMarket/tradeOrders:XBTUSDTM', subject: 'symbolOrderChange' }],
    ['orderChange', { topic: '/contractMarket/tradeOrders', subject: 'orderChange' }],
  ])('in the spec\'s all-orders form, sends an event emitted as %s to both subscriptions as symbolOrderChange on the symbol topic', (_title, form) => {
    const got = deliveriesFor({ ...form, data: { symbol: 'XBTUSDTM' }, private: true }, 'symbolOrderChange').map((d) => ({ subscriptions: d.subscriptions, topic: d.push.topic, subject: d.push.subject }));
    expect(got).toEqual([
      { subscriptions: ['/contractMarket/tradeOrders:XBTUSDTM', '/contractMarket/tradeOrders'], topic: '/contractMarket/tradeOrders:XBTUSDTM', subject: 'symbolOrderChange' },
    ]);
  });
});
