/**
 * KuCoin's request signature as KuCoin's server checks it, written for the simulator on its own.
 * It deliberately shares no code with the gateway's signer (src/kucoin/signer.ts): if both came
 * from one function, a mistake in it would be confirmed by the simulator instead of caught. Each
 * side is tested against KuCoin's published examples separately.
 *
 * Sources:
 * - DOC-AUTH, https://www.kucoin.com/docs-new/authentication "Signing a Message": KC-API-SIGN is
 *   the base64 of an HMAC-SHA256 keyed with the API secret over `{timestamp+method+endpoint+body}`;
 *   the method is upper case; for GET and DELETE the endpoint carries the query; the body is ""
 *   when there is none; "the URL must use the content that has not been URL-encoded"; for
 *   KC-API-PASSPHRASE the passphrase is HMAC-SHA256'd with the secret and base64-encoded.
 * - Kucoin/kucoin-universal-sdk `sdk/node/src/internal/infra/default_signer.ts` (`KcSigner.sign`:
 *   HMAC-SHA256 keyed with the secret's bytes, digest in base64; `headers`: timestamp + payload)
 *   and `default_transport.ts` (`processHeaders` signs `${method}${rawUrl}${body || ''}` where
 *   the query is `rawQuery`, the values unencoded, while the URL sent carries `encodeQuery`).
 * - Kucoin/kucoin-futures-api-docs `source/localizable/index.en.html.md` "Selecting Timestamp":
 *   KC-API-TIMESTAMP is milliseconds since the epoch and must differ from the server's time by
 *   less than 5 seconds.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** KuCoin's one primitive: base64(HMAC-SHA256(key = secret, message)), both taken as UTF-8. */
export function kucoinHmac(secret: string, message: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(message, 'utf8')).digest('base64');
}

/**
 * The request target as KuCoin signs it: path and query as they read before URL-encoding
 * (DOC-AUTH). `rawTarget` is the request-target received on the wire. Undefined when it holds a
 * broken percent-escape, which no signer could have produced from a decoded target.
 */
export function decodedTarget(rawTarget: string): string | undefined {
  try {
    return decodeURIComponent(rawTarget);
  } catch {
    return undefined;
  }
}

export interface ReceivedRequest {
  /** KC-API-TIMESTAMP as received: the prehash holds the header's text, not a re-formatted number. */
  timestamp: string;
  method: string;
  /** Path and query as received, still encoded. */
  rawTarget: string;
  /** The body's bytes as received, "" when there is none. */
  body: string;
}

/** The text KuCoin signs for a received request: timestamp + METHOD + decoded target + body. */
export function stringToSign(request: ReceivedRequest): string | undefined {
  const target = decodedTarget(request.rawTarget);
  if (target === undefined) return undefined;
  return [request.timestamp, request.method.toUpperCase(), target, request.body].join('');
}

/** The KC-API-SIGN a request must carry; undefined when its target cannot be decoded. */
export function expectedSignature(secret: string, request: ReceivedRequest): string | undefined {
  const text = stringToSign(request);
  return text === undefined ? undefined : kucoinHmac(secret, text);
}

/** The KC-API-PASSPHRASE a key of version 2 or 3 must carry (DOC-AUTH). */
export function expectedPassphrase(secret: string, passphrase: string): string {
  return kucoinHmac(secret, passphrase);
}

/** "Less than 5 seconds" from the server's time, either way (futures docs, "Selecting Timestamp"). */
export const TIMESTAMP_WINDOW_MS = 5_000;

/**
 * Whether KC-API-TIMESTAMP is whole milliseconds within the window around `serverNow`. Sixteen
 * digits bound the number well inside exact doubles, so no huge value rounds into the window.
 */
export function timestampWithinWindow(header: string, serverNow: number): boolean {
  if (!/^\d{1,16}$/.test(header)) return false;
  return Math.abs(Number(header) - serverNow) < TIMESTAMP_WINDOW_MS;
}

/**
 * Compares a received header with the expected value in time that depends on neither: both are
 * hashed to 32 bytes first, so not even a length mismatch returns early.
 */
export function sameCredential(received: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(received), digest(expected));
}
