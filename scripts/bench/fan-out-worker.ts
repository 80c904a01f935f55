/**
 * One of the client processes of scripts/bench/fan-out.ts: it opens its share of the clients of
 * each target (`gateway`: its /ws/futures; `floor`: the bare ws server of fan-out-floor.ts), waits
 * for each one's snapshots, and records, per client, when each mark-price push arrived
 * (process.hrtime.bigint(), taken first thing in the 'message' handler). It talks to the bench over
 * IPC only:
 *
 *   bench → worker  { type: 'open', target, url, first, count, concurrency, sampleEvery, pushSymbol, timeoutMs }
 *   worker → bench  { type: 'progress', target, opened, ready } now and then, { type: 'opened', ... } once
 *   worker → bench  { type: 'greeting', messages }   once: what its first sampled gateway client got before it was live (unstamped)
 *   worker → bench  { type: 'frame', price, message, bytes } once per price: a gateway push as a sampled client got it (unstamped)
 *   bench → worker  { type: 'clock' }                 → { type: 'clock', ns }  (the monotonic-clock check)
 *   worker → bench  { type: 'delivered', target, price } once every ready client of that target has that push
 *   bench → worker  { type: 'report' }                → { type: 'report', receipts: { gateway, floor }, problems, ... }
 *   bench → worker  { type: 'close' }                 terminates every client and exits
 */
import WebSocket from 'ws';
import { assertServerMessage } from '../../test/support/ws-contract.js';

type Target = 'gateway' | 'floor';

interface OpenCommand {
  type: 'open';
  target: Target;
  url: string;
  /** Index of this worker's first client across all workers (sampling is by global index). */
  first: number;
  count: number;
  concurrency: number;
  sampleEvery: number;
  pushSymbol: string;
  timeoutMs: number;
}

interface Client {
  index: number;
  target: Target;
  /** What a sampled gateway client got before it was live, unstamped (the floor's greeting). */
  early: unknown[] | undefined;
  ws: WebSocket;
  sampled: boolean;
  seq: number;
  greeted: boolean;
  fundingDue: Set<string> | undefined;
  positions: boolean;
  orders: boolean;
  ready: boolean;
  /** Receipt time (ns, CLOCK_MONOTONIC) of each mark price pushed, keyed by that price. */
  receipts: Map<number, bigint>;
}

const MAX_PROBLEMS = 50;
const problems: string[] = [];
let problemCount = 0;
const problem = (text: string) => {
  problemCount += 1;
  if (problems.length < MAX_PROBLEMS) problems.push(text);
};

const clients: Client[] = [];
/** Per target and pushed price (`target|price`): how many ready clients have it. */
const deliveredCount = new Map<string, number>();
/** Prices whose gateway frame was sent to the bench. */
const framesSent = new Set<number>();
let greetingSent = false;
/** Live messages that were neither the awaited pushes nor errors, by type/reason (informational). */
const otherLive = new Map<string, number>();
let sampledChecked = 0;
/** upstream_status messages by status, the clients told `down`, and why. */
const upstreamStatus = new Map<string, number>();
const downClients = new Set<string>();
const downReasons = new Map<string, number>();
let closing = false;
let closedEarly = 0;
let failedToOpen = 0;
const readyCount: Record<Target, number> = { gateway: 0, floor: 0 };
let pushSymbol = 'XBTUSDTM';

const send = (message: unknown) => process.send?.(message);

function onMessage(client: Client, raw: WebSocket.RawData): void {
  const at = process.hrtime.bigint();
  let msg: any;
  try {
    msg = JSON.parse(raw.toString());
  } catch {
    problem(`${client.target} client ${client.index}: a frame that is not JSON`);
    return;
  }
  if (client.sampled) {
    try {
      assertServerMessage(msg);
      sampledChecked += 1;
    } catch (error) {
      problem(`${client.target} client ${client.index}: ${error instanceof Error ? error.message.slice(0, 500) : String(error)}`);
    }
    if (client.target === 'gateway') forward(client, msg, raw);
  }
  if (msg.seq !== client.seq + 1) problem(`${client.target} client ${client.index}: seq ${msg.seq} after ${client.seq}`);
  client.seq = typeof msg.seq === 'number' ? msg.seq : client.seq;
  switch (msg.type) {
    case 'futures_connected':
      client.greeted = true;
      client.fundingDue = new Set(Array.isArray(msg.symbols) ? msg.symbols : []);
      break;
    case 'position_update':
      if (msg.snapshot === true) client.positions = true;
      else if (msg.reason === 'markPrice' && msg.data?.[0]?.symbol === pushSymbol) return recordPush(client, Number(msg.data[0].markPrice), at);
      else bump(`position_update/${msg.reason}`);
      break;
    case 'order_update':
      if (msg.snapshot === true) client.orders = true;
      else bump(`order_update/${msg.event}`);
      break;
    case 'funding_tick':
      if (msg.snapshot === true) client.fundingDue?.delete(msg.data?.symbol);
      else bump(`funding_tick/${msg.event}`);
      break;
    case 'upstream_status':
      // Not a client problem: the gateway telling the truth about KuCoin. Counted and reported apart.
      upstreamStatus.set(msg.status, (upstreamStatus.get(msg.status) ?? 0) + 1);
      if (msg.status === 'down') {
        if (client.ready) problem(`${client.target} client ${client.index}: upstream_status down after its snapshots (${msg.reason ?? ''})`);
        downClients.add(`${client.target}|${client.index}`);
        const reason = String(msg.reason ?? '');
        downReasons.set(reason, (downReasons.get(reason) ?? 0) + 1);
      }
      break;
    default:
      problem(`${client.target} client ${client.index}: unexpected message ${msg.type}`);
  }
  if (!client.ready && client.greeted && client.positions && client.orders && client.fundingDue?.size === 0) {
    client.ready = true;
    readyCount[client.target] += 1;
    if (client.early !== undefined && !greetingSent) {
      greetingSent = true;
      send({ type: 'greeting', messages: client.early });
    }
  }
}

