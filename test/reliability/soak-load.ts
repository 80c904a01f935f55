/**
 * The soak's load and sampling, shared by the short soak in `npm test` (soak.test.ts) and the long
 * one (scripts/bench/soak.ts): steady mixed load against the simulator and the built gateway, the
 * gateway's own /metrics sampled over time.
 *
 * Load: readers (positions, open orders, account, contracts, a funding rate, health), traders
 * (a resting LIMIT order with an Idempotency-Key, now and then the same request again, which must
 * be a replay, then a cancel) and WS churners (connect, snapshots, ping/pong, disconnect), plus one
 * anchor /ws/futures client connected throughout, so the gateway's one upstream KuCoin WebSocket
 * stays open (it closes 30 s after the last client leaves, which would move fds and handles).
 * Every HTTP answer is checked against openapi.yaml and every WS message against asyncapi.yaml;
 * anything but the expected status is a failure.
 *
 * "Flat", as both runs define it:
 * - fds and handles: `gateway_process_open_fds` and `gateway_nodejs_active_handles_total` once the
 *   gateway is idle (no request for a while, so keep-alive sockets have timed out: the server's
 *   5 s, undici's 4 s) before the load (after a warm-up) and after it are within a small margin:
 *   no socket, timer or watcher left behind by thousands of requests and hundreds of WS sessions.
 * - heap: the gateway runs with --expose-gc and a SIGUSR2 hook (GC_PRELOAD, scripts/bench/forced-gc.ts) that runs a
 *   full GC, so each heap sample is taken right after a forced collection: live objects only, not
 *   whatever garbage the last young-generation GC left. Growth is the lowest such sample of the
 *   last third of the measured run minus the lowest of the first third (minima, so one sample
 *   taken mid-request cannot decide it). RSS is reported, not judged (the allocator keeps pages).
 */
import { request, type HttpResponse } from '../support/http-client.js';
import { connectFeedClient, type FeedClient } from '../ws/ws-client.js';
import { forceGc, GC_PRELOAD } from '../../scripts/bench/forced-gc.js';
import { metricSum, sleep, type Stack, type StackOptions } from './stack.js';

export const SOAK_STACK: StackOptions = { gatewayNodeArgs: GC_PRELOAD };

export const SOAK_SYMBOL = 'ETHUSDTM';
const MARK = 3_000;
const PRICE = 2_950;

export interface SoakOptions {
  /** Load before the baseline, not measured. */
  warmupMs: number;
  /** Measured load. */
  durationMs: number;
  sampleEveryMs: number;
  readers?: number;
  traders?: number;
  churners?: number;
  /** Pause between one client's requests. */
  pauseMs?: number;
  /** Called with each sample as it is taken (the bench prints progress). */
  onSample?: (sample: Sample) => void;
}

export interface Sample {
  /** ms since the measured load started. */
  t: number;
  heapUsed: number;
  rss: number;
  fds: number;
  handles: number;
  requests: number;
}

export interface Idle {
  fds: number;
  handles: number;
  heapUsed: number;
  rss: number;
}

export interface SoakResult {
  requests: number;
  failures: number;
  /** The first few failures, for the message. */
  failureSamples: string[];
  /** status → count, over the measured run. */
  statuses: Record<string, number>;
  orders: number;
  replays: number;
  wsSessions: number;
  wsMessages: number;
  samples: Sample[];
  baseline: Idle;
  after: Idle;
  /** Highest fds and handles seen under load (shows the load did open sockets). */
  peak: { fds: number; handles: number };
  measuredMs: number;
}

class Counters {
  requests = 0;
  failures = 0;
  failureSamples: string[] = [];
  statuses: Record<string, number> = {};
  orders = 0;
  replays = 0;
  wsSessions = 0;
  wsMessages = 0;

  fail(what: string): void {
    this.failures += 1;
    if (this.failureSamples.length < 20) this.failureSamples.push(what);
  }
}

