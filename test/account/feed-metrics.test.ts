// The live feed of /ws/futures: message and broadcast metrics, and the slow consumer cut.
import { describe, expect, it } from 'vitest';
import { startGateway, TEST_CREDENTIALS } from '../support/gateway.js';
import { KUCOIN } from '../support/kucoin-mock.js';
import { connectedWithSnapshots, connectRaw, POSITION, positionPush, running, start, track, upstream, useFeedGateway } from './feed-harness.js';

useFeedGateway();

describe('metrics', () => {
  it('counts messages sent by type', async () => {
    await start();
    await connectedWithSnapshots();
    const text = await running!.gateway.metrics.registry.metrics();
    expect(text).toMatch(/^gateway_ws_messages_sent_total\{type="funding_tick"\} 2$/m);
    expect(text).toMatch(/^gateway_ws_messages_sent_total\{type="position_update"\} 1$/m);
    expect(text).toMatch(/^gateway_ws_dropped_slow_clients_total 0$/m);
  });

  it('times each broadcast by message type', async () => {
    await start();
    const first = await connectedWithSnapshots();
    await connectedWithSnapshots();
    const before = await running!.gateway.metrics.wsBroadcastSeconds.get();
    expect(before.values.find((v) => v.metricName === 'gateway_ws_broadcast_seconds_count' && v.labels.type === 'position_update')).toBeUndefined();
    positionPush({ ...POSITION, currentQty: 2, changeReason: 'positionChange' });
    await first.waitFor((m) => m.type === 'position_update');
    const after = await running!.gateway.metrics.wsBroadcastSeconds.get();
    const of = (name: string) => after.values.find((v) => v.metricName === name && v.labels.type === 'position_update')?.value;
    // One broadcast, to both clients.
    expect(of('gateway_ws_broadcast_seconds_count')).toBe(1);
    expect(of('gateway_ws_broadcast_seconds_sum')).toBeGreaterThan(0);
  });

  it('stamps one broadcast once and counts every client it reached', async () => {
    await start();
    const clients = [await connectedWithSnapshots(), await connectedWithSnapshots(), await connectedWithSnapshots()];
    const sent = async () => (await running!.gateway.metrics.wsMessagesSent.get()).values.find((v) => v.labels.type === 'position_update')?.value ?? 0;
    const before = await sent();
    positionPush({ ...POSITION, currentQty: 2, changeReason: 'positionChange' });
    const got = await Promise.all(clients.map((client) => client.waitFor((m) => m.type === 'position_update' && m.snapshot === false)));
    expect(await sent()).toBe(before + 3);
    // The same push, one timestamp (when the loop began), each client's own next seq.
    expect(new Set(got.map((m) => m.timestamp)).size).toBe(1);
    expect(got.map((m) => m.seq)).toEqual([6, 6, 6]); // after the greeting and four snapshots
  });

  it('cuts a slow consumer with 4408, counts it, and drops its socket at once', async () => {
    const running = track(await startGateway({ FEATURE_FUTURES: 'true', FUTURES_BASE_URL: KUCOIN, ...TEST_CREDENTIALS }, { upstream, ws: { maxBufferedBytes: 64 * 1024 } }));
    const metrics = running.gateway.metrics;
    const count = async (metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}) =>
      (await metric.get()).values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? 0;
    // A client that never reads. A raw socket, because msw wraps the sockets of http-based clients
    // (the ws client too), and pausing the wrapper does not stop the reads underneath.
    const socket = connectRaw(new URL(running.wsUrl).port);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('data', (chunk) => (String(chunk).startsWith('HTTP/1.1 101') ? resolve() : reject(new Error(String(chunk)))));
        socket.once('error', reject);
      });
      socket.pause();
      while ((await count(metrics.wsMessagesSent, { type: 'funding_tick' })) < 2) await new Promise((r) => setTimeout(r, 10));
      // Loopback buffers hold tens of MB here: push until they are full and the gateway gives up.
      for (let batch = 0; batch < 400 && (await count(metrics.wsDroppedSlowClients)) === 0; batch += 1) {
        for (let i = 0; i < 1_000; i += 1) positionPush({ ...POSITION, currentQty: i + 1, changeReason: 'positionChange' });
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(await count(metrics.wsDroppedSlowClients)).toBe(1);
      expect(await count(metrics.wsClosed, { code: '4408' })).toBe(1);
      // Its socket, and the megabyte queued on it, are let go now: not after ws's 30 s wait for a
      // close handshake the client will never read. The client is still connected and paused.
      for (let i = 0; i < 100 && (await count(metrics.wsClients)) > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
      expect(await count(metrics.wsClients)).toBe(0);
      expect(socket.destroyed).toBe(false);
    } finally {
      socket.destroy();
    }
  }, 60_000);
});
