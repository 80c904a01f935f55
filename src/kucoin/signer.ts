import { createHmac } from 'node:crypto';

export interface KucoinCredentials {
  key: string;
  secret: string;
  passphrase: string;
}

/** base64(HMAC-SHA256(secret, message)): KuCoin's one primitive (docs/kucoin.md "Signing and authentication"). */
export function hmacBase64(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message, 'utf8').digest('base64');
}

/**
 * The prehash is `timestamp + METHOD + path?rawQuery + body` (docs/kucoin.md "Signing and authentication"):
 * the query unencoded and in the order sent, the body the exact bytes sent ("" when none).
 * Callers pass the same strings they put on the wire, so what is signed is what is sent.
 */
export function prehash(timestamp: string, method: string, pathWithQuery: string, body: string): string {
  return `${timestamp}${method.toUpperCase()}${pathWithQuery}${body}`;
}

/** The KC-API-* headers of a private request. */
export function signedHeaders(
  credentials: KucoinCredentials,
  keyVersion: '2' | '3',
  timestamp: string,
  method: string,
  pathWithQuery: string,
  body: string,
): Record<string, string> {
  return {
    'KC-API-KEY': credentials.key,
    'KC-API-SIGN': hmacBase64(credentials.secret, prehash(timestamp, method, pathWithQuery, body)),
    'KC-API-TIMESTAMP': timestamp,
    // Key versions 2 and 3 send the passphrase HMAC'd with the secret, never in plain text.
    'KC-API-PASSPHRASE': signedPassphrase(credentials),
    'KC-API-KEY-VERSION': keyVersion,
  };
}

/** The passphrase's HMAC, the same for every request of a key: worked out once per credentials (one HMAC less per call). */
const passphrases = new WeakMap<KucoinCredentials, { secret: string; passphrase: string; signed: string }>();

function signedPassphrase(credentials: KucoinCredentials): string {
  const known = passphrases.get(credentials);
  if (known !== undefined && known.secret === credentials.secret && known.passphrase === credentials.passphrase) return known.signed;
  const signed = hmacBase64(credentials.secret, credentials.passphrase);
  passphrases.set(credentials, { secret: credentials.secret, passphrase: credentials.passphrase, signed });
  return signed;
}