/** Runs the load and the sampling; the stack must have been started with SOAK_STACK. */
export async function runSoak(stack: Stack, options: SoakOptions): Promise<SoakResult> {
  const { gateway } = stack;
  const readers = options.readers ?? 4;
  const traders = options.traders ?? 2;
  const churners = options.churners ?? 2;
  const pauseMs = options.pauseMs ?? 40;
  await stack.simControl('POST', '/sim/mark', { symbol: SOAK_SYMBOL, price: MARK, hold: true });

  let counters = new Counters();
  let running = true;
  let oid = 0;

  const call = async (method: string, path: string, expected: number, init?: Parameters<typeof request>[3]): Promise<HttpResponse | undefined> => {
    counters.requests += 1;
    try {
      const res = await request(gateway.baseUrl, method, path, init);
      counters.statuses[res.status] = (counters.statuses[res.status] ?? 0) + 1;
      if (res.status !== expected) counters.fail(`${method} ${path}: ${res.status} ${res.text.slice(0, 300)}`);
      return res;
    } catch (error) {
      counters.fail(`${method} ${path}: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
      return undefined;
    }
  };

  const reads = ['/api/futures/positions', `/api/futures/orders?symbol=${SOAK_SYMBOL}`, '/api/futures/account', '/api/futures/contracts', '/api/futures/funding/XBTUSDTM', '/api/health'];
  const reader = async (offset: number) => {
    for (let i = offset; running; i++) {
      await call('GET', reads[i % reads.length]!, 200);
      await sleep(pauseMs);
    }
  };
  const trader = async (id: number) => {
    while (running) {
      const key = `soak-${id}-${++oid}`;
      const init = { json: { symbol: SOAK_SYMBOL, side: 'BUY', type: 'LIMIT', qty: 1, price: PRICE, leverage: 5, marginMode: 'isolated' }, headers: { 'idempotency-key': key } };
      const placed = await call('POST', '/api/futures/orders', 201, init);
      if (placed?.status === 201) {
        counters.orders += 1;
        if (oid % 10 === 0) {
          const again = await call('POST', '/api/futures/orders', 201, init);
          if (again?.status === 201) {
            counters.replays += 1;
            if (again.body.data.orderId !== placed.body.data.orderId || again.body.data.replayed !== true) counters.fail(`replay of ${key} was not the first answer: ${again.text}`);
          }
        }
        await call('DELETE', `/api/futures/orders/${placed.body.data.orderId}`, 200);
      }
      await sleep(pauseMs * 2);
    }
  };
  const churner = async () => {
    while (running) {
      counters.requests += 1;
      let client: FeedClient | undefined;
      try {
        client = await connectFeedClient(`${gateway.wsUrl}/ws/futures`);
        await client.waitFor((m) => m.type === 'order_update' && m.snapshot === true, 10_000);
        client.send({ type: 'ping', id: 'soak' });
        await client.waitFor((m) => m.type === 'pong', 5_000);
        counters.wsMessages += client.messages.length;
        await client.close(); // throws on a contract or seq violation
        client = undefined;
        counters.wsSessions += 1;
      } catch (error) {
        counters.fail(`ws session: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
        client?.ws.terminate();
      }
      await sleep(pauseMs * 10);
    }
  };

  const idle = async (): Promise<Idle> => {
    // Keep-alive sockets (the gateway's 5 s, undici's 4 s, both ways) must time out first; then
    // wait for two equal readings in a row.
    await sleep(6_000);
    let last: Idle | undefined;
    for (let i = 0; i < 20; i++) {
      const now = await sample();
      const reading = { fds: now.fds, handles: now.handles, heapUsed: now.heapUsed, rss: now.rss };
      if (last && last.fds === reading.fds && last.handles === reading.handles) return reading;
      last = reading;
      await sleep(1_000);
    }
    return last!;
  };

  let started = 0;
  const sample = async (): Promise<Sample> => {
    await forceGc(gateway); // so the heap reading holds live objects only
    const metrics = await stack.metrics();
    return {
      t: started === 0 ? 0 : Date.now() - started,
      heapUsed: metricSum(metrics, 'gateway_nodejs_heap_size_used_bytes'),
      rss: metricSum(metrics, 'gateway_process_resident_memory_bytes'),
      fds: metricSum(metrics, 'gateway_process_open_fds'),
      handles: metricSum(metrics, 'gateway_nodejs_active_handles_total'),
      requests: counters.requests,
    };
  };

  const anchor = await connectFeedClient(`${gateway.wsUrl}/ws/futures`);
  const loops: Promise<void>[] = [];
  try {
    await anchor.waitFor((m) => m.type === 'order_update' && m.snapshot === true, 15_000);
    const startLoad = () => {
      running = true;
      loops.push(...Array.from({ length: readers }, (_, i) => reader(i)), ...Array.from({ length: traders }, (_, i) => trader(i)), ...Array.from({ length: churners }, () => churner()));
    };
    const stopLoad = async () => {
      running = false;
      await Promise.all(loops.splice(0));
    };

    // Warm-up: JIT, caches, pools; then the idle baseline.
    startLoad();
    await sleep(options.warmupMs);
    await stopLoad();
    const warmupFailures = counters;
    const baseline = await idle();

    counters = new Counters();
    counters.failures = warmupFailures.failures;
    counters.failureSamples = warmupFailures.failureSamples;
    started = Date.now();
    startLoad();
    const samples: Sample[] = [];
    const peak = { fds: 0, handles: 0 };
    while (Date.now() - started < options.durationMs) {
      await sleep(Math.min(options.sampleEveryMs, Math.max(0, options.durationMs - (Date.now() - started))));
      const s = await sample();
      samples.push(s);
      peak.fds = Math.max(peak.fds, s.fds);
      peak.handles = Math.max(peak.handles, s.handles);
      options.onSample?.(s);
    }
    await stopLoad();
    const measuredMs = Date.now() - started;
    const after = await idle();
    return {
      requests: counters.requests,
      failures: counters.failures,
      failureSamples: counters.failureSamples,
      statuses: counters.statuses,
      orders: counters.orders,
      replays: counters.replays,
      wsSessions: counters.wsSessions,
      wsMessages: counters.wsMessages,
      samples,
      baseline,
      after,
      peak,
      measuredMs,
    };
  } finally {
    running = false;
    await Promise.all(loops);
    await anchor.close();
  }
}

/** Post-GC heap growth: the lowest sample of the last third minus the lowest of the first third. */
export function heapGrowth(samples: Sample[]): { first: number; last: number; growth: number } {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const min = (list: Sample[]) => Math.min(...list.map((s) => s.heapUsed));
  const first = min(samples.slice(0, third));
  const last = min(samples.slice(-third));
  return { first, last, growth: last - first };
}

/**
 * Slope of `pick` over time, per minute, by Theil–Sen (the median of the slopes between every pair
 * of samples): one odd sample (a forced GC that landed mid-burst) cannot tilt it, as it would a
 * least-squares line. 0 with fewer than two samples.
 */
export function slopePerMinute(samples: Sample[], pick: (s: Sample) => number): number {
  const slopes: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const a = samples[i]!;
      const b = samples[j]!;
      if (b.t !== a.t) slopes.push((pick(b) - pick(a)) / (b.t - a.t));
    }
  }
  if (slopes.length === 0) return 0;
  slopes.sort((x, y) => x - y);
  const mid = Math.floor(slopes.length / 2);
  const median = slopes.length % 2 === 1 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
  return median * 60_000;
}
