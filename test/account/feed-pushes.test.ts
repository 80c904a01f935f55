// The live feed of /ws/futures: KuCoin's position, order and funding pushes as client messages.
import { describe, expect, it } from 'vitest';
import { calls, clients, connectedWithSnapshots, ETH_ORDER, FUNDING, ns, orderChange, orderPush, PLACED_ORDER, POSITION, positionPush, start, upstream, useFeedGateway } from './feed-harness.js';

useFeedGateway();

describe('positions', () => {
  it('sends a full position.change as position_update with its changeReason', async () => {
    await start();
    const client = await connectedWithSnapshots();
    positionPush({ ...POSITION, currentQty: 3, markPrice: 69000, changeReason: 'positionChange' });
    const update = await client.waitFor((m) => m.type === 'position_update');
    expect(update).toMatchObject({ snapshot: false, reason: 'positionChange', data: [{ symbol: 'XBTUSDTM', qty: 3, baseQty: 0.003, markPrice: 69000 }] });
  });

  it('merges a partial mark-price push into the position it holds (reason markPrice)', async () => {
    await start();
    const client = await connectedWithSnapshots();
    positionPush({ markPrice: 70000.5, markValue: 70.0005, unrealisedPnl: 2.5, unrealisedPnlPcnt: 0.03, currentTimestamp: 1764200000000, settleCurrency: 'USDT' });
    const update = await client.waitFor((m) => m.type === 'position_update');
    expect(update).toMatchObject({ snapshot: false, reason: 'markPrice', data: [{ symbol: 'XBTUSDTM', qty: 1, markPrice: 70000.5, unrealisedPnl: 2.5, entryPrice: POSITION.avgEntryPrice, updatedAt: 1764200000000 }] });
  });

  it('sends one push to every client as the same message, each with its own seq, timestamp and seq last', async () => {
    await start();
    const first = await connectedWithSnapshots();
    first.send({ type: 'ping', id: 'p' }); // puts the first client's seq ahead of the second's
    await first.waitFor((m) => m.type === 'pong');
    const second = await connectedWithSnapshots();
    const frames: string[] = [];
    second.ws.on('message', (data) => frames.push(String(data)));
    positionPush({ ...POSITION, currentQty: 4, markPrice: 68000, changeReason: 'positionChange' });
    const [a, b] = await Promise.all([first, second].map((c) => c.waitFor((m) => m.type === 'position_update')));
    expect([a.seq, b.seq]).toEqual([7, 6]);
    const { seq: _a, timestamp: _ta, ...restA } = a;
    const { seq: _b, timestamp: _tb, ...restB } = b;
    expect(restA).toEqual(restB);
    expect(restA).toMatchObject({ type: 'position_update', snapshot: false, reason: 'positionChange', data: [{ qty: 4, markPrice: 68000 }] });
    expect(Object.keys(JSON.parse(frames[0]!)).slice(-2)).toEqual(['timestamp', 'seq']);
    expect(frames[0]).toBe(JSON.stringify({ ...restB, timestamp: b.timestamp, seq: b.seq }));
  });

  it('sends a closed position once with qty 0, then drops it from snapshots and ignores its mark pushes', async () => {
    await start();
    const client = await connectedWithSnapshots();
    positionPush({ ...POSITION, currentQty: 0, isOpen: false, changeReason: 'positionChange' });
    expect(await client.waitFor((m) => m.type === 'position_update')).toMatchObject({ data: [{ side: 'FLAT', qty: 0, isOpen: false }] });
    positionPush({ markPrice: 1, currentTimestamp: 1 });
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.0002, granularity: 60000, timestamp: 1 });
    // The funding tick proves the mark push before it was handled and sent nothing.
    expect((await client.take(1))[0].type).toBe('funding_tick');
  });
});