/** A sampled gateway client's frames, unstamped, for the floor to send the same: its greeting, and each push once. */
function forward(client: Client, msg: any, raw: WebSocket.RawData): void {
  const { timestamp: _timestamp, seq: _seq, ...unstamped } = msg;
  if (!client.ready) {
    client.early?.push(unstamped);
    return;
  }
  if (msg.type !== 'position_update' || msg.reason !== 'markPrice') return;
  const price = Number(msg.data?.[0]?.markPrice);
  if (framesSent.has(price)) return;
  framesSent.add(price);
  send({ type: 'frame', price, message: unstamped, bytes: (raw as Buffer).length });
}

function bump(key: string): void {
  otherLive.set(key, (otherLive.get(key) ?? 0) + 1);
}

function recordPush(client: Client, price: number, at: bigint): void {
  if (!client.ready) problem(`${client.target} client ${client.index}: a push before its snapshots`);
  if (client.receipts.has(price)) {
    problem(`${client.target} client ${client.index}: mark ${price} twice`);
    return;
  }
  client.receipts.set(price, at);
  const key = `${client.target}|${price}`;
  const n = (deliveredCount.get(key) ?? 0) + 1;
  deliveredCount.set(key, n);
  if (n === readyCount[client.target]) send({ type: 'delivered', target: client.target, price });
}

function openOne(command: OpenCommand, index: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(command.url, { perMessageDeflate: false });
    const client: Client = {
      index,
      target: command.target,
      early: command.target === 'gateway' && index % command.sampleEvery === 0 && !greetingSent ? [] : undefined,
      ws,
      sampled: index % command.sampleEvery === 0,
      seq: 0,
      greeted: false,
      fundingDue: undefined,
      positions: false,
      orders: false,
      ready: false,
      receipts: new Map(),
    };
    let settled = false;
    const done = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    ws.on('open', () => {
      clients.push(client);
      done();
    });
    ws.on('unexpected-response', (_req, res) => {
      failedToOpen += 1;
      problem(`${command.target} client ${index}: upgrade refused with HTTP ${res.statusCode}`);
      ws.terminate();
      done();
    });
    ws.on('error', (error) => {
      if (!settled) {
        failedToOpen += 1;
        problem(`${command.target} client ${index}: ${error.message}`);
        done();
      } else if (!closing) {
        problem(`${command.target} client ${index}: socket error ${error.message}`);
      }
    });
    ws.on('message', (data) => onMessage(client, data));
    ws.on('close', (code, reason) => {
      if (closing || !settled) return;
      closedEarly += 1;
      problem(`${command.target} client ${index}: closed by the server (${code} ${reason.toString()})`);
      if (client.ready) readyCount[client.target] -= 1;
      client.ready = false;
    });
  });
}

async function open(command: OpenCommand): Promise<void> {
  pushSymbol = command.pushSymbol;
  const started = process.hrtime.bigint();
  let next = 0;
  const { target } = command;
  const mine = () => clients.filter((c) => c.target === target);
  const progress = setInterval(() => send({ type: 'progress', target, opened: mine().length, ready: readyCount[target] }), 1_000);
  const runner = async () => {
    while (next < command.count) {
      const index = command.first + next;
      next += 1;
      await openOne(command, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.concurrency, command.count) }, runner));
  const openedAt = process.hrtime.bigint();
  const deadline = Date.now() + command.timeoutMs;
  while (readyCount[target] < mine().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  clearInterval(progress);
  const notReady = mine().filter((c) => !c.ready);
  for (const c of notReady.slice(0, 5)) problem(`${target} client ${c.index}: no snapshots within ${command.timeoutMs} ms (greeted ${c.greeted}, positions ${c.positions}, orders ${c.orders}, funding due ${[...(c.fundingDue ?? [])].join(',')})`);
  send({
    type: 'opened',
    target,
    opened: mine().length,
    ready: readyCount[target],
    failedToOpen,
    openMs: Number(openedAt - started) / 1e6,
    readyMs: Number(process.hrtime.bigint() - started) / 1e6,
  });
}

process.on('message', (raw) => {
  const command = raw as { type: string };
  switch (command.type) {
    case 'open':
      void open(command as OpenCommand);
      break;
    case 'clock':
      send({ type: 'clock', ns: process.hrtime.bigint().toString() });
      break;
    case 'report': {
      const receipts: Record<Target, Record<string, string[]>> = { gateway: {}, floor: {} };
      for (const client of clients) {
        for (const [price, at] of client.receipts) (receipts[client.target][String(price)] ??= []).push(at.toString());
      }
      send({
        type: 'report',
        receipts,
        clients: clients.length,
        ready: { ...readyCount },
        closedEarly,
        failedToOpen,
        sampledClients: clients.filter((c) => c.sampled).length,
        sampledChecked,
        otherLive: Object.fromEntries(otherLive),
        upstreamStatus: Object.fromEntries(upstreamStatus),
        downClients: downClients.size,
        downReasons: Object.fromEntries(downReasons),
        problemCount,
        problems,
        memory: process.memoryUsage().rss,
      });
      break;
    }
    case 'close':
      closing = true;
      for (const client of clients) client.ws.terminate();
      setTimeout(() => process.exit(0), 100);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'started' });
