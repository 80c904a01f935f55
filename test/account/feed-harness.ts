/**
 * What the live-feed tests of /ws/futures share: a real gateway on port 0, KuCoin's REST mocked
 * with msw, and a fake upstream supervisor (test/account/fake-upstream.ts) standing in for KuCoin's
 * WebSocket. Every message is checked against asyncapi.yaml and the seq rule as it arrives
 * (test/ws/ws-client.ts). A test file calls `useFeedGateway()` once for the hooks.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, fixture, json, mockKucoin } from '../support/kucoin-mock.js';
import { FakeUpstream } from './fake-upstream.js';
import { connectFeedClient, type FeedClient } from '../ws/ws-client.js';

export const kucoin = mockKucoin();
export let running: RunningGateway | undefined;
export let upstream: FakeUpstream;
export const clients: FeedClient[] = [];

export const POSITION = fixture('position').data;
export const ORDERS = fixture('orders-active').data;
export const [XBT_ORDER, ETH_ORDER] = ORDERS.items;
export const FUNDING = fixture('funding-rate-current').data;
export const PLACED_ORDER = { ...fixture('order').data, id: '900000000000000001', isActive: true, status: 'open', filledSize: 0, dealSize: 0, avgDealPrice: '0', type: 'limit', price: '60000' };

/** KuCoin as the feed reads it: one position, two open orders, a funding rate for any symbol. */
export const accountHandlers = () => [
  http.get(`${KUCOIN}/api/v1/positions`, () => json([POSITION])),
  http.get(`${KUCOIN}/api/v1/orders`, () => json(ORDERS)),
  http.get(`${KUCOIN}/api/v1/funding-rate/:symbol/current`, ({ params }) => json({ ...FUNDING, symbol: `.${String(params.symbol)}FPI8H` })),
  http.get(`${KUCOIN}/api/v1/orders/:orderId`, ({ params }) => (params.orderId === PLACED_ORDER.id ? json(PLACED_ORDER) : HttpResponse.json({ code: '100001', msg: 'order not exist' }, { status: 404 }))),
];

/**
 * The hooks every feed test file registers: msw up, KuCoin's account answers and a fresh fake
 * upstream for each test, the clients and the gateway stopped after it.
 */
export function useFeedGateway(): void {
  beforeAll(() => kucoin.listen());
  beforeEach(() => {
    kucoin.server.use(...accountHandlers());
    upstream = new FakeUpstream();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await running?.stop();
    running = undefined;
    kucoin.reset();
  });
  afterAll(() => kucoin.close());
}

export async function start(env: Record<string, string> = {}): Promise<RunningGateway> {
  running = await startGateway(
    // WS_MAX_CONNECTIONS_PER_CLIENT: every test client comes from 127.0.0.1, and some tests open 50.
    { FEATURE_FUTURES: 'true', FUTURES_BASE_URL: KUCOIN, UPSTREAM_TIMEOUT_MS: '500', WS_MAX_CONNECTIONS_PER_CLIENT: '100', ...TEST_CREDENTIALS, ...env },
    { upstream, feed: { retry: { initialMs: 50, maxMs: 200 } } },
  );
  return running;
}

/** Makes a gateway a test started with its own options the one the hooks stop after the test. */
export function track(gateway: RunningGateway): RunningGateway {
  running = gateway;
  return gateway;
}

export async function connect(): Promise<FeedClient> {
  const client = await connectFeedClient(`${running!.wsUrl}/ws/futures`);
  clients.push(client);
  return client;
}

/** futures_connected and the snapshots that follow it for the default symbols. */
export async function connectedWithSnapshots(): Promise<FeedClient> {
  const client = await connect();
  const messages = await client.take(5);
  expect(messages.map((m) => [m.type, m.snapshot])).toEqual([
    ['futures_connected', undefined],
    ['position_update', true],
    ['order_update', true],
    ['funding_tick', true],
    ['funding_tick', true],
  ]);
  return client;
}

export const calls = (path: string) => kucoin.calls.filter((c) => c.path === path).length;
export const positionPush = (data: Record<string, unknown>) => upstream.push(`/contract/position:${POSITION.symbol}`, 'position.change', data);
export const orderPush = (data: Record<string, unknown>) => upstream.push('/contractMarket/tradeOrders', 'orderChange', data);
export const ns = (ms: number) => `${ms}000000`;

/** A WebSocket upgrade on a plain TCP socket, answered but never read further. */
export function connectRaw(port: string): Socket {
  const socket = netConnect(Number(port), '127.0.0.1');
  socket.write(
    ['GET /ws/futures HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
  );
  return socket;
}

/** The orderChange fields KuCoin pushes for `order` (docs/kucoin.md "The private WebSocket"), sizes as strings. */
export function orderChange(order: { id: string; symbol: string; side: string; type: string; size: number; price: string; clientOid: string; marginMode?: string }, type: string, status: string) {
  return {
    symbol: order.symbol,
    orderType: order.type,
    side: order.side,
    orderId: order.id,
    clientOid: order.clientOid,
    marginMode: order.marginMode ?? 'ISOLATED',
    type,
    status,
    size: String(order.size),
    filledSize: '0',
    remainSize: String(order.size),
    canceledSize: '0',
    price: order.price,
    orderTime: ns(1729236185885),
    ts: ns(1729236185886),
  };
}
