/**
 * Soak, the short version (issue 6; the long one is scripts/bench/soak.ts, same load and sampling:
 * soak-load.ts): about 30 s of steady mixed load (reads, orders with replays and cancels, WS
 * clients connecting and leaving) against the simulator and the built gateway. Not one failed
 * request, no 5xx; fds and active handles back to the idle baseline once the load stops; the
 * post-GC heap bounded. What "flat" means, and why it is measured so, is in soak-load.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heapGrowth, runSoak, SOAK_STACK, type SoakResult } from './soak-load.js';
import { bugLines, metricSum, sleep, startStack, type Stack } from './stack.js';

/** Leeway for fds and handles between the idle readings (a pipe or timer that comes and goes). */
const FD_MARGIN = 3;
const HANDLE_MARGIN = 3;
/**
 * Post-GC heap growth allowed between the first and last third of the run. Part of the growth is by
 * design: the idempotency store keeps every order's answer (24 h, at most 10 000 keys), a few
 * hundred bytes each, and about 1 000 orders are placed here; a leak per request or per WS session
 * (thousands of each) would pass this.
 */
const HEAP_GROWTH_LIMIT = 6 * 1024 * 1024;

let stack: Stack;
let result: SoakResult;

beforeAll(async () => {
  stack = await startStack(SOAK_STACK);
}, 30_000);
afterAll(async () => {
  await stack?.stop();
}, 30_000);

describe('soak (short)', () => {
  it('runs steady mixed load without a failure, a 5xx or a leak', async () => {
    result = await runSoak(stack, { warmupMs: 3_000, durationMs: 27_000, sampleEveryMs: 2_000 });
    const heap = heapGrowth(result.samples);
    const summary = {
      requests: result.requests,
      orders: result.orders,
      replays: result.replays,
      wsSessions: result.wsSessions,
      statuses: result.statuses,
      baseline: result.baseline,
      after: result.after,
      peak: result.peak,
      heapMb: { first: heap.first / 2 ** 20, last: heap.last / 2 ** 20, growth: heap.growth / 2 ** 20 },
    };
    if (process.env.SOAK_DEBUG) console.log(JSON.stringify(summary, null, 2));

    // It was load: requests, orders and WS sessions all happened, and sockets were opened.
    expect(result.requests).toBeGreaterThan(500);
    expect(result.orders).toBeGreaterThan(50);
    expect(result.replays).toBeGreaterThan(0);
    expect(result.wsSessions).toBeGreaterThan(10);
    expect(result.samples.length).toBeGreaterThanOrEqual(6);

    expect(result.failureSamples).toEqual([]);
    expect(result.failures).toBe(0);
    expect(Object.keys(result.statuses).filter((s) => Number(s) >= 500)).toEqual([]);

    expect(result.after.fds, JSON.stringify(summary)).toBeLessThanOrEqual(result.baseline.fds + FD_MARGIN);
    expect(result.after.handles, JSON.stringify(summary)).toBeLessThanOrEqual(result.baseline.handles + HANDLE_MARGIN);
    expect(heap.growth, JSON.stringify(summary)).toBeLessThanOrEqual(HEAP_GROWTH_LIMIT);

    // And by the gateway's own count: no 5xx answered.
    const metrics = await stack.metrics();
    const fiveXx = [...metrics.keys()].filter((k) => k.startsWith('gateway_http_requests_total{') && /status="5\d\d"/.test(k));
    expect(fiveXx).toEqual([]);
    // Every WS client is gone, the held one too (closed as the run ended: the gateway may see its
    // close a moment after the client does, so this is polled).
    let wsClients = metricSum(metrics, 'gateway_ws_clients');
    for (let i = 0; i < 50 && wsClients !== 0; i++) {
      await sleep(100);
      wsClients = metricSum(await stack.metrics(), 'gateway_ws_clients');
    }
    expect(wsClients).toBe(0);
    expect(bugLines(stack.gateway)).toEqual([]);
  }, 90_000);
});
