/**
 * KuCoin's check of a private request. The signature itself is computed by the simulator's own
 * code (./kucoin-signature.ts), never by the gateway's signer, so the two can disagree.
 *
 * - Order of checks (KuCoin's is not documented): headers present (400001), key known (400003),
 *   timestamp within the window (400002), key version 2|3 and the key's own (400009), passphrase
 *   (400004), signature (400005).
 * - HTTP status: 400002 is HTTP 400 (Kucoin/kucoin-python-sdk#82); 400004 and 400005 arrive as
 *   HTTP 401 in user reports (JKorf/Kucoin.Net#61, hummingbot/hummingbot#6707). The others are not
 *   reported: 400003 and 400001 take 401 (the HTTP status table of Kucoin/kucoin-futures-api-docs
 *   gives 401 to an invalid key), 400009 takes 400.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { expectedPassphrase, expectedSignature, sameCredential, timestampWithinWindow } from './kucoin-signature.js';

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

const fail = (status: number, code: string, msg: string): AuthFailure => ({ status, code, msg });

export const authFailures = {
  missing: fail(401, '400001', 'Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE'),
  timestamp: fail(400, '400002', 'KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds'),
  key: fail(401, '400003', 'KC-API-KEY not exists'),
  passphrase: fail(401, '400004', 'Invalid KC-API-PASSPHRASE'),
  sign: fail(401, '400005', 'Invalid KC-API-SIGN'),
  version: fail(400, '400009', 'Invalid KC-API-KEY-VERSION'),
} as const;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

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
  if (!timestampWithinWindow(timestamp, serverNow)) return authFailures.timestamp;
  // v1 keys (plain passphrase, no version header) were retired in 2021; DOC-AUTH describes only
  // the HMAC'd passphrase of versions 2 and 3.
  if (version !== credentials.keyVersion) return authFailures.version;
  if (!sameCredential(passphrase, expectedPassphrase(credentials.secret, credentials.passphrase))) return authFailures.passphrase;
  const want = expectedSignature(credentials.secret, { timestamp, method: request.method, rawTarget: request.rawUrl, body: request.body });
  if (want === undefined || !sameCredential(sign, want)) return authFailures.sign;
  return undefined;
}
