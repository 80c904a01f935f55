// The live feed of /ws/futures: what clients are told when the upstream goes down and comes back.
import { describe, expect, it } from 'vitest';
import { calls, clients, connect, connectedWithSnapshots, POSITION, positionPush, start, upstream, useFeedGateway } from './feed-harness.js';

useFeedGateway();

describe('the upstream going down and coming back', () => {
  it('tells every client down then reconnecting, then up with fresh snapshots, and live updates flow again', async () => {
    await start();
    const a = await connectedWithSnapshots();
    const b = await connectedWithSnapshots();
    const before = calls('/api/v1/positions');
    upstream.drop('dropped');
    for (const client of [a, b]) {
      expect(await client.take(2)).toMatchObject([
        { type: 'upstream_status', status: 'down', reason: expect.stringContaining('dropped') },
        { type: 'upstream_status', status: 'reconnecting' },
      ]);
    }
    // Pushes while the upstream is not live are not sent to anyone.
    positionPush({ ...POSITION, currentQty: 2, changeReason: 'positionChange' });
    upstream.setState('connecting');
    upstream.setState('reconnecting', 'connect_failed');
    for (const client of [a, b]) expect((await client.take(1))[0]).toMatchObject({ type: 'upstream_status', status: 'reconnecting', reason: expect.stringContaining('connect failed') });
    upstream.comeUp();
    for (const client of [a, b]) {
      expect((await client.take(5)).map((m) => [m.type, m.status ?? m.snapshot])).toEqual([
        ['upstream_status', 'up'],
        ['position_update', true],
        ['order_update', true],
        ['funding_tick', true],
        ['funding_tick', true],
      ]);
    }
    expect(calls('/api/v1/positions')).toBe(before + 1);
    positionPush({ ...POSITION, currentQty: 5, changeReason: 'positionChange' });
    for (const client of [a, b]) expect((await client.take(1))[0]).toMatchObject({ type: 'position_update', snapshot: false, data: [{ qty: 5 }] });
  });

  it('re-snapshots nobody after a planned rotation that never left up', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.emit('resubscribed');
    client.send({ type: 'ping', id: 'after' });
    expect((await client.take(1))[0]).toMatchObject({ type: 'pong', requestId: 'after' });
  });

  it('tells clients down when the upstream closes', async () => {
    await start();
    const client = await connectedWithSnapshots();
    upstream.setState('closed', 'closed');
    expect((await client.take(1))[0]).toMatchObject({ type: 'upstream_status', status: 'down' });
  });
});
