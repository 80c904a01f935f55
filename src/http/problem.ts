import type { Request, Response } from 'express';
import { GatewayError, toProblem } from './errors.js';

export const PROBLEM_JSON = 'application/problem+json';

export function requestIdOf(req: Request): string {
  return String(req.id ?? '');
}

/** The one renderer of error answers: every 4xx/5xx body in the gateway comes out of here. */
export function sendProblem(req: Request, res: Response, error: GatewayError): void {
  const { headers, retryAfterSeconds } = error.options;
  if (headers) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  res.locals.errorCode = error.code;
  const body = toProblem(error, requestIdOf(req), req.path, Date.now());
  res.status(error.status).type(PROBLEM_JSON).send(JSON.stringify(body));
}

/**
 * What an unknown route answers. Futures routes answer exactly this while the kill switch is off,
 * so nobody can tell a disabled feature from a missing one.
 */
export function notFound(req: Request): GatewayError {
  return new GatewayError('NOT_FOUND', `No route for ${req.method} ${req.path}`);
}

export function sendData(res: Response, status: number, data: unknown): void {
  res.status(status).json({ success: true, data, timestamp: Date.now() });
}
