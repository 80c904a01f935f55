import { describe, expect, it } from 'vitest';
import { batchTopics, expandTopics, isPrivateTopic, MAX_TOPICS_PER_MESSAGE, topicPrefix } from '../../src/kucoin/stream/topics.js';

describe('topic names (docs/kucoin.md "The private WebSocket")', () => {
  it.each([
    ['/contract/position:XBTUSDTM', true, '/contract/position'],
    ['/contract/positionAll', true, '/contract/positionAll'],
    ['/contractMarket/tradeOrders', true, '/contractMarket/tradeOrders'],
    ['/contractMarket/tradeOrders:XBTUSDTM', true, '/contractMarket/tradeOrders'],
    ['/contractAccount/wallet', true, '/contractAccount/wallet'],
    ['/contract/marginMode', true, '/contract/marginMode'],
    ['/contract/crossLeverage', true, '/contract/crossLeverage'],
    ['/contractMarket/advancedOrders', true, '/contractMarket/advancedOrders'],
    ['/contract/instrument:XBTUSDTM', false, '/contract/instrument'],
    ['/contract/announcement', false, '/contract/announcement'],
    ['/contractMarket/tickerV2:XBTUSDTM', false, '/contractMarket/tickerV2'],
  ])('%s: private %s, prefix %s', (topic, priv, prefix) => {
    expect(isPrivateTopic(topic)).toBe(priv);
    expect(topicPrefix(topic)).toBe(prefix);
  });

  it('expands comma-joined symbols and drops repeats, keeping the first order', () => {
    expect(expandTopics(['/contract/instrument:A,B', '/contractAccount/wallet', '/contract/instrument:B', '/contract/instrument:C,'])).toEqual([
      '/contract/instrument:A',
      '/contract/instrument:B',
      '/contractAccount/wallet',
      '/contract/instrument:C',
    ]);
  });
});

describe('subscribe batches', () => {
  it('joins the symbols of one prefix, keeps symbol-less topics apart, and flags private ones', () => {
    expect(batchTopics(['/contract/instrument:A', '/contractAccount/wallet', '/contract/position:A', '/contract/instrument:B'])).toEqual([
      { topic: '/contractAccount/wallet', members: ['/contractAccount/wallet'], private: true },
      { topic: '/contract/instrument:A,B', members: ['/contract/instrument:A', '/contract/instrument:B'], private: false },
      { topic: '/contract/position:A', members: ['/contract/position:A'], private: true },
    ]);
  });

  it(`puts at most ${MAX_TOPICS_PER_MESSAGE} symbols in a message`, () => {
    const topics = Array.from({ length: 250 }, (_, i) => `/contract/instrument:S${i}`);
    const batches = batchTopics(topics);
    expect(batches.map((b) => b.members.length)).toEqual([100, 100, 50]);
    expect(batches.flatMap((b) => b.members)).toEqual(topics);
    expect(batches[2]!.topic.split(',')).toHaveLength(50);
  });
});
