/** The simulator's authentication and rate limits, with raw requests (no gateway client). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacBase64, signedHeaders } from '../../src/kucoin/signer.js';
import { loadSimConfig, type SimConfig } from '../../src/simulator/config.js';
import { authFailures, verifySignedRequest, type SimCredentials } from '../../src/simulator/rest/auth.js';
import { expectedPassphrase, expectedSignature, kucoinHmac, stringToSign, timestampWithinWindow } from '../../src/simulator/rest/kucoin-signature.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';

/**
 * KuCoin's published signing examples, checked against the simulator's own verifier
 * (src/simulator/rest/kucoin-signature.ts). test/kucoin/signer.test.ts checks the gateway's
 * signer against the same examples, so each side answers to KuCoin, not to the other.
 *
 * - SPOT-DOCS: Kucoin/kucoin-api-docs `source/localizable/index.html.md`, "Signing a Message"
 *   (the "Create Deposit Address" example; JKorf/Kucoin.Net's unit tests assert the same pair).
 * - FUT-DOCS: Kucoin/kucoin-futures-api-docs `source/localizable/index.en.html.md`, "Signing a
 *   Message": it publishes the STRING-TO-SIGN of its example, but pairs it with the spot example's
 *   KC-API-SIGN (a copy error: that signature does not belong to that string).
 * - DOC-AUTH: https://www.kucoin.com/docs-new/authentication, "Signing a Message": the URL signed
 *   is the one before URL-encoding, with its example target.
 * - FNODE: Kucoin/kucoin-futures-node-sdk `test/tools.test.ts` ("cryptoHmac").
 */
const SECRET = 'f03a5284-5c39-4aaa-9b20-dea10bdcf8e3'; // SPOT-DOCS and FUT-DOCS KC-API-SECRET
const TS = '1547015186532'; // SPOT-DOCS and FUT-DOCS TIMESTAMP
const PASSPHRASE = 'Abc123456'; // SPOT-DOCS KC-API-PASSPHRASE (a v1 plain one there; HMAC'd here)

interface Vector {
  method: string;
  rawTarget: string;
  body: string;
  /** The published STRING-TO-SIGN, where the source gives one. */
  signs?: string;
  sign: string;
}

const vectors: [string, Vector][] = [
  [
    'SPOT-DOCS Create Deposit Address (published string and signature)',
    {
      method: 'POST',
      rawTarget: '/api/v1/deposit-addresses',
      body: '{"currency":"BTC"}',
      signs: '1547015186532POST/api/v1/deposit-addresses{"currency":"BTC"}',
      sign: '7QP/oM0ykidMdrfNEUmng8eZjg/ZvPafjIqmxiVfYu4=',
    },
  ],
  [
    // The string is published; the signature is computed (HMAC-SHA256 of the string with SECRET),
    // because the one printed beside it is the spot example's.
    'FUT-DOCS deposit-address (published string, computed signature)',
    {
      method: 'POST',
      rawTarget: '/api/v1/deposit-address',
      body: '{"currency":"XBT"}',
      signs: '1547015186532POST/api/v1/deposit-address{"currency":"XBT"}',
      sign: 'ni2D7a6NKPHHdIN/Rm8ZUix5xheGowT54v/5nIG+ztc=',
    },
  ],
  [
    // The target and the text signed are DOC-AUTH's; the signature is computed from that text.
    'DOC-AUTH encoded query (published target and signed text, computed signature)',
    {
      method: 'GET',
      rawTarget: '/api/v1/sub/api-key?apiKey=67*b3&subName=test&passphrase=abc%21%40%2311',
      body: '',
      signs: '1547015186532GET/api/v1/sub/api-key?apiKey=67*b3&subName=test&passphrase=abc!@#11',
      sign: 'c72aSYo8u5pkxFPk6VkjHpG/12DnWN8Yp+Mx+tCX5G0=',
    },
  ],
  // Computed (HMAC-SHA256 with SECRET of the text FUT-DOCS's rules give, by Python's hmac and
  // node:crypto alike): the futures calls the gateway makes, not published by KuCoin.
  ['computed: GET position', { method: 'GET', rawTarget: '/api/v1/position?symbol=XBTUSDTM', body: '', sign: 'hvQak6UnuNfRRJ1F6q1x9sTvCYwgUpvOOfkkapfXkTM=' }],
  [
    'computed: POST order',
    {
      method: 'POST',
      rawTarget: '/api/v1/orders',
      body: '{"clientOid":"5c52e11203aa677f33e493fb","side":"buy","symbol":"XBTUSDTM","leverage":3,"type":"limit","price":"0.1","size":1,"timeInForce":"GTC"}',
      sign: 'b/6YMjCNTxbGIpN6tfdriPs9HSMeBO3UY71bNzvlWb4=',
    },
  ],
  ['computed: DELETE by clientOid', { method: 'DELETE', rawTarget: '/api/v1/orders/client-order/my-oid-1?symbol=XBTUSDTM', body: '', sign: 'zoggqB4gAKArklJuylQKvRCS9T4lehwb7ZStr+Bh8Pw=' }],
  ['computed: POST bullet-private, empty body', { method: 'POST', rawTarget: '/api/v1/bullet-private', body: '', sign: 'WNGQD2tKTq8y5eouFZ2ak/x4dJHTdH0SnSmHSZT4hnE=' }],
];

