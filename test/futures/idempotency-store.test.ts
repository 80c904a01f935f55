/**
 * The idempotency store's cases, run against both implementations: the in-process store and the
 * Redis one (a real redis-server). For Redis, "another replica" is a second store on the same Redis;
 * in process it is the same store (one process has one).
 */
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { fingerprintOf, IdempotencyStore, type IdempotencyRecords, type OutcomePolicy } from '../../src/futures/idempotency.js';
import { RedisIdempotencyStore } from '../../src/futures/idempotency-redis.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { SharedRedis } from '../../src/redis/shared-redis.js';
import { startRedis, type TestRedis } from '../support/redis.js';

interface Pending {
  symbol: string;
  sentAt: number;
  conclusiveAt: number;
}
class Unknown extends GatewayError {
  constructor(readonly pending: Pending) {
    super('ORDER_UNCONFIRMED', 'lost', { clientOid: 'k' });
  }
}
const policy: OutcomePolicy<Pending> = {
  isFinal: (error) => error instanceof GatewayError && error.status < 500 && error.code !== 'UPSTREAM_RATE_LIMITED',
  pendingOf: (error) => (error instanceof Unknown ? error.pending : undefined),
  unseen: (now, ttlMs) => ({ symbol: 'X', sentAt: now - ttlMs, conclusiveAt: now }),
  abandoned: (now, leaseUntil, settling) => ({ symbol: 'X', sentAt: settling?.sentAt ?? now, conclusiveAt: leaseUntil + 1 }),
  stillRunning: (key) => new GatewayError('ORDER_UNCONFIRMED', `still running ${key}`, { clientOid: key }),
};

interface Value {
  orderId: string;
  n: number;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

let redis: TestRedis;
const opened: SharedRedis[] = [];
async function sharedRedis(keyPrefix = 'idem-test:'): Promise<{ shared: SharedRedis; metrics: ReturnType<typeof createMetrics> }> {
  const metrics = createMetrics();
  const shared = new SharedRedis({ url: redis.url, keyPrefix, logger: pino({ level: 'silent' }), metrics });
  opened.push(shared);
  expect(await shared.ready(3_000)).toBe(true);
  return { shared, metrics };
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis.stop();
});

type Store = IdempotencyRecords<Value, Pending>;
const kinds: [string, () => Promise<[Store, Store]>][] = [
  [
    'in-process',
    async () => {
      const store = new IdempotencyStore<Value, Pending>();
      return [store, store];
    },
  ],
  [
    'redis',
    async () => {
      const a = new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis()).shared, leaseMs: 5_000 });
      const b = new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis()).shared, leaseMs: 5_000 });
      return [a, b];
    },
  ],
];

