import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacBase64, prehash, signedHeaders } from '../../src/kucoin/signer.js';

const SECRET_1 = 'f03a5284-5c39-4aaa-9b20-dea10bdcf8e3';

// docs/kucoin.md "Signing and authentication": #1 and #2 are published by third parties, #3–#7 computed.
const vectors: [string, { secret: string; message: string; want: string }][] = [
  ['#1 spot docs (published)', { secret: SECRET_1, message: '1547015186532POST/api/v1/deposit-addresses{"currency":"BTC"}', want: '7QP/oM0ykidMdrfNEUmng8eZjg/ZvPafjIqmxiVfYu4=' }],
  ['#2 FNODE cryptoHmac (published)', { secret: 'mysecretkey', message: 'Hello, world!', want: 'k0jiDQEBW3xYgc/dh0c+RBQp5tcWug4rEZUeX35Awx0=' }],
  ['#3 GET position', { secret: SECRET_1, message: '1547015186532GET/api/v1/position?symbol=XBTUSDTM', want: 'hvQak6UnuNfRRJ1F6q1x9sTvCYwgUpvOOfkkapfXkTM=' }],
  [
    '#4 POST order',
    {
      secret: SECRET_1,
      message: '1547015186532POST/api/v1/orders{"clientOid":"5c52e11203aa677f33e493fb","side":"buy","symbol":"XBTUSDTM","leverage":3,"type":"limit","price":"0.1","size":1,"timeInForce":"GTC"}',
      want: 'b/6YMjCNTxbGIpN6tfdriPs9HSMeBO3UY71bNzvlWb4=',
    },
  ],
  ['#5 DELETE by clientOid', { secret: SECRET_1, message: '1547015186532DELETE/api/v1/orders/client-order/my-oid-1?symbol=XBTUSDTM', want: 'zoggqB4gAKArklJuylQKvRCS9T4lehwb7ZStr+Bh8Pw=' }],
  ['#6 POST bullet-private, empty body', { secret: SECRET_1, message: '1547015186532POST/api/v1/bullet-private', want: 'WNGQD2tKTq8y5eouFZ2ak/x4dJHTdH0SnSmHSZT4hnE=' }],
  ['#7 passphrase (v2/v3)', { secret: SECRET_1, message: 'Abc123456', want: 'BKrtDi9RgDYbLigltBjNLvwvVf6/iCxWK6slmjr8DF8=' }],
  // The OLD futures doc pairs this string with vector #1's signature; that pair is wrong (docs/kucoin.md "Signing and authentication").
  ['futures-doc string, correct signature', { secret: SECRET_1, message: '1547015186532POST/api/v1/deposit-address{"currency":"XBT"}', want: 'ni2D7a6NKPHHdIN/Rm8ZUix5xheGowT54v/5nIG+ztc=' }],
];

describe('hmacBase64', () => {
  it.each(vectors)('%s', (_title, { secret, message, want }) => {
    expect(hmacBase64(secret, message)).toBe(want);
  });
});

describe('prehash', () => {
  it.each([
    ['GET with query', ['1547015186532', 'get', '/api/v1/position?symbol=XBTUSDTM', ''], '1547015186532GET/api/v1/position?symbol=XBTUSDTM'],
    ['POST with body', ['1', 'POST', '/api/v1/orders', '{"a":1}'], '1POST/api/v1/orders{"a":1}'],
    ['POST without body', ['1', 'post', '/api/v1/bullet-private', ''], '1POST/api/v1/bullet-private'],
  ] as const)('%s', (_title, [ts, method, path, body], want) => {
    expect(prehash(ts, method, path, body)).toBe(want);
  });
});

describe('signedHeaders', () => {
  it('signs vector #3 and sends the passphrase as vector #7, with the configured key version', () => {
    const headers = signedHeaders({ key: 'k', secret: SECRET_1, passphrase: 'Abc123456' }, '3', '1547015186532', 'GET', '/api/v1/position?symbol=XBTUSDTM', '');
    expect(headers).toEqual({
      'KC-API-KEY': 'k',
      'KC-API-SIGN': 'hvQak6UnuNfRRJ1F6q1x9sTvCYwgUpvOOfkkapfXkTM=',
      'KC-API-TIMESTAMP': '1547015186532',
      'KC-API-PASSPHRASE': 'BKrtDi9RgDYbLigltBjNLvwvVf6/iCxWK6slmjr8DF8=',
      'KC-API-KEY-VERSION': '3',
    });
  });

  it('agrees with an independent implementation for arbitrary input', () => {
    const independent = (secret: string, msg: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(msg, 'utf8')).digest().toString('base64');
    for (const body of ['', '{"symbol":"XBTUSDTM","leverage":"10"}', '{"remark":"ünïcødé ✓"}']) {
      const headers = signedHeaders({ key: 'k', secret: 's3cr3t', passphrase: 'p' }, '2', '1700000000000', 'POST', '/api/v2/changeCrossUserLeverage', body);
      expect(headers['KC-API-SIGN']).toBe(independent('s3cr3t', `1700000000000POST/api/v2/changeCrossUserLeverage${body}`));
      expect(headers['KC-API-KEY-VERSION']).toBe('2');
    }
  });

  it('signs the passphrase of the credentials as they are now, call after call (it is worked out once per credentials)', () => {
    const credentials = { key: 'k', secret: SECRET_1, passphrase: 'Abc123456' };
    const sign = () => signedHeaders(credentials, '3', '1547015186532', 'GET', '/api/v1/position?symbol=XBTUSDTM', '')['KC-API-PASSPHRASE'];
    expect(sign()).toBe('BKrtDi9RgDYbLigltBjNLvwvVf6/iCxWK6slmjr8DF8=');
    expect(sign()).toBe('BKrtDi9RgDYbLigltBjNLvwvVf6/iCxWK6slmjr8DF8=');
    credentials.passphrase = 'other';
    expect(sign()).toBe(createHmac('sha256', SECRET_1).update('other').digest('base64'));
    credentials.secret = 's3cr3t';
    expect(sign()).toBe(createHmac('sha256', 's3cr3t').update('other').digest('base64'));
  });
});
