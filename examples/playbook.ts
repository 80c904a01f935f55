/**
 * The rollout playbook as a client program, on the generated client (`generated/client.ts`):
 * health, positions, leverage, funding, an order, the position it opened, closing it, then the
 * socket's first messages. Every value is typed from the contract; there is no cast anywhere.
 *
 *   GATEWAY_URL=http://127.0.0.1:3001 [GATEWAY_API_KEY=...] npx tsx examples/playbook.ts
 *
 * It places a real order on whatever account the gateway trades: run it against the demo
 * (`npm run demo`, the KuCoin simulator behind it), not a production gateway.
 */
import { pathToFileURL } from 'node:url';
import type { Middleware } from 'openapi-fetch';
import WebSocket from 'ws';
import { clientMessageFrame, createGatewayClient, parseServerMessage, type components, type ServerMessage } from '../generated/client.js';

type Problem = components['schemas']['Problem'];

export interface PlaybookOptions {
  /** The gateway's origin, e.g. `http://127.0.0.1:3001`. */
  baseUrl: string;
  /** A gateway API key, when the gateway has GATEWAY_API_KEYS. */
  apiKey?: string;
  /** Any accepted spelling; the gateway answers with KuCoin's id. */
  symbol?: string;
  /** Where each line of the report goes. */
  print?: (line: string) => void;
  /** Extra openapi-fetch middleware (logging, tracing, a contract check). */
  middleware?: Middleware[];
  /** Sees every socket frame as received. */
  onSocketFrame?: (text: string) => void;
}

/** A failed step, with the gateway's problem: its `code` says what to do (see the error catalogue). */
export class PlaybookError extends Error {
  constructor(
    readonly step: string,
    readonly problem: Problem,
  ) {
    super(`${step}: ${problem.status} ${problem.code}: ${problem.detail}`);
  }
}

const SOCKET_TIMEOUT_MS = 10_000;
const POSITION_READS = 20;

export async function runPlaybook(options: PlaybookOptions): Promise<void> {
  const print = options.print ?? ((line: string) => console.log(line));
  const symbol = options.symbol ?? 'BTCUSDTM';
  const headers: Record<string, string> = options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
  const client = createGatewayClient({ baseUrl: options.baseUrl, headers });
  for (const middleware of options.middleware ?? []) client.use(middleware);

  const health = await client.GET('/api/health');
  if (health.error !== undefined) throw new PlaybookError('health', health.error);
  print(`health: ${health.data.data.status}, version ${health.data.data.version}, futures ${health.data.data.futures.enabled ? 'on' : 'off'}`);

  const positions = await client.GET('/api/futures/positions');
  if (positions.error !== undefined) throw new PlaybookError('positions', positions.error);
  print(`positions: ${positions.data.data.length} open`);

  const leverage = await client.PUT('/api/futures/leverage', { body: { symbol, leverage: 5, marginMode: 'cross' } });
  if (leverage.error !== undefined) throw new PlaybookError('leverage', leverage.error);
  print(`leverage: ${leverage.data.data.symbol} ${leverage.data.data.marginMode} ${leverage.data.data.leverage}x`);

  const funding = await client.GET('/api/futures/funding/{symbol}', { params: { path: { symbol } } });
  if (funding.error !== undefined) throw new PlaybookError('funding', funding.error);
  const next = funding.data.data.nextFundingTime;
  print(`funding: ${funding.data.data.symbol} rate ${funding.data.data.rate}, next ${next === null ? 'unknown' : new Date(next).toISOString()}`);

  const order = await client.POST('/api/futures/orders', { body: { symbol, side: 'BUY', type: 'MARKET', qty: 1 } });
  if (order.error !== undefined) throw new PlaybookError('order', order.error);
  const accepted = order.data.data;
  print(`order: ${accepted.side} ${accepted.qty} ${accepted.symbol} ${accepted.type} accepted, orderId ${accepted.orderId}, clientOid ${accepted.clientOid}`);

  // Accepted is not filled: the position appears once KuCoin matched the order.
  let position: components['schemas']['Position'] | undefined;
  for (let read = 0; read < POSITION_READS && (position === undefined || position.qty === 0); read++) {
    if (read > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const answer = await client.GET('/api/futures/positions/{symbol}', { params: { path: { symbol } } });
    if (answer.error !== undefined && answer.error.code !== 'POSITION_NOT_FOUND') throw new PlaybookError('position', answer.error);
    position = answer.data?.data;
  }
  if (position === undefined || position.qty === 0) throw new Error(`position: no ${symbol} position after ${POSITION_READS} reads`);
  print(`position: ${position.symbol} ${position.side} ${position.qty} (${position.baseQty} ${position.baseAsset}), ${position.marginMode}`);

  const close = await client.DELETE('/api/futures/positions/{symbol}', { params: { path: { symbol } } });
  if (close.error !== undefined) throw new PlaybookError('close', close.error);
  print(`close: ${close.data.data.symbol} closing order ${close.data.data.orderId} accepted`);

  for (const message of await firstSocketMessages(options, headers)) print(`socket: ${describe(message)}`);
}

/**
 * Connects to `/ws/futures` and returns its opening messages (`futures_connected`, then one
 * snapshot of positions, of orders, and of funding per watched symbol), then the `pong` to a `ping`.
 */
function firstSocketMessages(options: PlaybookOptions, headers: Record<string, string>): Promise<ServerMessage[]> {
  const url = `${options.baseUrl.replace(/^http/, 'ws')}/ws/futures`;
  const socket = new WebSocket(url, { headers });
  const received: ServerMessage[] = [];
  return new Promise<ServerMessage[]>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`socket: only ${received.length} messages in ${SOCKET_TIMEOUT_MS} ms`)), SOCKET_TIMEOUT_MS);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.close(1000);
      if (error === undefined) resolve(received);
      else reject(error);
    };
    let watched: number | undefined;
    let ticks = 0;
    socket.on('message', (frame) => {
      const text = String(frame);
      options.onSocketFrame?.(text);
      const message = parseServerMessage(text);
      received.push(message);
      if (message.type === 'futures_connected') watched = message.symbols.length;
      if (message.type === 'funding_tick' && message.snapshot) ticks++;
      if (message.type === 'pong') return finish();
      if (watched !== undefined && ticks === watched && received.length === watched + 3) socket.send(clientMessageFrame({ type: 'ping', id: 'playbook' }));
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', (code) => finish(new Error(`socket closed with ${code} before the playbook's messages`)));
  });
}

function describe(message: ServerMessage): string {
  switch (message.type) {
    case 'futures_connected':
      return `futures_connected, watching ${message.symbols.join(', ')}, heartbeat ${message.heartbeatIntervalMs} ms`;
    case 'position_update':
      return `position_update${message.snapshot ? ' snapshot' : ''}, ${message.data.length} positions`;
    case 'order_update':
      return `order_update${message.snapshot ? ' snapshot' : ''}, ${message.data.length} orders`;
    case 'funding_tick':
      return `funding_tick${message.snapshot ? ' snapshot' : ''}, ${message.data.symbol} rate ${message.data.rate}`;
    case 'pong':
      return `pong ${message.requestId ?? ''}`.trimEnd();
    default:
      return message.type;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apiKey = process.env.GATEWAY_API_KEY;
  await runPlaybook({ baseUrl: process.env.GATEWAY_URL ?? 'http://127.0.0.1:3001', ...(apiKey === undefined ? {} : { apiKey }) });
}
