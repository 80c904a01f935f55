// The live feed of /ws/futures: the greeting and the snapshots a client gets, and how clients share
// the upstream and the REST snapshot.
import { HttpResponse, delay, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { KUCOIN, json } from '../support/kucoin-mock.js';
import { calls, clients, connect, connectedWithSnapshots, ETH_ORDER, FUNDING, kucoin, POSITION, positionPush, start, upstream, useFeedGateway, XBT_ORDER } from './feed-harness.js';

useFeedGateway();

describe('connecting', () => {
  it('greets, then sends the position, order and funding snapshots in order', async () => {
    await start();
    const client = await connect();
    const [hello, positions, orders, xbt, eth] = await client.take(5);
    expect(hello).toMatchObject({ type: 'futures_connected', seq: 1, symbols: ['XBTUSDTM', 'ETHUSDTM'] });
    expect(positions).toMatchObject({ type: 'position_update', snapshot: true, seq: 2, data: [{ symbol: 'XBTUSDTM', side: 'LONG', qty: 1, markPrice: 68900.7 }] });
    expect(positions.reason).toBeUndefined();
    expect(orders).toMatchObject({ type: 'order_update', snapshot: true, seq: 3 });
    // Newest first, as the REST list (the snapshot is read through it).
    expect(orders.data.map((o: { orderId: string }) => o.orderId)).toEqual([ETH_ORDER.id, XBT_ORDER.id]);
    expect(orders.event).toBeUndefined();
    expect(xbt).toMatchObject({ type: 'funding_tick', snapshot: true, seq: 4, data: { symbol: 'XBTUSDTM', fundingRateSymbol: '.XBTUSDTMFPI8H', rate: FUNDING.value } });
    expect(eth).toMatchObject({ type: 'funding_tick', snapshot: true, seq: 5, data: { symbol: 'ETHUSDTM', baseAsset: 'ETH' } });
  });

  it('acquires the upstream once with the account topics and the watched instruments', async () => {
    await start();
    await connectedWithSnapshots();
    expect(upstream.acquires).toBe(1);
    // Announcements per symbol, as KuCoin's current spec subscribes them (`/contract/announcement:{symbol}`).
    expect(upstream.topics).toEqual(['/contract/positionAll', '/contractMarket/tradeOrders', '/contract/marginMode', '/contract/instrument:ETHUSDTM,XBTUSDTM', '/contract/announcement:ETHUSDTM,XBTUSDTM']);
  });

  it('waits for the upstream to come up before the snapshots, without an upstream_status for a normal start', async () => {
    upstream.autoUp = false;
    await start();
    const client = await connect();
    await client.take(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(client.pending()).toEqual([]);
    expect(calls('/api/v1/positions')).toBe(0);
    upstream.comeUp();
    expect((await client.take(4)).map((m) => m.type)).toEqual(['position_update', 'order_update', 'funding_tick', 'funding_tick']);
  });

  it('tells a client that connects while the upstream is reconnecting, then snapshots once it is back', async () => {
    await start();
    await connectedWithSnapshots();
    upstream.drop('pong_timeout');
    const late = await connect();
    const [hello, status] = await late.take(2);
    expect(hello.type).toBe('futures_connected');
    expect(status).toMatchObject({ type: 'upstream_status', status: 'reconnecting', reason: expect.stringContaining('pong timeout') });
    upstream.comeUp();
    expect((await late.take(5)).map((m) => [m.type, m.status ?? m.snapshot])).toEqual([
      ['upstream_status', 'up'],
      ['position_update', true],
      ['order_update', true],
      ['funding_tick', true],
      ['funding_tick', true],
    ]);
  });

  it('shares one acquire among 50 clients, and concurrent connects share the REST snapshot', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, async () => (await delay(300), json([POSITION]))));
    await start();
    const many = await Promise.all(Array.from({ length: 50 }, () => connect()));
    for (const client of many) expect((await client.take(5)).map((m) => m.type)).toEqual(['futures_connected', 'position_update', 'order_update', 'funding_tick', 'funding_tick']);
    expect(upstream.acquires).toBe(1);
    expect(calls('/api/v1/positions')).toBeLessThan(10);
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await new Promise((r) => setTimeout(r, 50));
    expect(upstream.releases).toBe(1);
  });

  it('snapshots a client arriving while others are live from the cache they share, with no KuCoin call, pushes included', async () => {
    await start();
    const first = await connectedWithSnapshots();
    positionPush({ ...POSITION, currentQty: 3, changeReason: 'positionChange' });
    expect((await first.take(1))[0]).toMatchObject({ type: 'position_update', data: [{ qty: 3 }] });
    const before = kucoin.calls.length;
    const later = await Promise.all(Array.from({ length: 20 }, () => connect()));
    for (const client of later) {
      const [, positions, , ...ticks] = await client.take(5);
      expect(positions).toMatchObject({ type: 'position_update', snapshot: true, data: [{ symbol: 'XBTUSDTM', qty: 3 }] });
      expect(ticks.map((t) => t.data.symbol)).toEqual(['XBTUSDTM', 'ETHUSDTM']);
    }
    expect(kucoin.calls.slice(before)).toEqual([]);
  });

  it('answers upstream_status down when the REST snapshot fails, and snapshots once KuCoin answers again', async () => {
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => HttpResponse.json({ code: '500000', msg: 'internal' }, { status: 500 })));
    await start();
    const client = await connect();
    const [, status] = await client.take(2);
    expect(status).toMatchObject({ type: 'upstream_status', status: 'down', reason: expect.stringContaining('KuCoin REST') });
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => json([POSITION])));
    const recovered = await client.take(5, 12_000);
    expect(recovered.map((m) => [m.type, m.status ?? m.snapshot])).toEqual([
      ['upstream_status', 'up'],
      ['position_update', true],
      ['order_update', true],
      ['funding_tick', true],
      ['funding_tick', true],
    ]);
  });
});
