/**
 * The reference page over HTTP: what it loads comes from this gateway, the WebSocket reference
 * renders the AsyncAPI Markdown, and the CSP asks for https upgrades only over https.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';

const UPGRADE = 'upgrade-insecure-requests';
let gateway: RunningGateway;
let behindProxy: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway({ FEATURE_FUTURES: 'false' });
  behindProxy = await startGateway({ FEATURE_FUTURES: 'false', TRUST_PROXY: 'true' });
});
afterAll(async () => {
  await Promise.all([gateway?.stop(), behindProxy?.stop()]);
});

describe('Content-Security-Policy upgrade-insecure-requests', () => {
  it('is not sent on an answer over plain HTTP, so a page reached by http://host:port/ keeps loading its own files', async () => {
    for (const path of ['/api/docs', '/api/health', '/api/docs/assets/docs.js']) {
      const res = await request(gateway.baseUrl, 'GET', path);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain(UPGRADE);
    }
  });

  it('is not sent on X-Forwarded-Proto: https from a proxy the gateway does not trust', async () => {
    const res = await request(gateway.baseUrl, 'GET', '/api/docs', { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers.get('content-security-policy')).not.toContain(UPGRADE);
  });

  it('is sent, with TRUST_PROXY, when the proxy says the request came over https', async () => {
    const secure = await request(behindProxy.baseUrl, 'GET', '/api/docs', { headers: { 'x-forwarded-proto': 'https' } });
    expect(secure.headers.get('content-security-policy')).toContain(UPGRADE);
    const plain = await request(behindProxy.baseUrl, 'GET', '/api/docs', { headers: { 'x-forwarded-proto': 'http' } });
    expect(plain.headers.get('content-security-policy')).not.toContain(UPGRADE);
    // Apart from that directive, both answers carry the same security headers.
    const rest = (h: Headers) => [...h].filter(([name]) => !['date', 'x-request-id', 'content-security-policy', 'content-length', 'ratelimit'].includes(name));
    expect(rest(plain.headers)).toEqual(rest(secure.headers));
    expect(plain.headers.get('content-security-policy')).toBe(secure.headers.get('content-security-policy')!.replace(`;${UPGRADE}`, ''));
  });
});

describe('GET /api/docs (futures off: the docs are not behind the kill switch)', () => {
  it('is Swagger UI on the served contract, loading only files this gateway serves', async () => {
    const res = await request(gateway.baseUrl, 'GET', '/api/docs');
    expect(res.status).toBe(200);
    const urls = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls).toContain('/api/docs/assets/swagger-ui-bundle.js');
    expect(urls).toContain('/api/docs/assets/docs.js');
    for (const url of urls) expect(url, 'no CDN, no other host').toMatch(/^\/(?!\/)/);
    // helmet's CSP forbids inline scripts: the page must have none.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).toContain('id="error-codes"');
    const script = await request(gateway.baseUrl, 'GET', '/api/docs/assets/docs.js');
    expect(script.text).toContain("fetch('/api/openapi.json'");
    expect(script.text).toContain('validatorUrl: null');
  });

  it('serves every file the page names, with its media type, and 404 for any other name', async () => {
    const types: Record<string, string> = {
      'swagger-ui-bundle.js': 'application/javascript',
      'swagger-ui.css': 'text/css',
      'docs.js': 'application/javascript',
      'docs.css': 'text/css',
      'favicon.png': 'image/png',
    };
    for (const [name, type] of Object.entries(types)) {
      const res = await request(gateway.baseUrl, 'GET', `/api/docs/assets/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toContain(type);
      expect(res.text.length, name).toBeGreaterThan(100);
    }
    for (const name of ['index.html', '..%2Fpackage.json', 'constructor', 'swagger-ui-bundle.js.map']) {
      const res = await request(gateway.baseUrl, 'GET', `/api/docs/assets/${name}`);
      expect(res.status, name).toBe(404);
      expect(res.body.code, name).toBe('NOT_FOUND');
    }
  });
});

describe('GET /api/docs/websocket', () => {
  it('renders the AsyncAPI document: every message with its payload and examples, the close codes, Markdown as HTML', async () => {
    const contract = (await request(gateway.baseUrl, 'GET', '/api/asyncapi.json')).body;
    const res = await request(gateway.baseUrl, 'GET', '/api/docs/websocket');
    expect(res.status).toBe(200);
    const html = res.text;
    for (const message of Object.values<any>(contract.components.messages)) {
      expect(html, message.name).toContain(`<code>${message.name}</code>`);
    }
    for (const code of contract.channels.futures['x-close-codes']) expect(html).toContain(`<code>${code.code}</code>`);
    expect(html).toContain('<h4>Payload</h4>');
    expect(html).toContain('<h4>Example');
    // Markdown code spans, bold and the close-code table are HTML, not raw Markdown.
    expect(html).toContain('<code>/ws/futures</code>');
    expect(html).toContain('<strong>Connecting.</strong>');
    expect(html).toMatch(/<table>\s*<thead>\s*<tr>\s*<th>code<\/th>/);
    const text = html.replace(/<pre>[\s\S]*?<\/pre>/g, '').replace(/<[^>]+>/g, '');
    expect(text).not.toContain('`');
    expect(text).not.toContain('**');
    expect(html).not.toMatch(/<script/);
  });
});
