/** §1 authentication and §2 rate limits of the simulator, with raw requests (no gateway client). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacBase64 } from '../../src/kucoin/signer.js';
import { loadSimConfig, type SimConfig } from '../../src/simulator/config.js';
import { expectedSign, verifySignedRequest, type SimCredentials } from '../../src/simulator/rest/auth.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';

const SECRET_1 = 'f03a5284-5c39-4aaa-9b20-dea10bdcf8e3';
const TS = '1547015186532';

describe('the verifier against the kucoin-futures.md §1 test vectors', () => {
  const creds: SimCredentials = { key: 'k', secret: SECRET_1, passphrase: 'Abc123456', keyVersion: '3' };
  const headers = (sign: string) => ({
    'kc-api-key': 'k',
    'kc-api-sign': sign,
    'kc-api-timestamp': TS,
    // Vector #7: the v2/v3 passphrase header.
    'kc-api-passphrase': 'BKrtDi9RgDYbLigltBjNLvwvVf6/iCxWK6slmjr8DF8=',
    'kc-api-key-version': '3',
  });
  const vectors: [string, { method: string; rawUrl: string; body: string; sign: string }][] = [
    ['#1 spot docs (published)', { method: 'POST', rawUrl: '/api/v1/deposit-addresses', body: '{"currency":"BTC"}', sign: '7QP/oM0ykidMdrfNEUmng8eZjg/ZvPafjIqmxiVfYu4=' }],
    ['#3 GET position', { method: 'GET', rawUrl: '/api/v1/position?symbol=XBTUSDTM', body: '', sign: 'hvQak6UnuNfRRJ1F6q1x9sTvCYwgUpvOOfkkapfXkTM=' }],
    [
      '#4 POST order',
      {
        method: 'POST',
        rawUrl: '/api/v1/orders',
        body: '{"clientOid":"5c52e11203aa677f33e493fb","side":"buy","symbol":"XBTUSDTM","leverage":3,"type":"limit","price":"0.1","size":1,"timeInForce":"GTC"}',
        sign: 'b/6YMjCNTxbGIpN6tfdriPs9HSMeBO3UY71bNzvlWb4=',
      },
    ],
    ['#5 DELETE by clientOid', { method: 'DELETE', rawUrl: '/api/v1/orders/client-order/my-oid-1?symbol=XBTUSDTM', body: '', sign: 'zoggqB4gAKArklJuylQKvRCS9T4lehwb7ZStr+Bh8Pw=' }],
    ['#6 POST bullet-private, empty body', { method: 'POST', rawUrl: '/api/v1/bullet-private', body: '', sign: 'WNGQD2tKTq8y5eouFZ2ak/x4dJHTdH0SnSmHSZT4hnE=' }],
    ['futures-doc string, correct signature', { method: 'POST', rawUrl: '/api/v1/deposit-address', body: '{"currency":"XBT"}', sign: 'ni2D7a6NKPHHdIN/Rm8ZUix5xheGowT54v/5nIG+ztc=' }],
  ];

  it.each(vectors)('%s is accepted', (_title, { method, rawUrl, body, sign }) => {
    expect(expectedSign(SECRET_1, TS, method, rawUrl, body)).toBe(sign);
    expect(verifySignedRequest({ method, rawUrl, body, headers: headers(sign) }, creds, Number(TS))).toBeUndefined();
  });

  it('#2 (FNODE cryptoHmac) is the same primitive', () => {
    expect(hmacBase64('mysecretkey', 'Hello, world!')).toBe('k0jiDQEBW3xYgc/dh0c+RBQp5tcWug4rEZUeX35Awx0=');
  });

  it("the futures doc's wrong pair (§1 warning) is refused with 400005", () => {
    const request = { method: 'POST', rawUrl: '/api/v1/deposit-address', body: '{"currency":"XBT"}', headers: headers('7QP/oM0ykidMdrfNEUmng8eZjg/ZvPafjIqmxiVfYu4=') };
    expect(verifySignedRequest(request, creds, Number(TS))?.code).toBe('400005');
  });

  it('the query is signed as it reads before URL-encoding (DOC-AUTH)', () => {
    const decoded = hmacBase64(SECRET_1, `${TS}GET/api/v1/orders?passphrase=abc!@#11`);
    expect(expectedSign(SECRET_1, TS, 'GET', '/api/v1/orders?passphrase=abc%21%40%2311', '')).toBe(decoded);
  });
});

// --- against a running simulator ---------------------------------------------------------------

const clock = { t: 1_760_000_000_000 };
let sim: RunningSimulator;
let config: SimConfig;

beforeAll(async () => {
  config = loadSimConfig({ SIM_PORT: '0', SIM_FUTURES_QUOTA: '12' });
  sim = await startSimulator({ config, now: () => clock.t, timers: false });
});
afterAll(() => sim.close());

interface Signing {
  key?: string;
  /** Secret for the passphrase header and the signature. */
  secret?: string;
  /** Secret for the signature only. */
  signSecret?: string;
  passphrase?: string;
  version?: string;
  timestamp?: number;
  omit?: string[];
  /** Sign this target instead of the decoded one. */
  signTarget?: string;
}

