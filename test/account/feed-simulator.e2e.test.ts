/**
 * The live feed end to end: the KuCoin simulator as a process (`npm run sim`), a gateway in this
 * process pointed at it with the real upstream supervisor, and /ws/futures clients that check
 * every message against asyncapi.yaml and the seq rule. Orders go through the gateway's REST API;
 * the simulator's control API moves marks, settles funding and drops the WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { simControlAt } from '../support/sim-control.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { simulator, startGatewayProcess, stopGatewayProcesses, type GatewayProcess } from '../support/process.js';
import { connectFeedClient, type FeedClient } from '../ws/ws-client.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';

const SIM_CREDENTIALS = { SIM_KEY: 'feed-e2e-key', SIM_SECRET: 'feed-e2e-secret-0123456789abcdef', SIM_PASSPHRASE: 'feed-e2e-passphrase' };

let sim: GatewayProcess;
let running: RunningGateway;
let client: FeedClient;

const simControl = simControlAt(() => sim.baseUrl);
const call = (method: string, path: string, init: Parameters<typeof request>[3] = {}) => request(running.baseUrl, method, path, init);

beforeAll(async () => {
  // No random walk and no scheduled funding: every move in these tests is made by the test.
  sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } });
  running = await startGateway({
    FEATURE_FUTURES: 'true',
    ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS),
    UPSTREAM_TIMEOUT_MS: '2000',
    // Every test client comes from 127.0.0.1, and one test opens 50 more.
    WS_MAX_CONNECTIONS_PER_CLIENT: '100',
  });
  await call('PUT', '/api/futures/leverage', { json: { symbol: 'ETHUSDTM', leverage: 5, marginMode: 'cross' } });
  await simControl('POST', '/sim/mark', { symbol: 'ETHUSDTM', price: 3000, hold: true });
  client = await connectFeedClient(`${running.wsUrl}/ws/futures`);
}, 30_000);
afterAll(async () => {
  await client?.close().catch(() => undefined);
  await running?.stop();
  await stopGatewayProcesses();
});

describe('the live feed against the simulator', () => {
  it('greets and sends the snapshots once the upstream WebSocket is up', async () => {
    const messages = await client.take(5, 10_000);
    expect(messages.map((m) => [m.type, m.snapshot])).toEqual([
      ['futures_connected', undefined],
      ['position_update', true],
      ['order_update', true],
      ['funding_tick', true],
      ['funding_tick', true],
    ]);
    expect(messages.slice(3).map((m) => m.data.symbol)).toEqual(['XBTUSDTM', 'ETHUSDTM']);
    expect((await simControl('GET', '/sim/state')).ws.connections).toBe(1);
  });

  it('serves 50 more clients over the same single upstream connection', async () => {
    const many = await Promise.all(Array.from({ length: 50 }, () => connectFeedClient(`${running.wsUrl}/ws/futures`)));
    try {
      for (const other of many) expect((await other.take(5, 10_000)).map((m) => m.type)).toEqual(['futures_connected', 'position_update', 'order_update', 'funding_tick', 'funding_tick']);
      expect((await simControl('GET', '/sim/state')).ws.connections).toBe(1);
    } finally {
      await Promise.all(many.map((other) => other.close().catch(() => undefined)));
    }
  });

  it('shows an order placed through REST as order_update events and a position_update', async () => {
    const placed = await call('POST', '/api/futures/orders', { json: { symbol: 'ETH-USDT', side: 'BUY', type: 'MARKET', qty: 2 } });
    expect(placed.status).toBe(201);
    const { orderId } = placed.body.data;
    const filled = await client.waitFor((m) => m.type === 'order_update' && m.data[0].orderId === orderId && m.event === 'filled', 10_000);
    expect(filled).toMatchObject({ snapshot: false, data: [{ symbol: 'ETHUSDTM', side: 'BUY', type: 'MARKET', status: 'filled', qty: 2, filledQty: 2, remainingQty: 0 }] });
    const position = await client.waitFor((m) => m.type === 'position_update' && m.data[0].symbol === 'ETHUSDTM', 10_000);
    expect(position).toMatchObject({ snapshot: false, reason: 'positionChange', data: [{ side: 'LONG', qty: 2, marginMode: 'cross' }] });

    const resting = await call('POST', '/api/futures/orders', { json: { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 2900 } });
    const open = await client.waitFor((m) => m.type === 'order_update' && m.data[0].orderId === resting.body.data.orderId, 10_000);
    expect(open).toMatchObject({ event: 'open', data: [{ status: 'open', price: 2900, remainingQty: 1 }] });
    await call('DELETE', `/api/futures/orders/${resting.body.data.orderId}`);
    expect(await client.waitFor((m) => m.type === 'order_update' && m.data[0].orderId === resting.body.data.orderId, 10_000)).toMatchObject({
      event: 'canceled',
      data: [{ status: 'canceled' }],
    });
  });

  // KuCoin's spec shows the all-orders push as symbolOrderChange on `/contractMarket/tradeOrders:{symbol}`;
  // the older docs as orderChange on the bare topic. The gateway follows an order in either form.
  it.each(['symbolOrderChange', 'orderChange'] as const)('follows an order whose pushes come as %s', async (form) => {
    expect(await simControl('POST', '/sim/ws/options', { allOrders: form })).toMatchObject({ allOrders: form });
    const client = await connectFeedClient(`${running.wsUrl}/ws/futures`);
    try {
      expect((await client.take(5, 10_000)).map((m) => m.type)).toEqual(['futures_connected', 'position_update', 'order_update', 'funding_tick', 'funding_tick']);
      const resting = await call('POST', '/api/futures/orders', { json: { symbol: 'ETHUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 2800 } });
      expect(resting.status).toBe(201);
      const { orderId } = resting.body.data;
      expect(await client.waitFor((m) => m.type === 'order_update' && !m.snapshot && m.data[0]?.orderId === orderId, 10_000)).toMatchObject({ event: 'open', data: [{ status: 'open', price: 2800 }] });
      await call('DELETE', `/api/futures/orders/${orderId}`);
      expect(await client.waitFor((m) => m.type === 'order_update' && !m.snapshot && m.data[0]?.orderId === orderId, 10_000)).toMatchObject({ event: 'canceled', data: [{ status: 'canceled' }] });
    } finally {
      await client.close().catch(() => undefined);
      await simControl('POST', '/sim/ws/options', { allOrders: 'orderChange' });
    }
  });

  // KuCoin charges an order's POST weight 2. The gateway's own reads around it (the margin mode,
  // the feed reading back an order it does not know) made each order cost 9; in steady state the
  // margin mode is known and the order made from its push, so at most 3 (a correctness count).
  it('places orders at no more than 3 of KuCoin weight each in steady state, with the live feed following them', async () => {
    const client = await connectFeedClient(`${running.wsUrl}/ws/futures`);
    expect((await client.take(5, 10_000)).map((m) => m.type)).toEqual(['futures_connected', 'position_update', 'order_update', 'funding_tick', 'funding_tick']);
    const place = async (price: number) => {
      const placed = await call('POST', '/api/futures/orders', { json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price, postOnly: true } });
      expect(placed.status).toBe(201);
      const { orderId } = placed.body.data;
      const open = await client.waitFor((m) => m.type === 'order_update' && !m.snapshot && m.data[0]?.orderId === orderId, 10_000);
      expect(open).toMatchObject({ event: 'open', data: [{ status: 'open', postOnly: true, timeInForce: 'GTC', leverage: expect.any(Number) }] });
      return orderId as string;
    };
    const weight = async () => (await simControl('GET', '/sim/usage')).pools.futures.weight as number;
    const ids = [await place(20_000)]; // warm-up: the first order of a symbol reads its margin mode
    const before = await weight();
    for (let i = 1; i <= 10; i += 1) ids.push(await place(20_000 + i));
    const perOrder = ((await weight()) - before) / 10;
    for (const id of ids) await call('DELETE', `/api/futures/orders/${id}`);
    await client.close();
    expect(perOrder).toBeLessThanOrEqual(3);
  }, 60_000);

  it('moves the position with the mark (partial pushes)', async () => {
    await simControl('POST', '/sim/mark', { symbol: 'ETHUSDTM', price: 3050, hold: true });
    const update = await client.waitFor((m) => m.type === 'position_update' && m.data[0].symbol === 'ETHUSDTM', 10_000);
    expect(update).toMatchObject({ reason: 'markPrice', data: [{ qty: 2, markPrice: 3050 }] });
    expect(update.data[0].unrealisedPnl).toBeGreaterThan(0);
  });

  it('sends a funding settlement as funding_tick events', async () => {
    const { settlements } = await simControl('POST', '/sim/funding/settle');
    const eth = settlements.find((s: { symbol: string }) => s.symbol === 'ETHUSDTM');
    const begin = await client.waitFor((m) => m.type === 'funding_tick' && m.data.symbol === 'ETHUSDTM', 10_000);
    expect(begin).toMatchObject({ snapshot: false, event: 'begin', data: { rate: eth.fundingRate } });
    const settlement = await client.waitFor((m) => m.type === 'funding_tick' && m.data.symbol === 'ETHUSDTM', 10_000);
    expect(settlement).toMatchObject({ event: 'settlement', data: { rate: eth.fundingRate } });
    expect(await client.waitFor((m) => m.type === 'position_update', 10_000)).toMatchObject({ reason: 'settlement', data: [{ symbol: 'ETHUSDTM' }] });
    expect(await client.waitFor((m) => m.type === 'funding_tick' && m.data.symbol === 'ETHUSDTM' && m.event === 'end', 10_000)).toBeDefined();
    expect(await client.waitFor((m) => m.type === 'funding_tick' && m.data.symbol === 'ETHUSDTM' && m.event === 'rate', 10_000)).toBeDefined();
  });

  it('tells clients when the upstream WebSocket drops, re-snapshots on recovery, and updates flow again', async () => {
    expect((await simControl('POST', '/sim/ws/drop')).dropped).toBe(1);
    expect(await client.waitFor((m) => m.type === 'upstream_status', 10_000)).toMatchObject({ status: 'down' });
    expect(await client.waitFor((m) => m.type === 'upstream_status', 10_000)).toMatchObject({ status: 'reconnecting' });
    expect(await client.waitFor((m) => m.type === 'upstream_status' && m.status === 'up', 30_000)).toBeDefined();
    const snapshots = await client.take(4, 10_000);
    expect(snapshots.map((m) => [m.type, m.snapshot])).toEqual([
      ['position_update', true],
      ['order_update', true],
      ['funding_tick', true],
      ['funding_tick', true],
    ]);
    expect(snapshots[0].data).toContainEqual(expect.objectContaining({ symbol: 'ETHUSDTM', qty: 2 }));

    const closing = await call('DELETE', '/api/futures/positions/ETHUSDTM');
    expect(closing.status).toBe(200);
    expect(await client.waitFor((m) => m.type === 'order_update' && m.data[0].orderId === closing.body.data.orderId && m.event === 'filled', 10_000)).toBeDefined();
    expect(await client.waitFor((m) => m.type === 'position_update' && m.data[0].symbol === 'ETHUSDTM' && m.data[0].qty === 0, 10_000)).toMatchObject({
      data: [{ side: 'FLAT', isOpen: false }],
    });
  }, 45_000);

  it('tells clients when KuCoin refuses a funding-announcement topic, and when it no longer does', async () => {
    await simControl('POST', '/sim/ws/options', { refuseTopics: ['/contract/announcement:XBTUSDTM'] });
    try {
      expect((await simControl('POST', '/sim/ws/drop')).dropped).toBe(1);
      const up = await client.waitFor((m) => m.type === 'upstream_status' && m.status === 'up', 30_000);
      expect(up.refusedTopics).toEqual([{ topic: '/contract/announcement:XBTUSDTM', reason: expect.stringContaining('404') }]);
      const { text: metrics } = await call('GET', '/metrics');
      expect(metrics).toMatch(/gateway_upstream_ws_topic_refusals_total\{topic="\/contract\/announcement:\{symbol\}"\} [1-9]/);
    } finally {
      await simControl('POST', '/sim/ws/options', { refuseTopics: [] });
    }
    expect((await simControl('POST', '/sim/ws/drop')).dropped).toBe(1);
    const again = await client.waitFor((m) => m.type === 'upstream_status' && m.status === 'up', 30_000);
    expect(again.refusedTopics ?? []).toEqual([]);
  }, 75_000);
});
