import { vi } from 'vitest';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpResponse, http, type RequestHandler } from 'msw';
import { setupServer } from 'msw/node';
import { projectRoot } from '../../src/paths.js';
import { allowLoopback } from './http-client.js';
import { TEST_CREDENTIALS } from './gateway.js';

/** The KuCoin base URL the gateway is pointed at in msw tests; nothing listens there. */
export const KUCOIN = 'https://kucoin.test';

/** A KuCoin payload from test/kucoin/fixtures (whose README gives each file's source). */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(projectRoot, 'test', 'kucoin', 'fixtures', `${name}.json`), 'utf8')) as T;
}

export interface RecordedCall {
  method: string;
  path: string;
  /** The query as sent, decoded, in order. */
  query: [string, string][];
  body: string;
  headers: Headers;
}

/**
 * msw standing in for KuCoin: every request the gateway sends is recorded, the server time and
 * the contract list answer by default, and tests add handlers for the endpoint under test.
 */
const INFRASTRUCTURE_PATHS: ReadonlySet<string> = new Set(['/api/v1/timestamp', '/api/v1/contracts/active', '/api/v1/bullet-private']);

export function mockKucoin() {
  const calls: RecordedCall[] = [];
  const defaults: RequestHandler[] = [
    http.get(`${KUCOIN}/api/v1/timestamp`, () => HttpResponse.json({ code: '200000', data: Date.now() })),
    http.get(`${KUCOIN}/api/v1/contracts/active`, () => HttpResponse.json(fixture('contracts-active'))),
  ];
  const server = setupServer(...defaults);
  server.events.on('request:start', async ({ request }) => {
    const url = new URL(request.url);
    if (url.origin !== KUCOIN) return;
    calls.push({
      method: request.method,
      path: url.pathname,
      query: [...url.searchParams.entries()],
      body: await request.clone().text(),
      headers: request.headers,
    });
  });
  return {
    server,
    calls,
    /**
     * Calls other than the server-time and contract-list reads and the KuCoin stream's token
     * requests: a stream some earlier request or socket started retries its token with backoff,
     * at any moment, against this mock; none of those is the doing of the request under test.
     */
    businessCalls: () => calls.filter((c) => !INFRASTRUCTURE_PATHS.has(c.path)),
    listen: () => server.listen({ onUnhandledRequest: allowLoopback }),
    reset: () => {
      server.resetHandlers(...defaults);
      calls.length = 0;
    },
    close: () => server.close(),
  };
}

export const json = (data: unknown) => HttpResponse.json({ code: '200000', data });

/** Checks a recorded call's KC-API-* headers with an HMAC written here, not the gateway's signer. */
export function expectSignedByKucoinRules(call: RecordedCall): void {
  const secret = TEST_CREDENTIALS.KUCOIN_FUTURES_SECRET;
  const ts = call.headers.get('kc-api-timestamp') ?? '';
  const query = call.query.map(([k, v]) => `${k}=${v}`).join('&');
  const prehash = `${ts}${call.method}${call.path}${query ? `?${query}` : ''}${call.body}`;
  const expected = {
    sign: createHmac('sha256', secret).update(prehash).digest('base64'),
    passphrase: createHmac('sha256', secret).update(TEST_CREDENTIALS.KUCOIN_FUTURES_PASSPHRASE).digest('base64'),
  };
  const got = {
    sign: call.headers.get('kc-api-sign'),
    passphrase: call.headers.get('kc-api-passphrase'),
  };
  if (got.sign !== expected.sign || got.passphrase !== expected.passphrase) {
    throw new Error(`bad KuCoin signature for ${call.method} ${call.path}: ${JSON.stringify({ prehash, got, expected })}`);
  }
  if (call.headers.get('kc-api-key') !== TEST_CREDENTIALS.KUCOIN_FUTURES_KEY) throw new Error('wrong KC-API-KEY');
  if (call.headers.get('kc-api-key-version') !== '3') throw new Error('wrong KC-API-KEY-VERSION');
  if (Math.abs(Number(ts) - Date.now()) > 10_000) throw new Error(`timestamp ${ts} is far from now`);
}

/**
 * msw prints an error for every KuCoin call it has no handler for. Suites that expect such calls
 * (and check them through `businessCalls()`) silence those lines; everything else still prints.
 */
export function silenceUnhandledKucoinCalls(): void {
  const print = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[MSW]')) return;
    print(...args);
  });
}