async function signedFetch(method: string, target: string, body = '', signing: Signing = {}) {
  const secret = signing.secret ?? config.credentials.secret;
  const ts = String(signing.timestamp ?? clock.t);
  const headers: Record<string, string> = {
    'KC-API-KEY': signing.key ?? config.credentials.key,
    'KC-API-SIGN': hmacBase64(signing.signSecret ?? secret, `${ts}${method}${signing.signTarget ?? decodeURIComponent(target)}${body}`),
    'KC-API-TIMESTAMP': ts,
    'KC-API-PASSPHRASE': hmacBase64(secret, signing.passphrase ?? config.credentials.passphrase),
    'KC-API-KEY-VERSION': signing.version ?? config.keyVersion,
  };
  if (body) headers['Content-Type'] = 'application/json';
  for (const name of signing.omit ?? []) delete headers[name];
  const response = await fetch(`${sim.url}${target}`, { method, headers, ...(body ? { body } : {}) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { code: string; msg?: string; data?: unknown } };
}

describe('auth failures (kucoin-futures.md §1, §2)', () => {
  const cases: [string, { signing: Signing; status: number; code: string }][] = [
    ['a signature by another secret: 400005', { signing: { signSecret: 'wrong' }, status: 401, code: '400005' }],
    ['another secret altogether: the passphrase check fails first, 400004', { signing: { secret: 'wrong' }, status: 401, code: '400004' }],
    ['the wrong passphrase: 400004', { signing: { passphrase: 'wrong' }, status: 401, code: '400004' }],
    ['a timestamp 6 s old: 400002', { signing: { timestamp: clock.t - 6_000 }, status: 400, code: '400002' }],
    ['a timestamp 6 s ahead: 400002', { signing: { timestamp: clock.t + 6_000 }, status: 400, code: '400002' }],
    ['an unknown key: 400003', { signing: { key: 'someone-else' }, status: 401, code: '400003' }],
    ['no KC-API-SIGN: 400001', { signing: { omit: ['KC-API-SIGN'] }, status: 401, code: '400001' }],
    ['no KC-API-TIMESTAMP: 400001', { signing: { omit: ['KC-API-TIMESTAMP'] }, status: 401, code: '400001' }],
    ['key version 2 for a v3 key: 400009', { signing: { version: '2' }, status: 400, code: '400009' }],
    ['the encoded query signed: 400005', { signing: { signTarget: '/api/v1/orders?status=active&note=a%20b' }, status: 401, code: '400005' }],
  ];
  it.each(cases)('%s', async (_title, { signing, status, code }) => {
    const answer = await signedFetch('GET', '/api/v1/orders?status=active&note=a%20b', '', signing);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ code, msg: expect.any(String) });
  });

  it('4.9 s of skew is still accepted; the unencoded query is what is signed', async () => {
    const answer = await signedFetch('GET', '/api/v1/orders?status=active&note=a%20b', '', { timestamp: clock.t - 4_900 });
    expect(answer).toMatchObject({ status: 200, body: { code: '200000' } });
  });

  it('the body is part of the signature', async () => {
    const body = '{"symbol":"XBTUSDTM","marginMode":"ISOLATED"}';
    const tampered = await fetch(`${sim.url}/api/v2/position/changeMarginMode`, {
      method: 'POST',
      headers: { ...(await headersFor('POST', '/api/v2/position/changeMarginMode', body)), 'Content-Type': 'application/json' },
      body: body.replace('ISOLATED', 'CROSS'),
    });
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ code: '400005' });
  });

  async function headersFor(method: string, target: string, body: string): Promise<Record<string, string>> {
    const secret = config.credentials.secret;
    const ts = String(clock.t);
    return {
      'KC-API-KEY': config.credentials.key,
      'KC-API-SIGN': hmacBase64(secret, `${ts}${method}${target}${body}`),
      'KC-API-TIMESTAMP': ts,
      'KC-API-PASSPHRASE': hmacBase64(secret, config.credentials.passphrase),
      'KC-API-KEY-VERSION': config.keyVersion,
    };
  }

  it('public endpoints need no signature', async () => {
    const response = await fetch(`${sim.url}/api/v1/contracts/active`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(4);
  });
});