describe('orders', () => {
  it('applies an orderChange to a known order: status, fills and time from the push', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const at = 1764200000123;
    orderPush({ ...orderChange(ETH_ORDER, 'match', 'open'), filledSize: '6', remainSize: '4', matchPrice: '2456.5', matchSize: '2', ts: ns(at) });
    const match = await client.waitFor((m) => m.type === 'order_update');
    expect(match).toMatchObject({ snapshot: false, event: 'match', data: [{ orderId: ETH_ORDER.id, status: 'open', qty: 10, filledQty: 6, remainingQty: 4, updatedAt: at, timeInForce: 'GTC', postOnly: true }] });
    // Size-weighted: 4 at 2455.5 before, 2 at 2456.5 now.
    expect(match.data[0].avgFillPrice).toBeCloseTo((4 * 2455.5 + 2 * 2456.5) / 6, 9);
    orderPush({ ...orderChange(ETH_ORDER, 'canceled', 'done'), filledSize: '6', remainSize: '0', canceledSize: '4', ts: ns(at + 1) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ event: 'canceled', data: [{ status: 'canceled', filledQty: 6, remainingQty: 0 }] });
    expect(calls(`/api/v1/orders/${ETH_ORDER.id}`)).toBe(0);
  });

  it('reads an order it has not seen once, then applies its later pushes without another read', async () => {
    await start();
    const client = await connectedWithSnapshots();
    orderPush({ ...orderChange(PLACED_ORDER, 'open', 'open'), filledSize: '0', remainSize: '1', ts: ns(1764200000000) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({
      event: 'open',
      data: [{ orderId: PLACED_ORDER.id, status: 'open', type: 'LIMIT', price: 60000, qty: 1, filledQty: 0, remainingQty: 1, leverage: 3, updatedAt: 1764200000000 }],
    });
    orderPush({ ...orderChange(PLACED_ORDER, 'match', 'done'), filledSize: '1', remainSize: '0', matchPrice: '60000', matchSize: '1', ts: ns(1764200000500) });
    orderPush({ ...orderChange(PLACED_ORDER, 'filled', 'done'), filledSize: '1', remainSize: '0', ts: ns(1764200000500) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ event: 'match', data: [{ status: 'filled', filledQty: 1, avgFillPrice: 60000 }] });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ event: 'filled', data: [{ status: 'filled', remainingQty: 0 }] });
    expect(calls(`/api/v1/orders/${PLACED_ORDER.id}`)).toBe(1);
    // The filled order is no longer open: a fresh client's snapshot leaves it out.
    const fresh = await connectedWithSnapshots();
    expect(fresh.messages[2].data.map((o: { orderId: string }) => o.orderId)).not.toContain(PLACED_ORDER.id);
  });

  // KuCoin's spec allows either subject on the all-orders subscription and shows the push on the
  // per-symbol topic (openapi-futures-private.json, "All Order change pushes"); the older docs show
  // orderChange on the bare topic. Every combination is applied.
  const forms: [string, string, string][] = [
    ['orderChange on the bare topic (older docs)', '/contractMarket/tradeOrders', 'orderChange'],
    ['symbolOrderChange on the symbol topic (the spec\'s example)', `/contractMarket/tradeOrders:${ETH_ORDER.symbol}`, 'symbolOrderChange'],
    ['orderChange on the symbol topic', `/contractMarket/tradeOrders:${ETH_ORDER.symbol}`, 'orderChange'],
    ['symbolOrderChange on the bare topic', '/contractMarket/tradeOrders', 'symbolOrderChange'],
  ];
  it.each(forms)('applies %s', async (_name, topic, subject) => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.push(topic, subject, { ...orderChange(ETH_ORDER, 'canceled', 'done'), ts: ns(1764200000000) });
    expect(await client.waitFor((m) => m.type === 'order_update')).toMatchObject({ snapshot: false, event: 'canceled', data: [{ orderId: ETH_ORDER.id, status: 'canceled' }] });
    // Applied to the list served from the stream: a fresh client's snapshot no longer has it.
    const fresh = await connectedWithSnapshots();
    expect(fresh.messages[2].data.map((o: { orderId: string }) => o.orderId)).not.toContain(ETH_ORDER.id);
  });
});

describe('funding', () => {
  it('updates the predicted rate for a 1-minute funding.rate and the rate for an 8-hour one', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.00031, granularity: 60000, timestamp: 1764200000000 });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({ snapshot: false, event: 'rate', data: { symbol: 'XBTUSDTM', rate: FUNDING.value, predictedRate: 0.00031 } });
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.0004, granularity: 28800000, timestamp: 1764200000000 });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({ event: 'rate', data: { rate: 0.0004, predictedRate: 0.00031 } });
  });

  it('sends funding.begin and funding.end as events begin and end, moving the cycle on at the end', async () => {
    await start();
    const client = await connectedWithSnapshots();
    const fundingTime = FUNDING.fundingTime as number;
    upstream.push('/contract/announcement', 'funding.begin', { symbol: 'ETHUSDTM', fundingTime, fundingRate: 0.0005, timestamp: fundingTime });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({ event: 'begin', data: { symbol: 'ETHUSDTM', rate: 0.0005, nextFundingTime: fundingTime } });
    upstream.push('/contract/announcement', 'funding.end', { symbol: 'ETHUSDTM', fundingTime, fundingRate: 0.0005, timestamp: fundingTime });
    expect(await client.waitFor((m) => m.type === 'funding_tick')).toMatchObject({
      event: 'end',
      data: { symbol: 'ETHUSDTM', previousFundingTime: fundingTime, nextFundingTime: fundingTime + FUNDING.granularity },
    });
  });

  it('sends a position.settlement as a settlement tick and a position_update', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.push('/contract/position:XBTUSDTM', 'position.settlement', {
      fundingTime: 1764201600000,
      qty: 1,
      markPrice: 69100,
      fundingRate: 0.0003,
      fundingFee: 0.0207,
      ts: ns(1764201600005),
      settleCurrency: 'USDT',
    });
    const [tick, position] = await client.take(2);
    expect(tick).toMatchObject({ type: 'funding_tick', snapshot: false, event: 'settlement', data: { symbol: 'XBTUSDTM', rate: 0.0003, previousFundingTime: 1764201600000 } });
    expect(position).toMatchObject({ type: 'position_update', snapshot: false, reason: 'settlement', data: [{ symbol: 'XBTUSDTM', markPrice: 69100, updatedAt: 1764201600005 }] });
  });

  it('sends ticks only to clients watching the symbol', async () => {
    await start();
    const watching = await connectedWithSnapshots();
    const other = await connectedWithSnapshots();
    other.send({ type: 'unsubscribe', symbols: ['ETHUSDTM'] });
    await other.waitFor((m) => m.type === 'subscriptions');
    upstream.push('/contract/announcement', 'funding.begin', { symbol: 'ETHUSDTM', fundingTime: 1, fundingRate: 0.0005, timestamp: 1 });
    upstream.push('/contract/announcement', 'funding.begin', { symbol: 'SOLUSDTM', fundingTime: 1, fundingRate: 0.0005, timestamp: 1 });
    upstream.push('/contract/instrument:XBTUSDTM', 'funding.rate', { fundingRate: 0.0002, granularity: 60000, timestamp: 1 });
    expect((await watching.take(2)).map((m) => m.data.symbol)).toEqual(['ETHUSDTM', 'XBTUSDTM']);
    expect((await other.take(1)).map((m) => m.data.symbol)).toEqual(['XBTUSDTM']);
  });
});
