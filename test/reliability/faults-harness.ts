/**
 * The run the fault tests share (test/reliability/faults.test.ts): the simulator and the built
 * gateway, readers, traders and /ws/futures listeners driven through one phase per fault, what
 * they saw, and the recovery after each phase. A test file calls `useFaultRun()` once for the hooks.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { request, type HttpResponse } from '../support/http-client.js';
import { connectFeedClient, type FeedClient } from '../ws/ws-client.js';
import { sleep, startStack, type Stack } from './stack.js';

export const TIMEOUT_MS = 300;
/** Injected latency: well past UPSTREAM_TIMEOUT_MS. */
export const LATENCY_MS = 700;
/** How long the clients run with each phase's faults in place. */
export const PHASE_MS = 1_500;
export const RECOVERY_DEADLINE_MS = 30_000;
/** The breaker's open time (UPSTREAM_BREAKER_OPEN_MS): short, so recovering from each outage phase is quick. */
export const BREAKER_OPEN_MS = 2_000;
/** The upstream WebSocket's reconnect backoff is a random delay below a ceiling doubling from 0.5 s to 30 s. */
export const WS_RECOVERY_DEADLINE_MS = 45_000;
export const SYMBOL = 'ETHUSDTM';
export const MARK = 3_000;
/** Resting, well inside the ±5 % band, never crossed: the mark is held. */
export const ORDER_PRICE = 2_950;
export const MANY = 100_000;

/** The typed answers a client may get while KuCoin misbehaves, with the status each code has. */
export const TYPED: Record<string, number> = {
  UPSTREAM_RATE_LIMITED: 429,
  UPSTREAM_ERROR: 502,
  UPSTREAM_BAD_RESPONSE: 502,
  ORDER_UNCONFIRMED: 502,
  // a cancel whose answer was lost and whose order, read back, is still open (or unreadable)
  CANCEL_UNCONFIRMED: 502,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  // a cancel whose first attempt went through although its answer did not
  ORDER_NOT_CANCELABLE: 409,
  ORDER_NOT_FOUND: 404,
};

export let stack: Stack;
export let healthLoop: Promise<void> | undefined;
export let stopHealth = false;
export let exited = false;
export const healthFailures: string[] = [];
export const listeners: FeedClient[] = [];

/** Everything the clients saw, for the assertions. */
export const answers: { phase: string; op: string; status: number; code?: string }[] = [];
export const failures: string[] = [];
/** clientOid → final state as the traders know it. */
export const sent = new Map<string, { body: Record<string, unknown>; byHeader: boolean; orderId?: string; uncertain: boolean }>();
export let oidSeq = 0;

export function record(phase: string, op: string, res: HttpResponse): void {
  const code = typeof res.body === 'object' && res.body !== null ? (res.body.code as string | undefined) : undefined;
  answers.push({ phase, op, status: res.status, ...(code === undefined ? {} : { code }) });
  if (res.status < 400) return;
  if (res.status === 500) failures.push(`${phase} ${op}: 500 ${res.text}`);
  else if (code === undefined || TYPED[code] !== res.status) failures.push(`${phase} ${op}: untyped ${res.status} ${res.text}`);
  else if ((res.status === 429 || res.status === 503) && !(Number(res.headers.get('retry-after')) >= 1)) failures.push(`${phase} ${op}: ${res.status} without Retry-After`);
}

