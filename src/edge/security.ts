import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** The bearer token of an `Authorization` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value);
  return match?.[1];
}

/** A short, non-reversible name for a key, fit for logs and audit trails. */
export function keyFingerprint(key: string): string {
  return sha256(key).toString('hex').slice(0, 8);
}

/** Which configured key, if any, a request presents. */
export interface Caller {
  apiKey?: string;
  adminKey?: string;
  /** keyFingerprint of the key presented, when it is a configured one. */
  fingerprint?: string;
}

interface KnownKey {
  key: string;
  digest: Buffer;
}

/**
 * The configured gateway and admin keys, hashed once at start; one per gateway. A request's token
 * is hashed once and compared with every key (constant-time, see `findKey`), and the answer is kept
 * for that request, so the rate limiter, the security handlers and the /ws/futures upgrade share
 * one rule and one lookup.
 */
export class KeyRing {
  readonly #api: KnownKey[];
  readonly #admin: KnownKey[];
  readonly #callers = new WeakMap<IncomingMessage, Caller>();

  constructor(apiKeys: readonly string[], adminApiKeys: readonly string[]) {
    this.#api = apiKeys.map((key) => ({ key, digest: sha256(key) }));
    this.#admin = adminApiKeys.map((key) => ({ key, digest: sha256(key) }));
  }

  caller(req: IncomingMessage): Caller {
    let caller = this.#callers.get(req);
    if (caller === undefined) {
      caller = this.#identify(bearerToken(req.headers));
      this.#callers.set(req, caller);
    }
    return caller;
  }

  #identify(token: string | undefined): Caller {
    if (token === undefined) return {};
    const digest = sha256(token);
    const apiKey = findKey(digest, this.#api);
    const adminKey = findKey(digest, this.#admin);
    const key = apiKey ?? adminKey;
    return {
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(adminKey === undefined ? {} : { adminKey }),
      ...(key === undefined ? {} : { fingerprint: keyFingerprint(key) }),
    };
  }
}

/**
 * A constant-time compare of fixed-length digests against every key, whatever matches, so neither a
 * key's length, the position of the first differing byte, nor which key (or whether one) matched
 * leaks through timing.
 */
function findKey(digest: Buffer, keys: readonly KnownKey[]): string | undefined {
  let found: string | undefined;
  for (const known of keys) if (timingSafeEqual(digest, known.digest)) found = known.key;
  return found;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