describe('gateway-level answers (kucoin-futures.md §2)', () => {
  it('an unknown path is 404000 with HTTP 404', async () => {
    const response = await fetch(`${sim.url}/api/v1/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ code: '404000', msg: 'Not Found' });
  });

  it('a POST body that is not application/json is 415000', async () => {
    const response = await fetch(`${sim.url}/api/v1/orders`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ code: '415000' });
  });

  it('a body that is not JSON is 400100', async () => {
    const answer = await signedFetch('POST', '/api/v1/orders', '{"clientOid":');
    expect(answer).toMatchObject({ status: 400, body: { code: '400100' } });
  });

  it('business refusals are HTTP 200 with the code', async () => {
    const answer = await signedFetch('GET', '/api/v1/position?symbol=BTCUSDTM');
    expect(answer).toEqual({ status: 200, headers: expect.anything(), body: { code: '100003', msg: 'Contract parameter invalid' } });
  });
});

describe('resource pools (kucoin-futures.md §2, §3 weights)', () => {
  it('every answer carries gw-ratelimit-*; weights are spent per pool; 429000 when the pool is spent; the window resets', async () => {
    clock.t += 60_000; // a fresh window for both pools
    const rate = (h: Headers) => [h.get('gw-ratelimit-limit'), h.get('gw-ratelimit-remaining'), h.get('gw-ratelimit-reset')];

    const first = await signedFetch('GET', '/api/v1/account-overview?currency=USDT'); // Futures/5
    expect(rate(first.headers)).toEqual(['12', '7', '30000']);
    clock.t += 1_000;
    const second = await signedFetch('GET', '/api/v1/account-overview?currency=USDT');
    expect(rate(second.headers)).toEqual(['12', '2', '29000']);
    const spent = await signedFetch('GET', '/api/v1/account-overview?currency=USDT');
    expect(spent.status).toBe(429);
    expect(spent.body).toEqual({ code: '429000', msg: 'Too Many Requests' });
    expect(rate(spent.headers)).toEqual(['12', '0', '29000']);
    // A weight-2 call still fits; the Public pool is another pool.
    expect((await signedFetch('GET', '/api/v1/positions')).status).toBe(200);
    const pub = await fetch(`${sim.url}/api/v1/timestamp`);
    expect(rate(pub.headers)).toEqual(['2000', '1998', '30000']);
    // Refusals carry the headers too.
    expect(rate((await signedFetch('GET', '/api/v1/positions', '', { secret: 'x' })).headers)[0]).toBe('12');

    clock.t += 29_000;
    expect((await signedFetch('GET', '/api/v1/account-overview?currency=USDT')).status).toBe(200);
  });
});
