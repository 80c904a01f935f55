/**
 * Hostile request bodies against real gateways: compressed bodies that do not decode, codings and
 * charsets the gateway does not read, bodies that inflate past BODY_LIMIT_BYTES, a Content-Length
 * over the limit (answered from the headers alone) and leverage below the contract's minimum.
 * Every answer is a typed 4xx checked against openapi.yaml, and nothing reaches KuCoin.
 */
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultContract } from '../support/http-contract.js';
import { startGateway, TEST_ADMIN_KEY, TEST_API_KEY, TEST_CREDENTIALS, type RunningGateway } from '../support/gateway.js';
import { KUCOIN, mockKucoin, silenceUnhandledKucoinCalls } from '../support/kucoin-mock.js';
import { checkedRawRequest } from './raw-http.js';

const kucoin = mockKucoin();
let on: RunningGateway;
let off: RunningGateway;

const ENV = {
  FUTURES_BASE_URL: KUCOIN,
  UPSTREAM_TIMEOUT_MS: '300',
  RATE_LIMIT_MAX: '0',
  GATEWAY_API_KEYS: TEST_API_KEY,
  ADMIN_API_KEYS: TEST_ADMIN_KEY,
  LOG_LEVEL: 'warn',
  READS_FROM_STREAM: 'false',
  ...TEST_CREDENTIALS,
};
const LIMIT = 16_384;

beforeAll(async () => {
  silenceUnhandledKucoinCalls();
  kucoin.listen();
  on = await startGateway({ ...ENV, FEATURE_FUTURES: 'true' });
  off = await startGateway({ ...ENV, FEATURE_FUTURES: 'false' });
});
afterAll(async () => {
  await on?.stop();
  await off?.stop();
  kucoin.close();
});

async function businessCalls(): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return kucoin.businessCalls().map((c) => `${c.method} ${c.path}`);
}

interface Target {
  method: string;
  path: string;
  key: string;
  json: unknown;
}
const TARGETS: Record<string, Target> = {
  order: { method: 'POST', path: '/api/futures/orders', key: TEST_API_KEY, json: { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000 } },
  leverage: { method: 'PUT', path: '/api/futures/leverage', key: TEST_API_KEY, json: { symbol: 'XBTUSDTM', leverage: 5, marginMode: 'cross' } },
  'admin switch': { method: 'PUT', path: '/api/admin/futures-switch', key: TEST_ADMIN_KEY, json: { enabled: true, reason: 'hostile-bodies test' } },
};

const COMPRESS: Record<string, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

/** For each coding: bytes that are not that coding, a valid stream cut short, and plain JSON sent under its name. */
function undecodable(coding: string, json: unknown): [string, Buffer][] {
  const plain = Buffer.from(JSON.stringify(json));
  const whole = COMPRESS[coding]!(plain);
  return [
    ['garbage', Buffer.from('\x00\xffnot compressed at all\x13\x37')],
    ['truncated', whole.subarray(0, Math.max(1, Math.floor(whole.length / 2)))],
    ['uncompressed JSON', plain],
  ];
}

function send(gw: RunningGateway, target: Target, headers: Record<string, string>, body: Buffer | string) {
  return checkedRawRequest(gw.baseUrl, target.method, target.path, { authorization: `Bearer ${target.key}`, 'content-type': 'application/json', ...headers }, body);
}

describe('compressed bodies that do not decode', () => {
  for (const [name, target] of Object.entries(TARGETS)) {
    for (const coding of Object.keys(COMPRESS)) {
      it(`${name}, Content-Encoding: ${coding}: 400 MALFORMED_JSON naming the coding, never a 500, nothing sent upstream`, async () => {
        for (const [label, body] of undecodable(coding, target.json)) {
          kucoin.calls.length = 0;
          const res = await send(on, target, { 'content-encoding': coding }, body);
          expect(res.status, label).toBe(400);
          expect(res.body.code, label).toBe('MALFORMED_JSON');
          expect(res.body.detail, label).toBe(`The request body could not be decoded (${coding}).`);
          expect(await businessCalls(), label).toEqual([]);
        }
      });
    }
  }

  it('a body that decodes but is not JSON is 400 MALFORMED_JSON', async () => {
    for (const [coding, compress] of Object.entries(COMPRESS)) {
      const res = await send(on, TARGETS.leverage!, { 'content-encoding': coding }, compress(Buffer.from('{"symbol": ')));
      expect(res.status, coding).toBe(400);
      expect(res.body.code).toBe('MALFORMED_JSON');
    }
  });

  it('a body that decodes is read as usual, whatever the case of the coding name', async () => {
    const target = TARGETS['admin switch']!;
    for (const [coding, compress] of Object.entries(COMPRESS)) {
      for (const name of [coding, coding.toUpperCase()]) {
        const res = await send(on, target, { 'content-encoding': name }, compress(Buffer.from(JSON.stringify(target.json))));
        expect(res.status, name).toBe(200);
        expect(res.body.data.enabled).toBe(true);
      }
    }
  });
});

