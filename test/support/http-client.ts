/**
 * The one way tests talk HTTP to a gateway: every response is checked against openapi.yaml before
 * the test sees it, so a response the contract does not describe fails the test that got it.
 */
import { type Contract, defaultContract } from './http-contract.js';

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json` (unless `headers` names another type). */
  json?: unknown;
  /** Sent as given, for malformed JSON, wrong content types and oversized bodies. */
  body?: string | Buffer;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON for json and problem+json responses (the raw text if it does not parse), else the text. */
  body: any;
  text: string;
}

/** Sends a request and asserts the response matches the project's contract. */
export function request(baseUrl: string, method: string, path: string, init?: RequestOptions): Promise<HttpResponse> {
  return checkedRequest(defaultContract(), baseUrl, method, path, init);
}

/** `request` checked against another contract (the helper's own tests use a fixture spec). */
export async function checkedRequest(
  contract: Contract,
  baseUrl: string,
  method: string,
  path: string,
  init?: RequestOptions,
): Promise<HttpResponse> {
  const response = await requestUnchecked(baseUrl, method, path, init);
  contract.assertResponse({ method, path, status: response.status, headers: response.headers, body: response.text });
  return response;
}

/**
 * Sends a request WITHOUT checking the response against the contract. Only for what the contract
 * cannot describe (a connection the server drops, a test of this helper itself); anything with a
 * status, headers and a body, /metrics text and error pages included, is describable and must use
 * `request`.
 */
export async function requestUnchecked(baseUrl: string, method: string, path: string, init: RequestOptions = {}): Promise<HttpResponse> {
  const headers = new Headers(init.headers);
  let body: string | Uint8Array | undefined = init.body;
  if (init.json !== undefined) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  // redirect: 'manual' so a test sees (and the contract checks) the redirect the server sent.
  const response = await fetch(`${baseUrl.replace(/\/$/, '')}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: parseBody(response.headers, text), text };
}

function parseBody(headers: Headers, text: string): unknown {
  const mediaType = (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * An msw `onUnhandledRequest` callback that lets loopback calls (the gateway under test) through
 * and fails any other unmocked request, as the 'error' strategy would:
 * `server.listen({ onUnhandledRequest: allowLoopback })`.
 */
export function allowLoopback(request: Request, print: { error(): void }): void {
  const host = new URL(request.url).hostname;
  if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return;
  try {
    print.error();
  } catch (error) {
    // msw's 'error' strategy throws; on `node:http` (the KuCoin client's transport) that throw is
    // an unhandled rejection and the request hangs. With a system error's shape msw fails the
    // request instead (its 'error' event; a rejected fetch), as fetch always did.
    throw Object.assign(new Error(`unmocked request ${request.method} ${request.url}`, { cause: error }), { code: 'ERR_UNMOCKED_REQUEST', errno: 0 });
  }
}