describe.each(kinds)('idempotency store: %s', (_kind, make) => {
  let a: Store;
  let b: Store;
  let n = 0;
  const key = () => `key-${_kind}-${++n}`;
  beforeEach(async () => {
    [a, b] = await make();
  });

  it('runs once; the same request replays the outcome (replayed) on any replica; another request is a 409', async () => {
    const k = key();
    let runs = 0;
    const action = async () => ({ orderId: `o-${++runs}`, n: runs });
    expect(await a.run(k, { qty: 1 }, action, policy, null)).toEqual({ value: { orderId: 'o-1', n: 1 }, replayed: false });
    expect(await b.run(k, { qty: 1 }, action, policy, null)).toEqual({ value: { orderId: 'o-1', n: 1 }, replayed: true });
    // Key order in the request does not make it another request.
    expect(await b.run(k, { b: 1, a: 2 }, action, policy, null).catch((e: GatewayError) => e.code)).toBe('IDEMPOTENCY_CONFLICT');
    const conflict = await b.run(k, { qty: 2 }, action, policy, null).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(GatewayError);
    expect((conflict as GatewayError).code).toBe('IDEMPOTENCY_CONFLICT');
    expect((conflict as GatewayError).options.clientOid).toBe(k);
    expect(runs).toBe(1);
  });

  it('ten concurrent requests over two replicas: one run, one first-time answer, nine replays of it', async () => {
    const k = key();
    let runs = 0;
    const gate = deferred<void>();
    const action = async () => {
      runs++;
      await gate.promise;
      return { orderId: 'only', n: runs };
    };
    const all = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).run(k, { qty: 1 }, action, policy, null));
    await until(() => runs === 1);
    gate.resolve();
    const results = await Promise.all(all);
    expect(runs).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(results.every((r) => r.value.orderId === 'only')).toBe(true);
  });

  it('a final business error round-trips (code, detail, details) and is replayed without a second run', async () => {
    const k = key();
    let runs = 0;
    const existingOrder = { orderId: 'o9', clientOid: k, symbol: 'XBTUSDTM', side: 'BUY', qty: 1, price: null } as never;
    const action = async (): Promise<Value> => {
      runs++;
      throw new GatewayError('INSUFFICIENT_BALANCE', 'not enough USDT', { upstream: { code: '300003', message: 'Balance insufficient' }, clientOid: k, existingOrder });
    };
    const first = (await a.run(k, { qty: 1 }, action, policy, null).catch((e: unknown) => e)) as GatewayError;
    const again = (await b.run(k, { qty: 1 }, action, policy, null).catch((e: unknown) => e)) as GatewayError;
    expect(again).toBeInstanceOf(GatewayError);
    expect({ code: again.code, status: again.status, message: again.message, options: again.options }).toEqual({
      code: 'INSUFFICIENT_BALANCE',
      status: 422,
      message: 'not enough USDT',
      options: first.options,
    });
    expect(runs).toBe(1);
  });

  it('a failure that is not kept (a rate limit) is forgotten: the next request runs again', async () => {
    const k = key();
    let runs = 0;
    const action = async (): Promise<Value> => {
      runs++;
      if (runs === 1) throw new GatewayError('UPSTREAM_RATE_LIMITED', 'slow down', { retryAfterSeconds: 1 });
      return { orderId: 'second', n: runs };
    };
    await expect(a.run(k, { qty: 1 }, action, policy, null)).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
    expect(await b.run(k, { qty: 1 }, action, policy, null)).toEqual({ value: { orderId: 'second', n: 2 }, replayed: false });
  });

  it('an unknown outcome is kept as pending: the next request runs with it (settles first); those waiting on the first get its error', async () => {
    const k = key();
    const pending: Pending = { symbol: 'XBTUSDTM', sentAt: 1_700_000_000_123, conclusiveAt: 1_700_000_009_999.5 };
    const seen: (Pending | undefined)[] = [];
    const gate = deferred<void>();
    const action = async (p: Pending | undefined): Promise<Value> => {
      seen.push(p);
      if (seen.length === 1) {
        await gate.promise;
        throw new Unknown(pending);
      }
      return { orderId: 'settled', n: seen.length };
    };
    const first = a.run(k, { qty: 1 }, action, policy, null);
    await until(() => seen.length === 1);
    const waiting = b.run(k, { qty: 1 }, action, policy, null);
    gate.resolve();
    await expect(first).rejects.toMatchObject({ code: 'ORDER_UNCONFIRMED' });
    await expect(waiting).rejects.toMatchObject({ code: 'ORDER_UNCONFIRMED', message: 'lost' });
    expect(await b.run(k, { qty: 1 }, action, policy, null)).toEqual({ value: { orderId: 'settled', n: 2 }, replayed: false });
    expect(seen).toEqual([undefined, pending]);
  });
});

