// UpstreamSupervisor: the planned rotation before KuCoin's 24 h cut.
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { cleanUp, cleanups, fakeClient, metric, positionPush, sleep, startRaw, startSim, supervise, TOPICS, waitFor } from './stream-supervisor-harness.js';

afterEach(cleanUp);

describe('planned rotation before the 24 h cut (docs/kucoin.md "The private WebSocket")', () => {
  it('makes the new connection ready before letting the old go: no gap, no duplicate', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, metrics, pushes, states, resubscribed } = supervise(bullet.client, { rotateAfterMs: 250 });
    supervisor.setTopics(TOPICS);
    supervisor.acquire();
    await waitFor('up', () => resubscribed() === 1);

    let seq = 0;
    let most = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 3; i += 1) sim.push(positionPush((seq += 1)));
      most = Math.max(most, sim.socket.connectionCount());
    }, 2);
    cleanups.push(() => clearInterval(pump));
    await waitFor('two rotations', () => resubscribed() >= 3, 5_000);
    clearInterval(pump);
    await waitFor('every push', () => pushes.length >= seq);
    await sleep(50);

    const seen = pushes.map((p) => (p.data as { seq: number }).seq);
    expect(seen).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    expect(most).toBe(2);
    expect(states).toEqual(['connecting', 'up']);
    expect(bullet.issued.length).toBeGreaterThanOrEqual(3);
    expect(new Set(bullet.issued).size).toBe(bullet.issued.length);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'rotation' })).toBeGreaterThanOrEqual(2);
    await waitFor('old connections closed', () => sim.socket.connectionCount() === 1);
  });

  it('switches after a barrier ping on the old connection and filters repeats on both sides of the switch', async () => {
    // Events E1..E5 on one topic, delivered in the orders a real network allows:
    //   old: E1 | (on the barrier ping) E2, E3, E4, pong      new: E3, ack | (after the switch) E4, E5
    // E2 reached only the old connection (it happened before the new one subscribed).
    const push = (ws: WebSocket, seq: number) =>
      ws.send(JSON.stringify({ topic: '/contract/position:XBTUSDTM', type: 'message', subject: 'position.change', data: { seq } }));
    let newSubscribed = false;
    const raw = await startRaw((n) =>
      n === 0
        ? {
            script: (message, ws) => {
              if (message.type !== 'ping' || !newSubscribed) return false;
              for (const seq of [2, 3, 4]) push(ws, seq);
              ws.send(JSON.stringify({ id: message.id, type: 'pong' }));
              return true;
            },
          }
        : n === 1
          ? {
              script: (message, ws) => {
                if (message.type !== 'subscribe') return false;
                push(ws, 3);
                ws.send(JSON.stringify({ id: message.id, type: 'ack' }));
                newSubscribed = true;
                return true;
              },
            }
          : {},
    );
    const bullet = fakeClient(raw.endpoint, () => 'tok', { pingInterval: 10_000, pingTimeout: 1_000 });
    const { supervisor, pushes, resubscribed } = supervise(bullet.client, { rotateAfterMs: 200 });
    supervisor.setTopics(['/contract/position:XBTUSDTM']);
    supervisor.acquire();
    await waitFor('up', () => resubscribed() === 1);
    push(raw.connections[0]!.ws, 1);
    await waitFor('switched', () => resubscribed() === 2);
    push(raw.connections[1]!.ws, 4);
    push(raw.connections[1]!.ws, 5);
    await waitFor('E5', () => pushes.some((p) => (p.data as { seq: number }).seq === 5));
    await sleep(20);
    expect(pushes.map((p) => (p.data as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps the old connection when the new one cannot come up, and tries again', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'), { script: ['token', 'unknown-token'] });
    const { supervisor, metrics, states, resubscribed } = supervise(bullet.client, { rotateAfterMs: 100 });
    supervisor.acquire();
    await waitFor('rotated once', () => resubscribed() === 2);
    expect(states).toEqual(['connecting', 'up']);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'rotation' })).toBeGreaterThanOrEqual(1);
    expect(await metric(metrics, 'gateway_upstream_ws_reconnects_total', { reason: 'token_refused' })).toBe(1);
  });
});