describe('codings the gateway does not read', () => {
  const refused = ['compress', 'x-gzip', 'zstd', 'identity, gzip', 'gzip, gzip', 'gzip;q=1', 'chunked', 'base64'];
  for (const [name, target] of Object.entries(TARGETS)) {
    it(`${name}: 415 UNSUPPORTED_MEDIA_TYPE naming the coding, nothing sent upstream`, async () => {
      for (const coding of refused) {
        kucoin.calls.length = 0;
        const res = await send(on, target, { 'content-encoding': coding }, JSON.stringify(target.json));
        expect(res.status, coding).toBe(415);
        expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
        expect(res.body.detail).toContain(`"${coding}"`);
        expect(await businessCalls(), coding).toEqual([]);
      }
    });
  }

  it('identity (or an empty Content-Encoding) is no coding at all', async () => {
    const target = TARGETS['admin switch']!;
    for (const coding of ['identity', 'IDENTITY', '']) {
      const res = await send(on, target, { 'content-encoding': coding }, JSON.stringify(target.json));
      expect(res.status, JSON.stringify(coding)).toBe(200);
    }
  });
});

describe('a body that inflates beyond BODY_LIMIT_BYTES (a zip bomb)', () => {
  // 8 MiB of zeros: a few KiB compressed, well under the limit as sent, 512 times over it decoded.
  const inflated = Buffer.alloc(8 * 1024 * 1024, '0');
  for (const [coding, compress] of Object.entries(COMPRESS)) {
    it(`${coding}: 413 PAYLOAD_TOO_LARGE, reading stops at the limit`, async () => {
      const bomb = compress(inflated);
      expect(bomb.length).toBeLessThan(LIMIT);
      for (const [name, target] of Object.entries(TARGETS)) {
        kucoin.calls.length = 0;
        const res = await send(on, target, { 'content-encoding': coding }, bomb);
        expect(res.status, name).toBe(413);
        expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
        expect(await businessCalls(), name).toEqual([]);
      }
    });
  }
});

describe('charset (RFC 8259 §8.1: JSON between systems is UTF-8)', () => {
  for (const [name, target] of Object.entries(TARGETS)) {
    it(`${name}: a charset other than UTF-8 is 415 UNSUPPORTED_MEDIA_TYPE, nothing sent upstream`, async () => {
      for (const charset of ['utf-16', 'UTF-16LE', 'utf-7', 'iso-8859-1', '"utf-16"', 'utf-32']) {
        kucoin.calls.length = 0;
        const res = await send(on, target, { 'content-type': `application/json; charset=${charset}` }, JSON.stringify(target.json));
        expect(res.status, charset).toBe(415);
        expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
        expect(await businessCalls(), charset).toEqual([]);
      }
    });
  }

  it('utf-8, UTF-8, a quoted "utf-8" and no charset are read', async () => {
    const target = TARGETS['admin switch']!;
    for (const type of ['application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json']) {
      const res = await send(on, target, { 'content-type': type }, JSON.stringify(target.json));
      expect(res.status, type).toBe(200);
    }
  });
});

interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
  /** Bytes of the declared body the client had sent when the answer was complete. */
  bodyBytesSent: number;
}

/**
 * Sends a request's headers declaring `declared` body bytes, then only `sent` of them, and waits
 * for a complete answer. The rest of the body is never sent: an answer can only come from a server
 * that decided on the headers.
 */
