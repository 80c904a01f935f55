import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The bearer token of an `Authorization` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value);
  return match?.[1];
}

/**
 * Compares against every key with a constant-time compare of fixed-length digests, so neither the
 * key's length nor the position of the first differing byte leaks through timing.
 */
export function matchesAnyKey(token: string | undefined, keys: readonly string[]): string | undefined {
  if (token === undefined) return undefined;
  const digest = sha256(token);
  let found: string | undefined;
  for (const key of keys) if (timingSafeEqual(digest, sha256(key))) found = key;
  return found;
}

/** A short, non-reversible name for a key, fit for logs and audit trails. */
export function keyFingerprint(key: string): string {
  return sha256(key).toString('hex').slice(0, 8);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
