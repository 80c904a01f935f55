/**
 * A raw HTTP/1.1 client for requests fetch refuses to send (bodies on GET/DELETE, raw percent
 * escapes), whose responses are still checked against openapi.yaml like `request` does.
 */
import { request as httpRequest } from 'node:http';
import { defaultContract } from '../support/http-contract.js';
import type { HttpResponse } from '../support/http-client.js';

export function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer, timeoutMs = 10_000): Promise<HttpResponse> {
  const url = new URL(baseUrl);
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body !== undefined && !('transfer-encoding' in headers) ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const mediaType = (h.get('content-type') ?? '').split(';')[0]!.trim();
          let parsed: unknown = text;
          if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
            try {
              parsed = JSON.parse(text);
            } catch {
              /* keep the text */
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: h, body: parsed, text });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms (hang)`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** `rawRequest`, then the contract check `request` does. */
export async function checkedRawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<HttpResponse> {
  const res = await rawRequest(baseUrl, method, path, headers, body);
  defaultContract().assertResponse({ method, path, status: res.status, headers: res.headers, body: res.text });
  return res;
}