function declareBigBody(baseUrl: string, method: string, path: string, headers: Record<string, string>, declared: number, sent: number): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let raw = Buffer.alloc(0);
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 5 s while the body was incomplete (${sent} of ${declared} bytes sent)`));
    }, 5000);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk]);
      const end = raw.indexOf('\r\n\r\n');
      if (end === -1) return;
      const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
      const parsed = new Headers();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        parsed.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const length = Number(parsed.get('content-length') ?? 0);
      if (raw.length < end + 4 + length) return;
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ status: Number(lines[0]!.split(' ')[1]), headers: parsed, body: raw.subarray(end + 4, end + 4 + length).toString('utf8'), bodyBytesSent: sent });
    });
    const head = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, `Content-Length: ${declared}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    socket.write(head + '{"symbol":"XBTUSDTM",'.slice(0, sent));
  });
}

describe('a Content-Length over BODY_LIMIT_BYTES is refused from the headers alone', () => {
  for (const [name, target] of Object.entries(TARGETS)) {
    it(`${name}: 413 PAYLOAD_TOO_LARGE with Connection: close while the body is still incomplete`, async () => {
      for (const declared of [LIMIT + 1, 50 * 1024 * 1024]) {
        kucoin.calls.length = 0;
        const headers = { authorization: `Bearer ${target.key}`, 'content-type': 'application/json' };
        const answer = await declareBigBody(on.baseUrl, target.method, target.path, headers, declared, 10);
        expect(answer.status, `${declared}`).toBe(413);
        expect(answer.bodyBytesSent).toBeLessThan(declared);
        expect(answer.headers.get('connection')).toBe('close');
        defaultContract().assertResponse({ method: target.method, path: target.path, status: answer.status, headers: answer.headers, body: answer.body });
        expect(JSON.parse(answer.body).code).toBe('PAYLOAD_TOO_LARGE');
        expect(await businessCalls()).toEqual([]);
      }
    });
  }

  it('auth still comes first: without a key the answer is 401, also from the headers alone', async () => {
    const answer = await declareBigBody(on.baseUrl, 'POST', '/api/futures/orders', { 'content-type': 'application/json' }, 50 * 1024 * 1024, 10);
    expect(answer.status).toBe(401);
    defaultContract().assertResponse({ method: 'POST', path: '/api/futures/orders', status: answer.status, headers: answer.headers, body: answer.body });
  });

  it('switch off: a futures path answers exactly what an unknown path answers', async () => {
    const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
    const futures = await declareBigBody(off.baseUrl, 'POST', '/api/futures/orders', headers, 50 * 1024 * 1024, 10);
    const unknown = await declareBigBody(off.baseUrl, 'POST', '/api/nothing-here', headers, 50 * 1024 * 1024, 10);
    expect(futures.status).toBe(404);
    expect(unknown.status).toBe(404);
    const shape = (a: RawAnswer) => {
      const { instance: _i, requestId: _r, timestamp: _t, detail: _d, ...rest } = JSON.parse(a.body) as Record<string, unknown>;
      return { rest, headers: [...a.headers.keys()].filter((k) => !['date', 'x-request-id', 'content-length'].includes(k)).sort() };
    };
    expect(shape(futures)).toEqual(shape(unknown));
  });
});

describe('leverage below the contract minimum of 1', () => {
  for (const leverage of [0.5, 0.0001]) {
    it(`PUT /api/futures/leverage with ${leverage}: 400 VALIDATION_FAILED naming leverage, nothing sent upstream`, async () => {
      kucoin.calls.length = 0;
      const res = await send(on, TARGETS.leverage!, {}, JSON.stringify({ symbol: 'XBTUSDTM', leverage, marginMode: 'isolated' }));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ location: 'body', field: 'leverage' })]));
      expect(await businessCalls()).toEqual([]);
    });
  }

  it('an isolated order with leverage 0.5: 400 VALIDATION_FAILED naming leverage, nothing sent upstream', async () => {
    kucoin.calls.length = 0;
    const order = { symbol: 'XBTUSDTM', side: 'BUY', type: 'LIMIT', qty: 1, price: 60000, leverage: 0.5, marginMode: 'isolated' };
    const res = await send(on, TARGETS.order!, {}, JSON.stringify(order));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ location: 'body', field: 'leverage' })]));
    expect(await businessCalls()).toEqual([]);
  });
});
