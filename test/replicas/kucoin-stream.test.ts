/**
 * Issue 15, row "KuCoin WS": KuCoin allows 30 new private connections per minute per user
 * (docs/kucoin.md, "Connection limits"), and every replica trades for the same user, so the
 * replicas pace their connection attempts together. Measured before (sharing nothing): one
 * private connection per replica; while tokens were refused, 3 replicas made 21 attempts in 60 s,
 * each replica on its own backoff, so the total grows with the number of replicas.
 *
 * Six replicas here rather than three: with three, each one's own backoff already stays under
 * 30 a minute, so only more replicas show whether the pacing is shared. Every replica holds a
 * client socket (the stream is wanted) while the simulator refuses every bullet token for 20 s:
 * the attempts KuCoin sees in that time stay within 30 (the 60 s allowance, since 20 s < 60 s).
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReplicas, type ReplicaSet } from '../support/replicas.js';

const REPLICAS = 6;
const WINDOW_MS = 20_000;
const PER_MINUTE = 30;

let set: ReplicaSet;
const sockets: WebSocket[] = [];
beforeAll(async () => {
  // A breaker that reopens for a trial after 3 s rather than 10: the replicas' backoff, not a
  // breaker's pause, decides how often they try, and the pacing must hold either way.
  set = await startReplicas({ count: REPLICAS, env: { UPSTREAM_BREAKER_OPEN_MS: '3000' } });
}, 60_000);
afterAll(async () => {
  sockets.forEach((ws) => ws.terminate());
  await set?.stop();
}, 30_000);

const attempts = async (): Promise<number> => (await set.simControl('GET', '/sim/usage')).requests['POST /api/v1/bullet-private'] ?? 0;

describe('replicas: KuCoin stream connections paced per account', () => {
  it(`${REPLICAS} replicas wanting the stream while tokens are refused: at most ${PER_MINUTE} token requests in ${WINDOW_MS / 1000} s`, async () => {
    await set.simControl('POST', '/sim/faults', { match: { method: 'POST', path: '/api/v1/bullet-private' }, action: { type: 'http', status: 503 } });
    const before = await attempts();
    const started = Date.now();
    for (const replica of set.replicas) {
      const ws = new WebSocket(`${replica.wsUrl}/ws/futures`);
      sockets.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve()); // futures_connected
        ws.once('error', reject);
      });
    }
    const counts: number[] = [];
    while (Date.now() - started < WINDOW_MS) {
      await new Promise((r) => setTimeout(r, 1_000));
      counts.push((await attempts()) - before);
    }
    const made = (await attempts()) - before;
    // Something did try: the replicas wanted the stream and asked for tokens.
    expect(made, `token requests per second so far: ${counts.join(', ')}`).toBeGreaterThanOrEqual(REPLICAS);
    expect(made, `token requests per second so far: ${counts.join(', ')}`).toBeLessThanOrEqual(PER_MINUTE);
  }, 60_000);
});