describe('idempotency store: in-process, for a key the shared store could not be asked about', () => {
  it('settles first with policy.unseen when it does not hold the key; replays what it holds', async () => {
    const store = new IdempotencyStore<Value, Pending>({ ttlMs: 60_000 });
    const seen: (Pending | undefined)[] = [];
    const action = async (p: Pending | undefined) => {
      seen.push(p);
      return { orderId: 'x', n: seen.length };
    };
    const before = Date.now();
    expect(await store.run('u', { q: 1 }, action, policy, null, { unseen: true })).toEqual({ value: { orderId: 'x', n: 1 }, replayed: false });
    expect(seen[0]).toMatchObject({ symbol: 'X' });
    expect(seen[0]!.sentAt).toBeLessThanOrEqual(before - 60_000 + 1000);
    expect(seen[0]!.conclusiveAt).toBeGreaterThanOrEqual(before);
    expect(await store.run('u', { q: 1 }, action, policy, null, { unseen: true })).toEqual({ value: { orderId: 'x', n: 1 }, replayed: true });
    expect(seen).toHaveLength(1);
  });
});

describe('idempotency store: redis only', () => {
  it('keeps every record with a PX no longer than its TTL', async () => {
    const { shared } = await sharedRedis();
    const store = new RedisIdempotencyStore<Value, Pending>({ shared, leaseMs: 5_000, ttlMs: 60_000 });
    await store.run('ttl', { q: 1 }, async () => ({ orderId: 't', n: 1 }), policy, null);
    const pttl = Number((await redis.command('PTTL', 'idem-test:idem:ttl')).slice(1));
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('a Redis that stops answering (CLIENT PAUSE): the request runs locally after the command timeout, not held until Redis answers', async () => {
    const own = await startRedis();
    const metrics = createMetrics();
    const shared = new SharedRedis({ url: own.url, keyPrefix: 'paused:', logger: pino({ level: 'silent' }), metrics, commandTimeoutMs: 300 });
    opened.push(shared);
    try {
      expect(await shared.ready(3_000)).toBe(true);
      const store = new RedisIdempotencyStore<Value, Pending>({ shared, leaseMs: 5_000 });
      expect(await own.command('CLIENT', 'PAUSE', '3000', 'ALL')).toBe('+OK');
      const started = Date.now();
      const result = await store.run('paused', { q: 1 }, async (p) => ({ orderId: p ? 'settled-first' : 'blind', n: 1 }), policy, null);
      expect(result).toEqual({ value: { orderId: 'settled-first', n: 1 }, replayed: false });
      expect(Date.now() - started).toBeLessThan(1_500);
      const errors = await metrics.registry.getSingleMetric('gateway_redis_errors_total')?.get();
      expect(errors?.values.find((v) => v.labels.use === 'idempotency')?.value).toBeGreaterThanOrEqual(1);
    } finally {
      await shared.close();
      await own.kill();
    }
  });

  it('a record no replica could have written (unreadable outcome) is Redis trouble: counted, and settled on the replica\'s own store', async () => {
    const { shared, metrics } = await sharedRedis();
    const store = new RedisIdempotencyStore<Value, Pending>({ shared, leaseMs: 5_000 });
    await redis.command('HSET', 'idem-test:idem:corrupt', 'fp', fingerprintOf({ q: 1 }), 'state', 'final', 'token', 't', 'outcome', '{not json');
    const seen: (Pending | undefined)[] = [];
    const result = await store.run('corrupt', { q: 1 }, async (p) => (seen.push(p), { orderId: 'settled', n: 1 }), policy, null);
    expect(result).toEqual({ value: { orderId: 'settled', n: 1 }, replayed: false });
    expect(seen[0]).toMatchObject({ symbol: 'X' });
    const errors = await metrics.registry.getSingleMetric('gateway_redis_errors_total')?.get();
    expect(errors?.values.find((v) => v.labels.use === 'idempotency')?.value).toBe(1);
  });

  it('a waiter is woken by the outcome notification, not by its polling', async () => {
    const [a, b] = [
      new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis('wake-test:')).shared, leaseMs: 10_000, pollMs: 8_000 }),
      new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis('wake-test:')).shared, leaseMs: 10_000, pollMs: 8_000 }),
    ];
    const gate = deferred<void>();
    let runs = 0;
    const action = async () => {
      runs++;
      await gate.promise;
      return { orderId: 'woken', n: 1 };
    };
    const first = a.run('wake', { q: 1 }, action, policy, null);
    await until(() => runs === 1);
    const waiting = b.run('wake', { q: 1 }, action, policy, null);
    // The waiter subscribes on its first wait (its own prefix: no other store listens on this
    // channel): release the claim only once Redis counts that subscriber.
    const probe = (await sharedRedis('wake-test:')).shared;
    await until(async () => Number(((await probe.client.pubsub('NUMSUB', 'wake-test:idem-outcome')) as [string, number])[1]) > 0);
    const released = Date.now();
    gate.resolve();
    expect(await waiting).toEqual({ value: { orderId: 'woken', n: 1 }, replayed: true });
    expect(await first).toEqual({ value: { orderId: 'woken', n: 1 }, replayed: false });
    expect(Date.now() - released).toBeLessThan(2_000);
    expect(runs).toBe(1);
  });

  it('a waiter whose deadline comes first answers stillRunning and runs nothing', async () => {
    const [a, b] = [
      new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis()).shared, leaseMs: 10_000 }),
      new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis()).shared, leaseMs: 10_000 }),
    ];
    const gate = deferred<void>();
    let runs = 0;
    const action = async () => {
      runs++;
      await gate.promise;
      return { orderId: 'slow', n: 1 };
    };
    const first = a.run('deadline', { q: 1 }, action, policy, null);
    await until(() => runs === 1);
    const started = Date.now();
    const waited = await b.run('deadline', { q: 1 }, action, policy, { caller: 't', deadline: Date.now() + 400 }).catch((e: unknown) => e);
    expect(waited).toMatchObject({ code: 'ORDER_UNCONFIRMED', message: 'still running deadline' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(runs).toBe(1);
    gate.resolve();
    await first;
  });

  it('a claim whose replica died is taken over after its lease, settling what it may have sent; the dead claimant cannot overwrite the outcome', async () => {
    const [a, b] = [
      new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis()).shared, leaseMs: 300 }),
      new RedisIdempotencyStore<Value, Pending>({ shared: (await sharedRedis()).shared, leaseMs: 300 }),
    ];
    const hung = deferred<Value>();
    const claimedAt = Date.now();
    const first = a.run('orphan', { q: 1 }, () => hung.promise, policy, null);
    await until(async () => (await redis.command('HGET', 'idem-test:idem:orphan', 'state')) === 'claimed');
    const seen: (Pending | undefined)[] = [];
    const taken = await b.run('orphan', { q: 1 }, async (p) => {
      seen.push(p);
      return { orderId: 'found-by-clientOid', n: 2 };
    }, policy, null);
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(290);
    expect(taken).toEqual({ value: { orderId: 'found-by-clientOid', n: 2 }, replayed: false });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ symbol: 'X' });
    expect(seen[0]!.sentAt).toBeGreaterThanOrEqual(claimedAt);
    // The "dead" claimant finishes late: its write is refused, the record keeps the takeover's outcome.
    hung.resolve({ orderId: 'late', n: 1 });
    await first;
    expect(await b.run('orphan', { q: 1 }, async () => ({ orderId: 'never', n: 3 }), policy, null)).toEqual({ value: { orderId: 'found-by-clientOid', n: 2 }, replayed: true });
  });

  it('Redis unreachable: runs on the replica\'s own store, settling first (policy.unseen), counts the failure, and writes the outcome back once Redis returns', async () => {
    const own = await startRedis();
    const metrics = createMetrics();
    const shared = new SharedRedis({ url: own.url, keyPrefix: 'down:', logger: pino({ level: 'silent' }), metrics });
    opened.push(shared);
    try {
      expect(await shared.ready(3_000)).toBe(true);
      const store = new RedisIdempotencyStore<Value, Pending>({ shared, leaseMs: 5_000 });
      await own.kill();
      await until(() => !shared.up);
      const seen: (Pending | undefined)[] = [];
      const action = async (p: Pending | undefined) => {
        seen.push(p);
        return { orderId: 'local', n: seen.length };
      };
      expect(await store.run('down', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'local', n: 1 }, replayed: false });
      expect(seen[0]).toMatchObject({ symbol: 'X' });
      expect(await store.run('down', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'local', n: 1 }, replayed: true });
      expect(store.localSize).toBe(1);
      const errors = await metrics.registry.getSingleMetric('gateway_redis_errors_total')?.get();
      expect(errors?.values.find((v) => v.labels.use === 'idempotency')?.value).toBeGreaterThanOrEqual(2);

      // Redis back (empty): the outcome decided alone is written back, so another replica replays it.
      expect(store.unwritten).toBe(1);
      await own.restart();
      await until(() => store.unwritten === 0);
      const otherShared = new SharedRedis({ url: own.url, keyPrefix: 'down:', logger: pino({ level: 'silent' }), metrics: createMetrics() });
      opened.push(otherShared);
      expect(await otherShared.ready(3_000)).toBe(true);
      const other = new RedisIdempotencyStore<Value, Pending>({ shared: otherShared, leaseMs: 5_000 });
      expect(await other.run('down', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'local', n: 1 }, replayed: true });
      await expect(other.run('down', { q: 2 }, action, policy, null)).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      expect(seen).toHaveLength(1);
    } finally {
      await shared.close();
      await own.stop();
    }
  });

  it('Redis restarted without its data: each replica writes back the outcomes it wrote, and claims wait for that write-back', async () => {
    const own = await startRedis();
    const opens: SharedRedis[] = [];
    const open = async () => {
      const shared = new SharedRedis({ url: own.url, keyPrefix: 'lost:', logger: pino({ level: 'silent' }), metrics: createMetrics() });
      opens.push(shared);
      expect(await shared.ready(3_000)).toBe(true);
      return shared;
    };
    try {
      const a = new RedisIdempotencyStore<Value, Pending>({ shared: await open(), leaseMs: 2_000 });
      const b = new RedisIdempotencyStore<Value, Pending>({ shared: await open(), leaseMs: 2_000 });
      const seen: (Pending | undefined)[] = [];
      const action = async (p: Pending | undefined) => {
        seen.push(p);
        return { orderId: `o-${seen.length}`, n: seen.length };
      };
      // Both have read the epoch before the loss (a claim waits for the check).
      expect(await a.run('before', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'o-1', n: 1 }, replayed: false });
      expect(await b.run('other', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'o-2', n: 2 }, replayed: false });
      expect(a.knownSize).toBe(1);

      await own.restart(); // empty: no persistence
      await until(() => opens.every((shared) => shared.up));
      // B asks for A's key at once: B saw the loss, so its claim waits for the replicas' write-back,
      // and A's outcome is replayed; nothing runs again.
      const started = Date.now();
      expect(await b.run('before', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'o-1', n: 1 }, replayed: true });
      expect(seen).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await own.command('EXISTS', 'lost:idem:before')).toBe(':1');
      // A third replica replays it too, with no run at all.
      const c = new RedisIdempotencyStore<Value, Pending>({ shared: await open(), leaseMs: 2_000 });
      expect(await c.run('before', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'o-1', n: 1 }, replayed: true });
      expect(seen).toHaveLength(2);
      // A fresh key runs once, as usual.
      expect(await b.run('fresh-after-loss', { q: 1 }, action, policy, null)).toEqual({ value: { orderId: 'o-3', n: 3 }, replayed: false });
    } finally {
      await Promise.all(opens.map((shared) => shared.close()));
      await own.stop();
    }
  });
});
