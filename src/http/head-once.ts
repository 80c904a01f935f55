import { ServerResponse, validateHeaderName, validateHeaderValue, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';

/**
 * Response headers kept by the response itself until its head is written, then handed to node in
 * ONE `writeHead(status, [name, value, ...])`.
 *
 * Node builds the header block directly from what `writeHead` is given only when no header was set
 * before (its "fast case"); once `setHeader` has been called, every header goes through its own
 * store (a lower-cased key per header in a dictionary object) and is walked again to build the
 * block. The gateway sets ~17 headers per answer (the security headers, the request id, the
 * limiter's two, the answer's own): one by one they cost ~5 µs a request where one `writeHead`
 * with a flat array costs ~2 µs (a micro-benchmark of node 20's `writeHead`), the gap benchmark 1
 * measured between the gateway's and the stack's header handling.
 *
 * `keepHeadersUntilHead(proto)` overrides, on a response prototype (the app's, express-server.ts),
 * every method that reads or writes the headers of a response not yet written: `setHeader` (and
 * through it `setHeaders`, Express's `res.set`...), `appendHeader`, `getHeader`, `hasHeader`,
 * `getHeaders`, `getHeaderNames`, `getRawHeaderNames`, `removeHeader`, and `writeHead` (node's
 * implicit head, from `end` or `write`, calls it too). So every writer of an answer — the
 * gateway's own `sendJson`, Express's `res.send`, the docs pages, `/metrics`, finalhandler — sends
 * every header set before it, and every reader sees them, exactly as with node's own store: a later
 * set of the same name (any case) replaces the earlier one in place, `writeHead`'s own headers
 * replace those set before, names and values are validated when set (node's own checks and
 * errors), and after the head is written the headers sent can still be read.
 */

interface Pending {
  /** Lower-cased names, index i naming flat[2i] / flat[2i + 1]. */
  lower: string[];
  /** [name as set, value, name, value...]: what `writeHead` is given. */
  flat: unknown[];
}

/** Headers worked out once (validated when made) and added to a response in one step. */
export interface HeaderPreset {
  readonly lower: readonly string[];
  readonly flat: readonly unknown[];
}

const PENDING = Symbol('pendingHeaders');
type Held = ServerResponse & { [PENDING]?: Pending };
/** Node's own methods (Express's response defines none of these), typed loosely: they are called with whatever the overrides were given. */
const base = ServerResponse.prototype as unknown as {
  setHeader(this: ServerResponse, name: string, value: unknown): ServerResponse;
  appendHeader(this: ServerResponse, name: string, value: unknown): ServerResponse;
  getHeader(this: ServerResponse, name: string): OutgoingHttpHeader | undefined;
  hasHeader(this: ServerResponse, name: string): boolean;
  getHeaderNames(this: ServerResponse): string[];
  getRawHeaderNames(this: ServerResponse): string[];
  getHeaders(this: ServerResponse): OutgoingHttpHeaders;
  removeHeader(this: ServerResponse, name: string): void;
  writeHead(this: ServerResponse, statusCode: number, reason?: unknown, obj?: unknown): ServerResponse;
};
/**
 * True while node's own writeHead runs for a held response. Should node find its own header store
 * in use (something called its prototype's setHeader directly), it takes its "slow case" and sets
 * each header it was given with `this.setHeader`: those calls then go to node's store, so the head
 * holds everything either way.
 */
let inNodeWriteHead = false;

/** A preset from name → value; throws as `setHeader` would on a bad name or value. */
export function headerPreset(headers: Iterable<readonly [string, string]>): HeaderPreset {
  const lower: string[] = [];
  const flat: unknown[] = [];
  for (const [name, value] of headers) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    place(lower, flat, name.toLowerCase(), name, value);
  }
  return { lower, flat };
}

/** `res.setHeader` for each of the preset's headers; in one step when none was set before and `res` holds its headers. */
export function addHeaders(res: ServerResponse, preset: HeaderPreset): void {
  const held = res as Held;
  if (held[PENDING] === undefined && res.writeHead === writeHead && !res.headersSent) {
    held[PENDING] = { lower: preset.lower.slice(), flat: preset.flat.slice() };
    return;
  }
  for (let i = 0; i < preset.lower.length; i++) res.setHeader(preset.flat[2 * i] as string, preset.flat[2 * i + 1] as string);
}

/** Installs the overrides on `proto`, a response prototype whose chain reaches node's ServerResponse. */
export function keepHeadersUntilHead(proto: ServerResponse): void {
  const methods = { setHeader, appendHeader, getHeader, hasHeader, getHeaderNames, getRawHeaderNames, getHeaders, removeHeader, writeHead };
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: method, writable: true, configurable: true, enumerable: false });
  }
}

/** Sets `name` (lower-cased `key`) in a held list: a later set of the same name replaces the earlier one in place, as node's store does. */
function place(lower: string[], flat: unknown[], key: string, name: string, value: unknown): void {
  const at = lower.indexOf(key);
  if (at === -1) {
    lower.push(key);
    flat.push(name, value);
  } else {
    flat[2 * at] = name;
    flat[2 * at + 1] = value;
  }
}

function put(res: Held, key: string, name: string, value: unknown): void {
  const pending = (res[PENDING] ??= { lower: [], flat: [] });
  place(pending.lower, pending.flat, key, name, value);
}

