/**
 * The floor of scripts/bench/fan-out.ts: a bare `ws` server, nothing of the gateway on it, that
 * sends its clients the frames the gateway sends (copied from the gateway's own clients by the
 * bench) and broadcasts a push the way the least a server can: one loop calling `ws.send` on every
 * open socket, each frame the push's JSON plus that client's `timestamp` and `seq` (what makes the
 * gateway's frames differ per client, so the floor pays for it too). The loop is timed with
 * performance.now() like the gateway's `gateway_ws_broadcast_seconds`. It talks to the bench over
 * IPC only:
 *
 *   floor → bench  { type: 'listening', port }
 *   bench → floor  { type: 'greeting', messages }    what each new client is sent (unstamped)
 *   bench → floor  { type: 'push', message }         → { type: 'pushed', loopMs, clients, bytes }
 *   bench → floor  { type: 'memory' }                → { type: 'memory', rss, heapUsed, external, clients } after a full GC
 *   bench → floor  { type: 'close' }                 terminates every client and exits
 *
 * Run with --expose-gc (the bench forks it so) for the memory readings.
 */
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';

const send = (message: unknown) => process.send?.(message);
const seqs = new Map<WebSocket, number>();
let greeting: Array<Record<string, unknown>> = [];
let lastFrameBytes = 0;

const stamp = (head: string, ws: WebSocket): string => {
  const seq = (seqs.get(ws) ?? 0) + 1;
  seqs.set(ws, seq);
  const frame = `${head}"timestamp":${Date.now()},"seq":${seq}}`;
  lastFrameBytes = frame.length;
  return frame;
};
const headOf = (message: unknown): string => {
  const json = JSON.stringify(message);
  return json.length > 2 ? `${json.slice(0, -1)},` : '{';
};

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (ws) => {
  seqs.set(ws, 0);
  ws.on('close', () => seqs.delete(ws));
  ws.on('error', () => undefined);
  for (const message of greeting) ws.send(stamp(headOf(message), ws));
});
wss.on('listening', () => send({ type: 'listening', port: (wss.address() as { port: number }).port }));

/** The loop, named so a --cpu-prof profile of the floor finds it as the gateway's is found. */
function broadcast(message: unknown): void {
  const started = performance.now();
  const head = headOf(message);
  let clients = 0;
  for (const ws of seqs.keys()) {
    if (ws.readyState !== WebSocket.OPEN) continue;
    ws.send(stamp(head, ws));
    clients += 1;
  }
  const loopMs = performance.now() - started;
  send({ type: 'pushed', loopMs, clients, bytes: lastFrameBytes });
}

process.on('message', (raw) => {
  const command = raw as { type: string; messages?: Array<Record<string, unknown>>; message?: Record<string, unknown> };
  switch (command.type) {
    case 'greeting':
      greeting = command.messages ?? [];
      break;
    case 'push':
      broadcast(command.message);
      break;
    case 'memory': {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const usage = process.memoryUsage();
      send({ type: 'memory', rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, clients: seqs.size, gc: gc !== undefined });
      break;
    }
    case 'close':
      for (const ws of seqs.keys()) ws.terminate();
      wss.close();
      setTimeout(() => process.exit(0), 100);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
