/**
 * UPSTREAM_BREAKER_FAILURES and UPSTREAM_BREAKER_OPEN_MS reach the gateway's KuCoin client: a
 * group's breaker (here the account reads') opens after that many outage failures in a row, answers 503 with a Retry-After of that
 * many seconds without calling KuCoin, and tries again once the time is up.
 */
import { HttpResponse, http } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { startGateway, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, json, mockKucoin } from '../support/kucoin-mock.js';

const kucoin = mockKucoin();
let running: RunningGateway;
const OPEN_MS = 1_500;

beforeAll(async () => {
  kucoin.listen();
  running = await startGateway({
    FEATURE_FUTURES: 'true',
    FUTURES_BASE_URL: KUCOIN,
    READS_FROM_STREAM: 'false',
    UPSTREAM_BREAKER_FAILURES: '2',
    UPSTREAM_BREAKER_OPEN_MS: String(OPEN_MS),
    ...TEST_CREDENTIALS,
  });
});
afterAll(async () => {
  await running.stop();
  kucoin.close();
});

const positionCalls = () => kucoin.calls.filter((c) => c.path === '/api/v1/positions').length;

describe('the circuit breaker follows its settings', () => {
  it('opens after UPSTREAM_BREAKER_FAILURES failures and stays open UPSTREAM_BREAKER_OPEN_MS', async () => {
    let healthy = false;
    kucoin.server.use(http.get(`${KUCOIN}/api/v1/positions`, () => (healthy ? json([]) : HttpResponse.json({ code: '500000', msg: 'down' }, { status: 500 }))));

    // A read is tried up to 3 times: the first two fail and open the breaker, the third is not
    // sent; the read answers KuCoin's own failure, which it did reach.
    const first = await request(running.baseUrl, 'GET', '/api/futures/positions');
    expect(first.status).toBe(502);
    expect(first.body).toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(positionCalls()).toBe(2);

    // The next read sends nothing while the breaker is open.
    const held = await request(running.baseUrl, 'GET', '/api/futures/positions');
    expect(held.status).toBe(503);
    expect(held.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(held.headers.get('retry-after')).toBe('2'); // OPEN_MS rounded up to whole seconds
    expect(positionCalls()).toBe(2);

    healthy = true;
    await new Promise((r) => setTimeout(r, OPEN_MS + 100));
    const after = await request(running.baseUrl, 'GET', '/api/futures/positions');
    expect(after.status).toBe(200);
    expect(positionCalls()).toBe(3);
  });
});
