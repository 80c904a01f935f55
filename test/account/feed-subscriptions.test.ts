// The live feed of /ws/futures: adding symbols, topics KuCoin refused, unknown symbols.
import { describe, expect, it } from 'vitest';
import { connect, connectedWithSnapshots, start, upstream, useFeedGateway } from './feed-harness.js';

useFeedGateway();

describe('subscriptions', () => {
  it('sends a funding snapshot for each added symbol and resubscribes the instruments', async () => {
    await start();
    const client = await connectedWithSnapshots();
    client.send({ type: 'subscribe', symbols: ['SOL-USDT', 'BTCUSDTM'], id: 's-1' });
    const [subscriptions, tick] = await client.take(2);
    expect(subscriptions).toMatchObject({ type: 'subscriptions', symbols: ['ETHUSDTM', 'SOLUSDTM', 'XBTUSDTM'], requestId: 's-1' });
    expect(tick).toMatchObject({ type: 'funding_tick', snapshot: true, data: { symbol: 'SOLUSDTM', baseAsset: 'SOL' } });
    expect(upstream.topics).toContain('/contract/instrument:ETHUSDTM,SOLUSDTM,XBTUSDTM');
    expect(upstream.topics).toContain('/contract/announcement:ETHUSDTM,SOLUSDTM,XBTUSDTM');
    client.send({ type: 'unsubscribe', symbols: ['ETHUSDTM', 'SOLUSDTM'] });
    expect((await client.take(1))[0].symbols).toEqual(['XBTUSDTM']);
    expect(upstream.topics).toContain('/contract/instrument:XBTUSDTM');
    expect(upstream.topics).toContain('/contract/announcement:XBTUSDTM');
    expect(upstream.topics).not.toContain('/contract/announcement');
  });

  it('tells every client which upstream topics KuCoin refused, and a new client before its snapshots', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const refusal = { topic: '/contract/announcement:XBTUSDTM', code: 404, message: 'topic /contract/announcement:XBTUSDTM is not found' };
    upstream.refuse([refusal]);
    expect((await client.take(1))[0]).toMatchObject({
      type: 'upstream_status',
      status: 'up',
      refusedTopics: [{ topic: '/contract/announcement:XBTUSDTM', reason: '404: topic /contract/announcement:XBTUSDTM is not found' }],
    });
    const late = await connect();
    expect((await late.take(6)).map((m) => [m.type, m.refusedTopics?.[0]?.topic])).toEqual([
      ['futures_connected', undefined],
      ['upstream_status', '/contract/announcement:XBTUSDTM'],
      ['position_update', undefined],
      ['order_update', undefined],
      ['funding_tick', undefined],
      ['funding_tick', undefined],
    ]);
    upstream.refuse([]);
    expect((await client.take(1))[0]).toMatchObject({ type: 'upstream_status', status: 'up', refusedTopics: [] });
  });

  it('refuses a symbol that is not in the contract list, changing nothing', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const topics = upstream.topicSets.length;
    client.send({ type: 'subscribe', symbols: ['FOOUSDTM'], id: 's-2' });
    expect((await client.take(1))[0]).toMatchObject({ type: 'error', code: 'UNKNOWN_SYMBOL', requestId: 's-2' });
    expect(upstream.topicSets.length).toBe(topics);
    client.send({ type: 'ping', id: 'p' });
    expect((await client.take(1))[0]).toMatchObject({ type: 'pong', requestId: 'p' });
  });
});
