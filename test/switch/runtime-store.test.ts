import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';
import { FuturesSwitch } from '../../src/switch/futures-switch.js';
import { FileSwitchStore, FLIP_HISTORY_LENGTH, RedisSwitchStore, type RuntimeSwitchStore, type SwitchFlip } from '../../src/switch/runtime-store.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (check: () => boolean, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

let prefixes = 0;
/** Two handles on the same store (two replicas, or one replica and its restart). */
interface StoreKit {
  make(): Promise<RuntimeSwitchStore>;
}

function fileKit(): StoreKit {
  const dir = mkdtempSync(join(tmpdir(), 'switch-store-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { make: async () => new FileSwitchStore(dir) };
}

function redisKit(): StoreKit {
  const keyPrefix = `t${++prefixes}:`;
  return {
    make: async () => {
      const shared = new SharedRedis({ url: redis.url, keyPrefix, logger: pino({ level: 'silent' }), metrics: createMetrics() });
      cleanups.push(() => shared.close());
      expect(await shared.ready(3_000)).toBe(true);
      const store = new RedisSwitchStore({ shared, rereadMs: 50 });
      cleanups.push(() => store.close());
      return store;
    },
  };
}

const flip = (n: number, enabled = n % 2 === 0): SwitchFlip => ({ enabled, previous: !enabled, changedAt: 1_764_200_000_000 + n, changedBy: 'admin:0000000' + (n % 10), reason: `flip ${n}`, replica: 'host:1' });

describe.each([
  ['file', fileKit],
  ['redis', redisKit],
] as const)('the %s store', (_kind, kit) => {
  it('answers null before any flip, and no history', async () => {
    const store = await (kit()).make();
    expect(await store.read()).toBeNull();
    expect(await store.history()).toEqual([]);
  });

  it('keeps the last flip for the next reader (a restart or another replica)', async () => {
    const k = kit();
    const a = await k.make();
    await a.write(flip(1, false));
    const b = await k.make();
    expect(await b.read()).toEqual(flip(1, false));
    await b.write(flip(2, true));
    expect(await a.read()).toEqual(flip(2, true));
  });

  it('keeps the last 100 flips, newest first', async () => {
    const store = await (kit()).make();
    for (let n = 1; n <= FLIP_HISTORY_LENGTH + 5; n++) await store.write(flip(n));
    const history = await store.history();
    expect(history).toHaveLength(FLIP_HISTORY_LENGTH);
    expect(history[0]).toEqual(flip(FLIP_HISTORY_LENGTH + 5));
    expect(history.at(-1)).toEqual(flip(6));
    expect(await store.read()).toEqual(flip(FLIP_HISTORY_LENGTH + 5));
  });

  it('concurrent writes all land in the history, and the state is one of them', async () => {
    const store = await (kit()).make();
    await Promise.all([1, 2, 3, 4, 5].map((n) => store.write(flip(n))));
    expect((await store.history()).map((f) => f.changedAt).sort()).toEqual([1, 2, 3, 4, 5].map((n) => flip(n).changedAt));
    expect([1, 2, 3, 4, 5].map((n) => flip(n))).toContainEqual(await store.read());
  });

  it('a FuturesSwitch on the store starts from what a previous one stored (runtime off survives a restart)', async () => {
    const k = kit();
    const first = new FuturesSwitch(true, { store: await k.make() });
    await first.start();
    expect(first.state()).toMatchObject({ enabled: true, runtime: true, changedAt: null });
    await first.set({ enabled: false, by: 'admin:abc', reason: 'incident' });
    expect(first.enabled).toBe(false);
    first.close();

    const second = new FuturesSwitch(true, { store: await k.make() });
    expect(second.enabled).toBe(false); // not known yet: off
    await second.start();
    expect(second.state()).toMatchObject({ enabled: false, environment: true, runtime: false, previous: true, changedBy: 'admin:abc', reason: 'incident' });
    second.close();
  });
});

describe('the file store', () => {
  it('writes atomically: no temporary file is left beside switch.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switch-store-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = new FileSwitchStore(join(dir, 'nested'));
    await store.write(flip(1));
    expect(readdirSync(join(dir, 'nested'))).toEqual(['switch.json']);
  });

  it('a damaged file is an error, and a switch on it starts off (runtime unknown) and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switch-store-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'switch.json'), '{"state": {"enabled": "yes"}}');
    await expect(new FileSwitchStore(dir).read()).rejects.toThrow(/not valid/);
    const errors: unknown[] = [];
    const fs = new FuturesSwitch(true, { store: new FileSwitchStore(dir), onStoreError: (e) => errors.push(e) });
    await fs.start();
    expect(fs.state()).toMatchObject({ enabled: false, runtime: null });
    expect(errors).toHaveLength(1);
  });
});