// Computed: base64(HMAC-SHA256(SECRET, PASSPHRASE)), the DOC-AUTH rule for key versions 2 and 3.
const PASSPHRASE_HEADER = 'BKrtDi9RgDYbLigltBjNLvwvVf6/iCxWK6slmjr8DF8=';

const creds: SimCredentials = { key: 'k', secret: SECRET, passphrase: PASSPHRASE, keyVersion: '3' };
const vectorHeaders = (sign: string, timestamp = TS) => ({
  'kc-api-key': 'k',
  'kc-api-sign': sign,
  'kc-api-timestamp': timestamp,
  'kc-api-passphrase': PASSPHRASE_HEADER,
  'kc-api-key-version': '3',
});
const verifyVector = (v: Vector, sign = v.sign, serverNow = Number(TS)) =>
  verifySignedRequest({ method: v.method, rawUrl: v.rawTarget, body: v.body, headers: vectorHeaders(sign) }, creds, serverNow);

/** The signature with one base64 character changed: what a prehash one character off would not match. */
const mutated = (sign: string) => (sign[0] === 'A' ? 'B' : 'A') + sign.slice(1);

describe("the simulator's verifier against KuCoin's published examples", () => {
  it('FNODE cryptoHmac: the HMAC primitive', () => {
    expect(kucoinHmac('mysecretkey', 'Hello, world!')).toBe('k0jiDQEBW3xYgc/dh0c+RBQp5tcWug4rEZUeX35Awx0=');
  });

  it('the v2/v3 passphrase header is HMAC-SHA256(secret, passphrase) in base64', () => {
    expect(expectedPassphrase(SECRET, PASSPHRASE)).toBe(PASSPHRASE_HEADER);
  });

  it.each(vectors)('%s: the published text is what is signed, and the signature is accepted', (_title, v) => {
    const received = { timestamp: TS, method: v.method, rawTarget: v.rawTarget, body: v.body };
    if (v.signs !== undefined) expect(stringToSign(received)).toBe(v.signs);
    expect(expectedSignature(SECRET, received)).toBe(v.sign);
    expect(verifyVector(v)).toBeUndefined();
  });

  it.each(vectors)('%s: one character off in the signature is 400005', (_title, v) => {
    expect(verifyVector(v, mutated(v.sign))).toEqual(authFailures.sign);
  });

  it("FUT-DOCS's printed pair (its string with the spot example's signature) is refused with 400005", () => {
    const futures = vectors[1]![1];
    expect(verifyVector(futures, '7QP/oM0ykidMdrfNEUmng8eZjg/ZvPafjIqmxiVfYu4=')).toEqual(authFailures.sign);
  });

  // Requests that differ from a vector in one way a wrong prehash would overlook: each must fail.
  const wrongReadings: [string, Vector][] = [
    ['the encoded query signed (DOC-AUTH says the decoded one)', { ...vectors[2]![1], rawTarget: '/api/v1/sub/api-key?apiKey=67*b3&subName=test&passphrase=abc%2521%2540%252311' }],
    ['another body than the one signed', { ...vectors[0]![1], body: '{"currency":"ETH"}' }],
    ['another method than the one signed', { ...vectors[5]![1], method: 'GET' }],
    ['the query left out of the target', { ...vectors[3]![1], rawTarget: '/api/v1/position' }],
    ['a body where none was signed', { ...vectors[6]![1], body: '{}' }],
  ];
  it.each(wrongReadings)('%s: 400005', (_title, v) => {
    expect(verifyVector(v)).toEqual(authFailures.sign);
  });

  it('a target with a broken percent-escape is 400005, not a crash', () => {
    expect(verifyVector({ ...vectors[3]![1], rawTarget: '/api/v1/position?symbol=%E0%A4%A' })).toEqual(authFailures.sign);
  });
});

