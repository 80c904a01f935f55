/**
 * gateway_http_requests_total and gateway_http_request_duration_seconds are tallied by the gateway
 * and handed to prom-client when scraped (src/observability/metrics.ts, HttpTallies). The scrape
 * must read exactly as prom-client's own inc/observe per request would have made it: names, help,
 * types, labels and their order, buckets, values, series order.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { startGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';

/** prom-client used as the gateway used it before: one inc and one observe per request. */
function reference() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered, by method, route template (or "unmatched") and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Time from request start to response finish, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    record: (method: string, route: string, status: number, seconds: number) => {
      requests.inc({ method, route, status: String(status) });
      durations.observe({ method, route }, seconds);
    },
  };
}

const NAMES = ['gateway_http_requests_total', 'gateway_http_request_duration_seconds'];

async function exposition(registry: Registry): Promise<string> {
  const parts = await Promise.all(NAMES.map((name) => registry.getSingleMetricAsString(name)));
  return parts.join('\n');
}

/** A fixed pseudo-random sequence: routes, methods and statuses interleaved, durations across every bucket, on the bounds and above the top one. */
function sequence(count: number): [string, string, number, number][] {
  const routes = ['/api/health', 'unmatched', '/api/futures/orders', '/api/futures/positions/{symbol}', '/metrics'];
  const methods = ['GET', 'POST', 'HEAD', 'DELETE'];
  const statuses = [200, 404, 401, 429, 400, 500, 201];
  const durations = [0.0004, 0.001, 0.0025, 0.0031, 0.005, 0.0099, 0.01, 0.024, 0.07, 0.1, 0.3, 0.5, 0.9, 1, 2.4, 5, 7.7, 10, 12.5, 0];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
  const out: [string, string, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const duration = next(3) === 0 ? (durations[next(durations.length)] as number) : next(100000) / 1e6 + next(3) * 0.013;
    out.push([methods[next(methods.length)] as string, routes[next(routes.length)] as string, statuses[next(statuses.length)] as number, duration]);
  }
  return out;
}

describe('HTTP request metrics tallied by the gateway', () => {
  it('scrape the same text as prom-client fed one call per request, before, between and after records', async () => {
    const ours = createMetrics();
    const theirs = reference();
    // Nothing recorded: both families show their HELP and TYPE only.
    expect(await exposition(ours.registry)).toBe(await exposition(theirs.registry));
    const events = sequence(3000);
    for (const [index, [method, route, status, seconds]] of events.entries()) {
      ours.recordHttp(method, route, status, seconds);
      theirs.record(method, route, status, seconds);
      if (index === 0 || index === 1 || index === 500) expect(await exposition(ours.registry)).toBe(await exposition(theirs.registry));
    }
    const text = await exposition(ours.registry);
    expect(text).toBe(await exposition(theirs.registry));
    // A second scrape with nothing new reads the same (the tallies are not consumed by a read).
    expect(await exposition(ours.registry)).toBe(text);
    // The sequence exercised what it should: many series, +Inf above the top bucket, a non-integer sum.
    expect(text.match(/^gateway_http_requests_total\{/gm)?.length).toBeGreaterThan(50);
    expect(text).toMatch(/^gateway_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/health"\} \d+$/m);
    expect(text).toMatch(/^gateway_http_request_duration_seconds_sum\{method="POST",route="unmatched"\} \d+\.\d+$/m);
    // The JSON reading (getMetricsAsJSON) agrees too.
    const json = async (registry: Registry) => (await registry.getMetricsAsJSON()).filter((metric) => NAMES.includes(metric.name));
    expect(await json(ours.registry)).toEqual(await json(theirs.registry));
  });

  it('a gateway counts each answered request once, by route template and status', async () => {
    const running = await startGateway({ FEATURE_FUTURES: 'true' });
    try {
      await request(running.baseUrl, 'GET', '/api/health');
      await request(running.baseUrl, 'GET', '/api/health');
      await request(running.baseUrl, 'GET', '/api/no-such-route');
      const metrics = await request(running.baseUrl, 'GET', '/metrics');
      expect(metrics.text).toMatch(/^gateway_http_requests_total\{method="GET",route="\/api\/health",status="200"\} 2$/m);
      expect(metrics.text).toMatch(/^gateway_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
      expect(metrics.text).toMatch(/^gateway_http_request_duration_seconds_count\{method="GET",route="\/api\/health"\} 2$/m);
      expect(metrics.text).toMatch(/^gateway_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="unmatched"\} 1$/m);
    } finally {
      await running.stop();
    }
  });
});