function setHeader(this: Held, name: string, value: number | string | readonly string[]): Held {
  // Written already (node's own method throws its ERR_HTTP_HEADERS_SENT), or node's slow case.
  if (this.headersSent || inNodeWriteHead) return base.setHeader.call(this, name, value) as Held;
  validateHeaderName(name);
  validateHeaderValue(name, value as string);
  put(this, name.toLowerCase(), name, value);
  return this;
}

function appendHeader(this: Held, name: string, value: string | readonly string[]): Held {
  if (this.headersSent || inNodeWriteHead) return base.appendHeader.call(this, name, value) as Held;
  validateHeaderName(name);
  validateHeaderValue(name, value as string);
  const key = name.toLowerCase();
  const pending = this[PENDING];
  const at = pending === undefined ? -1 : pending.lower.indexOf(key);
  if (pending === undefined || at === -1) {
    put(this, key, name, value);
    return this;
  }
  // As node: the value becomes a list and the new value(s) join it.
  const current = pending.flat[2 * at + 1];
  const values: unknown[] = Array.isArray(current) ? current : [current];
  if (Array.isArray(value)) values.push(...(value as string[]));
  else values.push(value);
  pending.flat[2 * at + 1] = values;
  return this;
}

function getHeader(this: Held, name: string): OutgoingHttpHeader | undefined {
  const pending = this[PENDING];
  if (pending === undefined || typeof name !== 'string') return base.getHeader.call(this, name);
  const at = pending.lower.indexOf(name.toLowerCase());
  return at === -1 ? undefined : (pending.flat[2 * at + 1] as OutgoingHttpHeader);
}

function hasHeader(this: Held, name: string): boolean {
  const pending = this[PENDING];
  if (pending === undefined || typeof name !== 'string') return base.hasHeader.call(this, name);
  return pending.lower.includes(name.toLowerCase());
}

function getHeaderNames(this: Held): string[] {
  const pending = this[PENDING];
  return pending === undefined ? base.getHeaderNames.call(this) : pending.lower.slice();
}

function getRawHeaderNames(this: Held): string[] {
  const pending = this[PENDING];
  if (pending === undefined) return base.getRawHeaderNames.call(this);
  const names: string[] = [];
  for (let i = 0; i < pending.flat.length; i += 2) names.push(pending.flat[i] as string);
  return names;
}

function getHeaders(this: Held): OutgoingHttpHeaders {
  const pending = this[PENDING];
  if (pending === undefined) return base.getHeaders.call(this);
  const headers = Object.create(null) as OutgoingHttpHeaders;
  for (let i = 0; i < pending.lower.length; i++) headers[pending.lower[i] as string] = pending.flat[2 * i + 1] as OutgoingHttpHeader;
  return headers;
}

function removeHeader(this: Held, name: string): void {
  // node's own method throws once written, checks the name, and notes the removal of Connection,
  // Content-Length, Transfer-Encoding and Date (which it would otherwise add itself).
  base.removeHeader.call(this, name);
  const pending = this[PENDING];
  if (pending === undefined) return;
  const at = pending.lower.indexOf(name.toLowerCase());
  if (at === -1) return;
  pending.lower.splice(at, 1);
  pending.flat.splice(2 * at, 2);
}

type Given = OutgoingHttpHeaders | OutgoingHttpHeader[];

function writeHead(this: Held, statusCode: number, reason?: string | Given, obj?: Given): Held {
  const pending = this[PENDING];
  if (pending === undefined || this.headersSent) return callNode(this, statusCode, reason, obj);
  const given = typeof reason === 'string' ? obj : (obj ?? reason);
  let lower = pending.lower;
  let flat = pending.flat;
  if (given !== undefined && given !== null) {
    // Copies: should node refuse a header (it checks every one here), nothing was taken.
    lower = lower.slice();
    flat = flat.slice();
    forEachGiven(given, (name, value) => place(lower, flat, name.toLowerCase(), name, value));
  }
  if (typeof reason === 'string') callNode(this, statusCode, reason, flat);
  else callNode(this, statusCode, flat, undefined);
  // Kept, so that what was sent can still be read (node keeps its store after the head too).
  pending.lower = lower;
  pending.flat = flat;
  return this;
}

function callNode(res: Held, statusCode: number, reason: unknown, obj: unknown): Held {
  inNodeWriteHead = true;
  try {
    // Called with as many arguments as given: node tells `writeHead(status, headers)` from `writeHead(status, reason, headers)` by the reason's type.
    return (obj === undefined ? base.writeHead.call(res, statusCode, reason) : base.writeHead.call(res, statusCode, reason, obj)) as Held;
  } finally {
    inNodeWriteHead = false;
  }
}

/** writeHead's headers as node takes them: an object, a flat [name, value...] list, or a list of pairs. Falsy names are skipped, as node does. */
function forEachGiven(given: Given, each: (name: string, value: unknown) => void): void {
  if (Array.isArray(given)) {
    if (given.length > 0 && Array.isArray(given[0])) {
      for (const pair of given as unknown as [string, unknown][]) if (pair[0]) each(pair[0], pair[1]);
      return;
    }
    for (let i = 0; i + 1 < given.length; i += 2) if (given[i]) each(given[i] as string, given[i + 1]);
    return;
  }
  for (const name of Object.keys(given)) if (name) each(name, given[name]);
}