export async function call(phase: string, op: string, method: string, path: string, init?: Parameters<typeof request>[3]): Promise<HttpResponse | undefined> {
  try {
    const res = await request(stack.gateway.baseUrl, method, path, init);
    record(phase, op, res);
    return res;
  } catch (error) {
    // A contract violation or a connection the gateway dropped.
    failures.push(`${phase} ${op}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

export const READS = ['/api/futures/positions', `/api/futures/orders?symbol=${SYMBOL}`, '/api/futures/account', '/api/futures/orders'];

export async function reader(phase: string, until: number, offset: number): Promise<void> {
  for (let i = offset; Date.now() < until; i++) {
    const path = READS[i % READS.length]!;
    await call(phase, `GET ${path}`, 'GET', path);
    await sleep(25);
  }
}

/** Places an order with a fresh key (body clientOid or Idempotency-Key, alternately) and cancels it when placed. */
export async function placeOne(phase: string): Promise<void> {
  const clientOid = `flt-${phase}-${++oidSeq}`;
  const byHeader = oidSeq % 2 === 0;
  const body: Record<string, unknown> = { symbol: SYMBOL, side: 'BUY', type: 'LIMIT', qty: 1, price: ORDER_PRICE, leverage: 5, marginMode: 'isolated', ...(byHeader ? {} : { clientOid }) };
  const entry: { body: Record<string, unknown>; byHeader: boolean; orderId?: string; uncertain: boolean } = { body, byHeader, uncertain: true };
  sent.set(clientOid, entry);
  const res = await call(phase, 'POST /api/futures/orders', 'POST', '/api/futures/orders', { json: body, headers: byHeader ? { 'idempotency-key': clientOid } : {} });
  if (res?.status !== 201) return; // outcome unknown or refused before sending: retried after recovery
  expect(res.body.data.clientOid).toBe(clientOid);
  entry.orderId = res.body.data.orderId;
  entry.uncertain = false;
  await call(phase, 'DELETE /api/futures/orders/{id}', 'DELETE', `/api/futures/orders/${entry.orderId}`);
}

export async function trader(phase: string, until: number): Promise<void> {
  while (Date.now() < until) {
    await placeOne(phase);
    await sleep(50);
  }
}

/** Three readers and two traders until `ms` have passed. */
export async function runClients(phase: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  await Promise.all([reader(phase, until, 0), reader(phase, until, 1), reader(phase, until, 2), trader(phase, until), trader(phase, until)]);
}

/**
 * One fault phase: the clients run PHASE_MS with `rules` injected, then the rules are cleared (and
 * `settleMs` waited) and the clients must recover. Returns how often each rule fired.
 */
export async function faultPhase(phase: string, rules: object[], settleMs = 0): Promise<number[]> {
  const faults = await inject(rules);
  await runClients(phase, PHASE_MS);
  const fired = await faults.fired();
  await stack.simControl('DELETE', '/sim/faults');
  if (settleMs > 0) await sleep(settleMs);
  await recover(phase);
  return fired;
}

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Adds the rules, each with a large `times` so `fired` can tell how often each one acted. */
export async function inject(rules: object[]): Promise<{ fired(): Promise<number[]> }> {
  const { added } = await stack.simControl('POST', '/sim/faults', rules.map((rule) => ({ times: MANY, ...rule })));
  const ids = (added as { id: number }[]).map((rule) => rule.id);
  return {
    async fired() {
      const { faults } = await stack.simControl('GET', '/sim/faults');
      return ids.map((id) => MANY - ((faults as { id: number; times: number }[]).find((f) => f.id === id)?.times ?? 0));
    },
  };
}

/** Polls until the reads succeed, then re-sends the unknown orders (each group's breaker may hold calls back for BREAKER_OPEN_MS). */
export async function recover(phase: string): Promise<void> {
  const deadline = Date.now() + RECOVERY_DEADLINE_MS;
  // Every read, not one: the position list may come from the live stream while KuCoin's pool is
  // still closed for the others (a 429000 closes it until its reset).
  for (;;) {
    const answers = [];
    for (const path of READS) answers.push(await call(`${phase}/recovery`, `GET ${path}`, 'GET', path));
    const failed = answers.find((res) => res?.status !== 200);
    if (failed === undefined) break;
    if (Date.now() > deadline) throw new Error(`${phase}: reads did not recover within ${RECOVERY_DEADLINE_MS} ms (last ${failed?.status} ${failed?.text})`);
    await sleep(250);
  }
  // Before anything is sent again: an order whose outcome was unknown is absent or there once.
  const counts = new Map<string, number>();
  const held = (await stack.simControl('GET', '/sim/state')).orders;
  for (const order of [...held.active, ...held.done] as { clientOid: string }[]) {
    counts.set(order.clientOid, (counts.get(order.clientOid) ?? 0) + 1);
  }
  const uncertain = [...sent].filter(([, entry]) => entry.uncertain).map(([clientOid]) => clientOid);
  expect(uncertain.filter((clientOid) => (counts.get(clientOid) ?? 0) > 1)).toEqual([]);
  // The same request with the same key: after ORDER_UNCONFIRMED the gateway reconciles it first.
  for (const [clientOid, entry] of sent) {
    if (!entry.uncertain) continue;
    // The order writes have their own breaker: the reads recovering does not mean it has closed.
    // While it is open the order is not sent (503), so sending it again with the same key is safe.
    let res: HttpResponse | undefined;
    for (;;) {
      res = await call(`${phase}/after`, 'POST /api/futures/orders (same key)', 'POST', '/api/futures/orders', {
        json: entry.body,
        headers: entry.byHeader ? { 'idempotency-key': clientOid } : {},
      });
      // ORDER_UNCONFIRMED again: the gateway reconciled first and found nothing yet (a POST of the
      // first try may still show); it places the order only once finding nothing is conclusive.
      const pending = res?.status === 502 && res.body?.code === 'ORDER_UNCONFIRMED';
      if (!((res?.status === 503 && /circuit breaker/.test(res.text)) || pending) || Date.now() > deadline) break;
      await sleep(250);
    }
    expect(res?.status, `${clientOid}: ${res?.text}`).toBe(201);
    expect(res!.body.data.clientOid).toBe(clientOid);
    entry.orderId = res!.body.data.orderId;
    entry.uncertain = false;
  }
  // Cancel whatever rests, so the 100-open-orders rule never bites a later phase.
  const state = await stack.simControl('GET', '/sim/state');
  for (const order of state.orders.active as { id: string }[]) {
    expect((await call(`${phase}/after`, 'DELETE /api/futures/orders/{id}', 'DELETE', `/api/futures/orders/${order.id}`))?.status).toBe(200);
  }
  // A new listener gets its greeting and snapshots.
  const fresh = await connectFeedClient(`${stack.gateway.wsUrl}/ws/futures`);
  await fresh.waitFor((m) => m.type === 'position_update' && m.snapshot === true, 15_000);
  await fresh.waitFor((m) => m.type === 'order_update' && m.snapshot === true, 15_000);
  await fresh.close();
}

/** Every listener, from what it has not read yet: down (the drop), then up and fresh snapshots. */
export async function listenersRecovered(timeoutMs: number): Promise<void> {
  await Promise.all(
    listeners.map(async (client) => {
      await client.waitFor((m) => m.type === 'upstream_status' && m.status === 'down', timeoutMs);
      await client.waitFor((m) => m.type === 'upstream_status' && m.status === 'up', timeoutMs);
      await client.waitFor((m) => m.type === 'position_update' && m.snapshot === true, timeoutMs);
      await client.waitFor((m) => m.type === 'order_update' && m.snapshot === true, timeoutMs);
    }),
  );
}

/** Drops what the listeners have received so far, so the next checks look at this phase only. */
export async function skipPending(): Promise<void> {
  for (const client of listeners) await client.take(client.pending().length);
}

export function summary(phase: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers.filter((x) => x.phase.startsWith(phase))) {
    const key = `${a.phase} ${a.op.split(' ')[0]} ${a.status} ${a.code ?? ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export function phaseAnswers(phase: string) {
  return answers.filter((a) => a.phase === phase);
}

export function expectClean(phase: string): void {
  // FAULTS_DEBUG=1 prints what the clients got in each phase, by status and code.
  if (process.env.FAULTS_DEBUG) console.log(phase, JSON.stringify(summary(phase)));
  expect(failures.filter((f) => f.startsWith(phase))).toEqual([]);
  expect(healthFailures).toEqual([]);
  expect(exited).toBe(false);
}

/**
 * The hooks of the fault run: the stack up with the mark held, a health poller, three listeners
 * with their snapshots and a clean warm-up round before the phases; everything stopped after.
 */
export function useFaultRun(): void {
  beforeAll(async () => {
    stack = await startStack({ gatewayEnv: { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), UPSTREAM_BREAKER_OPEN_MS: String(BREAKER_OPEN_MS) } });
    void stack.gateway.exited.then(() => (exited = true));
    await stack.simControl('POST', '/sim/mark', { symbol: SYMBOL, price: MARK, hold: true });
    healthLoop = (async () => {
      while (!stopHealth) {
        try {
          const res = await request(stack.gateway.baseUrl, 'GET', '/api/health');
          if (res.status !== 200) healthFailures.push(`health ${res.status}`);
        } catch (error) {
          healthFailures.push(`health: ${error instanceof Error ? error.message : String(error)}`);
        }
        await sleep(100);
      }
    })();
    for (let i = 0; i < 3; i++) listeners.push(await connectFeedClient(`${stack.gateway.wsUrl}/ws/futures`));
    for (const client of listeners) await client.waitFor((m) => m.type === 'order_update' && m.snapshot === true, 10_000);
    // A healthy round first: the typed-answer rules hold without faults too.
    await runClients('warm-up', 500);
    expectClean('warm-up');
  }, 30_000);

  afterAll(async () => {
    stopHealth = true;
    await healthLoop;
    try {
      for (const client of listeners) await client.close(); // throws on any contract or seq violation seen
    } finally {
      await stack?.stop();
    }
  }, 30_000);
}
