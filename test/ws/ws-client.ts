/**
 * A /ws/futures client for the feed tests: every server message is checked against asyncapi.yaml
 * and against the seq rule (1 for futures_connected, then +1 per message) as it arrives.
 *
 *   const client = await connectFeedClient(`${running.wsUrl}/ws/futures`);
 *   const snapshot = await client.take(5);                 // the next five messages, in order
 *   await client.waitFor((m) => m.type === 'order_update'); // skips to the first match
 */
import WebSocket from 'ws';
import { assertClientMessage, assertServerMessage } from '../support/ws-contract.js';

export interface FeedClient {
  ws: WebSocket;
  /** Every message received so far. */
  messages: any[];
  /** The next `count` messages not yet taken. */
  take(count: number, timeoutMs?: number): Promise<any[]>;
  /** Skips (takes) messages up to and including the first that `match` accepts. */
  waitFor(match: (message: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Messages received but not taken yet. */
  pending(): any[];
  send(message: unknown): void;
  close(): Promise<void>;
}

export async function connectFeedClient(url: string): Promise<FeedClient> {
  const ws = new WebSocket(url);
  const messages: any[] = [];
  const waiters = new Set<() => void>();
  let taken = 0;
  let failure: Error | undefined;
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    try {
      assertServerMessage(message);
      if (message.seq !== messages.length + 1) throw new Error(`seq ${message.seq} after ${messages.length} messages: ${JSON.stringify(message)}`);
    } catch (error) {
      failure ??= error as Error;
    }
    messages.push(message);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  const until = async (ready: () => boolean, what: () => string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (failure) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what()}; received: ${JSON.stringify(messages.slice(taken))}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        waiters.add(wake);
      });
    }
    if (failure) throw failure;
  };

  return {
    ws,
    messages,
    async take(count, timeoutMs = 5_000) {
      await until(() => messages.length >= taken + count, () => `${count} message(s)`, timeoutMs);
      taken += count;
      return messages.slice(taken - count, taken);
    },
    async waitFor(match, timeoutMs = 5_000) {
      let found: any;
      await until(
        () => {
          while (taken < messages.length) {
            const message = messages[taken++];
            if (match(message)) {
              found = message;
              return true;
            }
          }
          return false;
        },
        () => 'a matching message',
        timeoutMs,
      );
      return found;
    },
    pending: () => messages.slice(taken),
    send(message) {
      assertClientMessage(message);
      ws.send(JSON.stringify(message));
    },
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed;
      if (failure) throw failure;
    },
  };
}
