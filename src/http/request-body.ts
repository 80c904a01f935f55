import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseContentType } from 'content-type';
import { GatewayError } from '../errors.js';

/**
 * The content codings the gateway decodes (RFC 9110 §8.4.1): exactly the ones body-parser can,
 * minus `zstd`, which only some Node versions decode; naming the set here keeps the answer the
 * same whatever Node the gateway runs on. `identity` stands for "no coding".
 */
export const ACCEPTED_CONTENT_CODINGS: readonly string[] = ['identity', 'gzip', 'deflate', 'br'];

/** The coding a request declares, lower-cased (codings are case-insensitive, RFC 9110 §8.4.1). */
export function contentCodingOf(headers: IncomingHttpHeaders): string {
  return (headers['content-encoding'] || 'identity').trim().toLowerCase();
}

/**
 * A declared Content-Length over the limit is refused from the headers alone, before a byte of the
 * body is read. The limit holds for the bytes as sent as well as decoded. The answer closes the
 * connection (RFC 9110 §15.5.14), so neither side waits for, or reads, the rest of the body.
 */
export function refuseOversize(headers: IncomingHttpHeaders, limitBytes: number): GatewayError | undefined {
  const declared = Number(headers['content-length'] ?? 0);
  if (declared <= limitBytes) return undefined;
  return new GatewayError('PAYLOAD_TOO_LARGE', `The request body (${headers['content-length']} bytes declared) is larger than the ${limitBytes} bytes the gateway accepts.`, {
    headers: { Connection: 'close' },
  });
}

/** A coding or charset the gateway does not read, refused before the body is read. */
export function refuseEncoding(headers: IncomingHttpHeaders): GatewayError | undefined {
  const coding = contentCodingOf(headers);
  if (!ACCEPTED_CONTENT_CODINGS.includes(coding)) {
    return new GatewayError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${printable(coding)}" is not accepted: send one of ${ACCEPTED_CONTENT_CODINGS.join(', ')}.`);
  }
  // JSON exchanged between systems must be UTF-8 (RFC 8259 §8.1). Parsed with the parser
  // body-parser uses, so both read the same charset out of the same header.
  const charset = parseContentType(headers['content-type'] ?? '').parameters.charset?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8') {
    return new GatewayError('UNSUPPORTED_MEDIA_TYPE', `charset "${printable(charset)}" is not accepted: JSON bodies must be UTF-8.`);
  }
  return undefined;
}

/** body-parser's typed errors (their `type`), as the caller's errors. */
export function typedBodyError(error: unknown): GatewayError | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.too.large':
      return new GatewayError('PAYLOAD_TOO_LARGE', 'The request body is larger than the gateway accepts.', { headers: { Connection: 'close' } });
    case 'entity.parse.failed':
      return new GatewayError('MALFORMED_JSON', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be UTF-8 application/json.');
    case 'request.aborted':
    case 'request.size.invalid':
      return new GatewayError('VALIDATION_FAILED', 'The request body was incomplete.', {
        errors: [{ location: 'body', field: '', message: 'is incomplete' }],
      });
    default:
      return undefined;
  }
}

/**
 * Whatever reading a body failed with, as the caller's error: it comes from the caller's bytes
 * (their size, coding or syntax) or their side of the connection, so each is a 4xx.
 */
export function bodyReadError(error: unknown, coding: string): GatewayError | undefined {
  const typed = typedBodyError(error);
  if (typed || !(error instanceof Error) || (error as { type?: unknown }).type !== undefined) return typed;
  // The decompression stream's own errors (zlib's Z_DATA_ERROR for a corrupt body, Z_BUF_ERROR
  // "unexpected end of file" for a truncated one, brotli's decoder errors) carry no `type`.
  if (coding !== 'identity') return new GatewayError('MALFORMED_JSON', `The request body could not be decoded (${coding}).`);
  // Any other failure of the request stream while it is read (a reset connection): body-parser
  // marks each one 400.
  if ((error as { status?: unknown }).status === 400) return new GatewayError('MALFORMED_JSON', 'The request body could not be read.');
  return undefined;
}

/** A header value echoed in a detail: bounded, printable ASCII only. */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
