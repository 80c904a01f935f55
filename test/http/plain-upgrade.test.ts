/**
 * Requests that offer to switch to another protocol (`curl --http2` sends `Upgrade: h2c` with
 * `Connection: Upgrade, HTTP2-Settings`) are plain HTTP/1.1 requests as well, and are answered as
 * such (RFC 9110 §7.8): the same status and body as without the offer, and `Connection: close`.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultContract } from '../support/http-contract.js';
import { startGateway, TEST_ADMIN_KEY, type RunningGateway } from '../support/gateway.js';
import { checkedRawRequest } from '../reliability/raw-http.js';

let running: RunningGateway | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const H2C = { upgrade: 'h2c', connection: 'Upgrade, HTTP2-Settings', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' };

describe('a request offering Upgrade: h2c', () => {
  it('GET /api/health answers 200 over HTTP/1.1 and closes the connection', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const res = await checkedRawRequest(running.baseUrl, 'GET', '/api/health', H2C);
    expect(res.status).toBe(200);
    expect(res.body.data.futures.enabled).toBe(true);
    expect(res.headers.get('connection')).toBe('close');
  });

  it('a futures GET answers exactly as without the offer', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true' });
    const plain = await checkedRawRequest(running.baseUrl, 'GET', '/api/futures/positions');
    const offered = await checkedRawRequest(running.baseUrl, 'GET', '/api/futures/positions', H2C);
    expect(offered.status).toBe(plain.status);
    expect(offered.body.code).toBe(plain.body.code);
  });

  it('a POST with a JSON body gets its body (the switch flips)', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const body = JSON.stringify({ enabled: false, reason: 'h2c offer test' });
    const res = await checkedRawRequest(
      running.baseUrl,
      'PUT',
      '/api/admin/futures-switch',
      { ...H2C, authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
      body,
    );
    expect(res.status).toBe(200);
    expect(res.body.data.enabled).toBe(false);
    expect(running.gateway.futuresSwitch.enabled).toBe(false);
  });

  it('a body that arrives after the headers, in pieces, is read to its Content-Length', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const body = JSON.stringify({ enabled: false, reason: 'a body in two pieces' });
    const head = [
      'PUT /api/admin/futures-switch HTTP/1.1',
      'Host: 127.0.0.1',
      ...Object.entries({ ...H2C, authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json', 'content-length': String(body.length) }).map(([k, v]) => `${k}: ${v}`),
    ].join('\r\n');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(running!.baseUrl).port), '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer within 5 s (hang); got ${JSON.stringify(text)}`)));
      socket.write(`${head}\r\n\r\n${body.slice(0, 10)}`);
      setTimeout(() => socket.write(body.slice(10, 20)), 30);
      setTimeout(() => socket.write(body.slice(20)), 60);
    });
    const [headerBlock, text = ''] = answer.split('\r\n\r\n');
    const [statusLine, ...headerLines] = headerBlock!.split('\r\n');
    const status = Number(statusLine!.split(' ')[1]);
    const headers = new Headers(headerLines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
    defaultContract().assertResponse({ method: 'PUT', path: '/api/admin/futures-switch', status, headers, body: text });
    expect(status).toBe(200);
    expect(JSON.parse(text).data.enabled).toBe(false);
  });

  it('a chunked body, which nothing could frame, answers a typed 400', async () => {
    running = await startGateway({ FEATURE_FUTURES: 'true', ADMIN_API_KEYS: TEST_ADMIN_KEY });
    const res = await checkedRawRequest(
      running.baseUrl,
      'PUT',
      '/api/admin/futures-switch',
      { ...H2C, authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      JSON.stringify({ enabled: false, reason: 'chunked' }),
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(running.gateway.futuresSwitch.enabled).toBe(true);
  });
});
