// UpstreamSupervisor: opened by the first acquire, closed after the last release, ended by close().
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, fakeClient, metric, sleep, startRaw, startSim, supervise, waitFor } from './stream-supervisor-harness.js';

afterEach(cleanUp);

describe('reference counting', () => {
  it('opens on the first acquire and closes lingerMs after the last release', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, states, metrics } = supervise(bullet.client, { lingerMs: 150 });
    supervisor.acquire();
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    supervisor.release();
    supervisor.release();
    await sleep(50);
    expect(supervisor.state).toBe('up');
    supervisor.acquire(); // within the linger: the same connection stays
    await sleep(200);
    expect(supervisor.state).toBe('up');
    expect(bullet.issued).toHaveLength(1);
    supervisor.release();
    await waitFor('idle', () => supervisor.state === 'idle');
    await waitFor('closed upstream', () => sim.socket.connectionCount() === 0);
    expect(await metric(metrics, 'gateway_upstream_ws_state', { state: 'idle' })).toBe(1);
    supervisor.acquire();
    await waitFor('up again', () => supervisor.state === 'up');
    expect(bullet.issued).toHaveLength(2);
    expect(states).toEqual(['connecting', 'up', 'idle', 'connecting', 'up']);
  });

  it('with lingerAfterRelease(false), closes at the last release, or at once when unheld; true lingers again', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor } = supervise(bullet.client, { lingerMs: 60_000 });
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    supervisor.lingerAfterRelease(false);
    expect(supervisor.state).toBe('up'); // still held
    supervisor.release();
    expect(supervisor.state).toBe('idle'); // at once, not 60 s later
    await waitFor('closed upstream', () => sim.socket.connectionCount() === 0);

    supervisor.lingerAfterRelease(true);
    supervisor.acquire();
    await waitFor('up again', () => supervisor.state === 'up');
    supervisor.release();
    await sleep(50);
    expect(supervisor.state).toBe('up'); // lingering as usual
    supervisor.lingerAfterRelease(false); // nothing holds it: now
    expect(supervisor.state).toBe('idle');
  });

  it('stops an attempt in progress when released to zero', async () => {
    const raw = await startRaw(() => ({ welcome: false }));
    const bullet = fakeClient(raw.endpoint, () => 'tok');
    const { supervisor } = supervise(bullet.client, { lingerMs: 0, welcomeTimeoutMs: 5_000 });
    supervisor.acquire();
    await waitFor('a connection', () => raw.connections.length === 1);
    supervisor.release();
    await waitFor('idle', () => supervisor.state === 'idle');
    await waitFor('socket closed', () => raw.connections[0]!.ws.readyState === raw.connections[0]!.ws.CLOSED);
    await sleep(50);
    expect(raw.connections).toHaveLength(1);
  });

  it('refuses a release without an acquire', () => {
    const { supervisor } = supervise(fakeClient('ws://127.0.0.1:1/', () => 'tok').client);
    expect(() => supervisor.release()).toThrow(/without a matching acquire/);
  });

  it('close() ends everything for good', async () => {
    const sim = await startSim();
    const bullet = fakeClient(sim.endpoint, () => sim.tokens.issue('private'));
    const { supervisor, metrics } = supervise(bullet.client);
    supervisor.acquire();
    await waitFor('up', () => supervisor.state === 'up');
    await supervisor.close();
    expect(supervisor.state).toBe('closed');
    await waitFor('closed upstream', () => sim.socket.connectionCount() === 0);
    supervisor.acquire();
    await sleep(30);
    expect(supervisor.state).toBe('closed');
    expect(bullet.issued).toHaveLength(1);
    expect(await metric(metrics, 'gateway_upstream_ws_state', { state: 'closed' })).toBe(1);
  });
});
