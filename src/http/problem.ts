import type { Request, Response } from 'express';
import { GatewayError, toProblem } from '../errors.js';

export const PROBLEM_JSON = 'application/problem+json';

export function requestIdOf(req: Request): string {
  return String(req.id ?? '');
}

/** The one renderer of error answers: every 4xx/5xx body in the gateway comes out of here. */
export function sendProblem(req: Request, res: Response, error: GatewayError): void {
  const { headers, retryAfterSeconds } = error.options;
  let own: unknown[] | undefined;
  if (headers) for (const [name, value] of Object.entries(headers)) (own ??= []).push(name, value);
  if (retryAfterSeconds !== undefined) (own ??= []).push('Retry-After', String(retryAfterSeconds));
  res.locals.errorCode = error.code;
  const body = toProblem(error, requestIdOf(req), req.path, Date.now());
  sendJson(res, error.status, PROBLEM_JSON, JSON.stringify(body), own);
}

/**
 * What an unknown route answers. Futures routes answer exactly this while the kill switch is off,
 * so nobody can tell a disabled feature from a missing one.
 */
export function notFound(req: Request): GatewayError {
  return new GatewayError('NOT_FOUND', `No route for ${req.method} ${req.path}`);
}

export function sendData(res: Response, status: number, data: unknown): void {
  sendJson(res, status, 'application/json', JSON.stringify({ success: true, data, timestamp: Date.now() }));
}

/**
 * A JSON answer written in one piece: headers and body go out in a single write. Express's
 * `res.send` turns a body of 1,000 characters or more into a Buffer, which node then writes apart
 * from the header block (a gathered write that cost more than the rest of the request, benchmark 1).
 * The header values are the ones Express would set. The head is written in one `writeHead`, which
 * hands node the headers set before (held by the response, head-once.ts) and these together;
 * `own` ([name, value, ...]) are the answer's further headers (Retry-After, Allow...).
 */
function sendJson(res: Response, status: number, type: string, body: string, own?: unknown[]): void {
  const head: unknown[] = ['Content-Type', `${type}; charset=utf-8`, 'Content-Length', Buffer.byteLength(body)];
  if (own !== undefined) head.push(...own);
  res.writeHead(status, head as string[]);
  res.end(body);
}