describe('a file that cannot be written', () => {
  it('does not stop a flip: it applies in this process and the failure is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switch-store-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // The temporary file's name taken by a directory: switch.json reads (absent), every write fails.
    mkdirSync(join(dir, `switch.json.${process.pid}.tmp`));
    const errors: unknown[] = [];
    const fs = new FuturesSwitch(true, { store: new FileSwitchStore(dir), onStoreError: (e) => errors.push(e) });
    await fs.start();
    expect(fs.enabled).toBe(true);
    await fs.set({ enabled: false, by: 'admin:abc', reason: 'disk trouble' });
    expect(fs.state()).toMatchObject({ enabled: false, runtime: false, reason: 'disk trouble' });
    expect(errors).toHaveLength(1);
  });
});

describe('the Redis store between replicas', () => {
  it('a flip reaches the other replica by its message within 100 ms, and is counted as heard', async () => {
    const k = redisKit();
    const a = new FuturesSwitch(true, { store: await k.make() });
    const b = new FuturesSwitch(true, { store: await k.make() });
    cleanups.push(() => a.close(), () => b.close());
    await Promise.all([a.start(), b.start()]);
    const heard: string[] = [];
    b.onChange((state, cause) => heard.push(`${cause}:${state.enabled}`));
    // The subscription is made asynchronously on first use: a first flip shows it is in place.
    await a.set({ enabled: true, by: 'admin:x', reason: 'warm-up' });
    await until(() => b.state().reason === 'warm-up');

    const started = performance.now();
    await a.set({ enabled: false, by: 'admin:x', reason: 'rollback' });
    await until(() => !b.enabled, 1_000);
    expect(performance.now() - started).toBeLessThan(100);
    expect(heard).toEqual(['store:true', 'store:false']);
  });

  it('a lost message is made good by the periodic re-read', async () => {
    const store = await redisKit().make();
    const b = new FuturesSwitch(true, { store });
    cleanups.push(() => b.close());
    await b.start();
    // Written behind the store's back, with no message: only a re-read can find it.
    await redis.command('SET', `t${prefixes}:switch:state`, JSON.stringify(flip(7, false)));
    await until(() => !b.enabled, 2_000);
    expect(b.state().reason).toBe('flip 7');
  });

  it('a Redis that comes back empty does not turn futures back on: the replica writes what it knew back', async () => {
    const k = redisKit();
    const a = new FuturesSwitch(true, { store: await k.make() });
    cleanups.push(() => a.close());
    await a.start();
    await a.set({ enabled: false, by: 'admin:x', reason: 'before the loss' });
    await redis.command('FLUSHALL');
    // The re-read (every 50 ms here) finds nothing and puts the flip back.
    const end = Date.now() + 3_000;
    let stored = '';
    while (Date.now() < end && !stored.includes('before the loss')) {
      stored = await redis.command('GET', `t${prefixes}:switch:state`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(stored).toContain('before the loss');
    expect(a.state()).toMatchObject({ enabled: false, runtime: false, reason: 'before the loss' });
  });
});