describe("the simulator's timestamp window (FUT-DOCS \"Selecting Timestamp\": less than 5 s)", () => {
  const now = Number(TS);
  it.each([
    ['4999 ms behind', now - 4_999, true],
    ['4999 ms ahead', now + 4_999, true],
    ['exactly 5 s behind', now - 5_000, false],
    ['exactly 5 s ahead', now + 5_000, false],
  ] as const)('%s', (_title, serverNow, accepted) => {
    // The signature covers TS, so only the window decides.
    expect(timestampWithinWindow(TS, serverNow)).toBe(accepted);
    expect(verifyVector(vectors[0]![1], vectors[0]![1].sign, serverNow)).toEqual(accepted ? undefined : authFailures.timestamp);
  });

  it.each(['1547015186532.5', '-1547015186532', '1e12', ' 1547015186532', '15470151865320000000'])('%j is not a timestamp', (header) => {
    expect(timestampWithinWindow(header, now)).toBe(false);
  });
});

describe("the gateway's signer and the simulator's verifier, each held to the examples", () => {
  it.each(vectors)('%s: the gateway signs the published signature and the simulator accepts its headers', (_title, v) => {
    // The gateway signs the target before URL-encoding (src/kucoin/client.ts `signedPath`).
    const signedTarget = v.signs === undefined ? v.rawTarget : v.signs.slice(TS.length + v.method.length, v.signs.length - v.body.length);
    const headers = signedHeaders({ key: 'k', secret: SECRET, passphrase: PASSPHRASE }, '3', TS, v.method, signedTarget, v.body);
    expect(headers['KC-API-SIGN']).toBe(v.sign);
    expect(headers['KC-API-PASSPHRASE']).toBe(PASSPHRASE_HEADER);
    expect(verifySignedRequest({ method: v.method, rawUrl: v.rawTarget, body: v.body, headers: lowerCased(headers) }, creds, Number(TS))).toBeUndefined();
  });

  it('for a v2 key too', () => {
    const v = vectors[3]![1];
    const headers = signedHeaders({ key: 'k', secret: SECRET, passphrase: PASSPHRASE }, '2', TS, v.method, v.rawTarget, v.body);
    expect(verifySignedRequest({ method: v.method, rawUrl: v.rawTarget, body: v.body, headers: lowerCased(headers) }, { ...creds, keyVersion: '2' }, Number(TS))).toBeUndefined();
  });

  const lowerCased = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
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

describe('auth failures over HTTP', () => {
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

describe('gateway-level answers', () => {
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

describe('resource pools and their weights', () => {
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
