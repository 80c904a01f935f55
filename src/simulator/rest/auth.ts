/**
 * KuCoin's check of a private request (kucoin-futures.md §1), using the gateway's own primitives
 * (src/kucoin/signer.ts) so both sides agree by construction and the §1 test vectors cover both.
 *
 * - The prehash is `timestamp + METHOD + path?query + body` with the URL **not** URL-encoded
 *   (DOC-AUTH), so the request target is decoded before hashing; the body is the bytes received.
 * - Order of checks (KuCoin's is not documented): headers present (400001), key known (400003),
 *   timestamp within 5 s (400002), key version 2|3 and the key's own (400009), passphrase (400004),
 *   signature (400005).
 * - HTTP status: 400002 is HTTP 400 (kucoin-python-sdk#82, §2); 400004 and 400005 arrive as HTTP
 *   401 in user reports (kucoin-api-docs issues, JKorf/Kucoin.Net#61, hummingbot#6707). The others
 *   are not reported: 400003 and 400001 take 401 (OLD: "401 invalid key"), 400009 takes 400.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { hmacBase64, prehash } from '../../kucoin/signer.js';

export interface SimCredentials {
  key: string;
  secret: string;
  passphrase: string;
  keyVersion: '2' | '3';
}

export interface AuthFailure {
  status: number;
  code: string;
  msg: string;
}

/** §1: KC-API-TIMESTAMP must be within 5 s of server time. */
export const TIMESTAMP_TOLERANCE_MS = 5_000;

const fail = (status: number, code: string, msg: string): AuthFailure => ({ status, code, msg });

export const authFailures = {
  missing: fail(401, '400001', 'Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE'),
  timestamp: fail(400, '400002', 'KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds'),
  key: fail(401, '400003', 'KC-API-KEY not exists'),
  passphrase: fail(401, '400004', 'Invalid KC-API-PASSPHRASE'),
  sign: fail(401, '400005', 'Invalid KC-API-SIGN'),
  version: fail(400, '400009', 'Invalid KC-API-KEY-VERSION'),
} as const;

/** The request target as it is signed: path and query URL-decoded (DOC-AUTH); undefined if it cannot be decoded. */
export function signedTarget(rawUrl: string): string | undefined {
  try {
    return decodeURIComponent(rawUrl);
  } catch {
    return undefined;
  }
}

/** The KC-API-SIGN a request must carry. */
export function expectedSign(secret: string, timestamp: string, method: string, rawUrl: string, body: string): string | undefined {
  const target = signedTarget(rawUrl);
  return target === undefined ? undefined : hmacBase64(secret, prehash(timestamp, method, target, body));
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface SignedRequest {
  method: string;
  /** `req.url` as received: path and query, still encoded. */
  rawUrl: string;
  body: string;
  headers: IncomingHttpHeaders;
}

export function verifySignedRequest(request: SignedRequest, credentials: SimCredentials, serverNow: number): AuthFailure | undefined {
  const key = header(request.headers, 'KC-API-KEY');
  const sign = header(request.headers, 'KC-API-SIGN');
  const timestamp = header(request.headers, 'KC-API-TIMESTAMP');
  const passphrase = header(request.headers, 'KC-API-PASSPHRASE');
  const version = header(request.headers, 'KC-API-KEY-VERSION');
  if (!key || !sign || !timestamp || !passphrase) return authFailures.missing;
  if (key !== credentials.key) return authFailures.key;
  const ts = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!Number.isFinite(ts) || Math.abs(ts - serverNow) > TIMESTAMP_TOLERANCE_MS) return authFailures.timestamp;
  // v1 keys (plain passphrase, no version header) were retired in 2021 (§1 "API key versions").
  if (version !== credentials.keyVersion) return authFailures.version;
  if (!same(passphrase, hmacBase64(credentials.secret, credentials.passphrase))) return authFailures.passphrase;
  const want = expectedSign(credentials.secret, timestamp, request.method, request.rawUrl, request.body);
  if (want === undefined || !same(sign, want)) return authFailures.sign;
  return undefined;
}
