/**
 * Checked reads of KuCoin payload objects. The payload types (src/kucoin/payloads.ts) only say what
 * the gateway expects; every read here checks it, so a value that is missing, of the wrong kind,
 * or not a finite number becomes an `UpstreamShapeError` naming the field (502
 * UPSTREAM_BAD_RESPONSE at the edge) rather than a NaN or an undefined in a response.
 */
import { toUserAsset } from '../symbols.js';
import { nsToMs } from './units.js';

/** KuCoin answered with a payload the gateway cannot map; the caller answers 502 UPSTREAM_BAD_RESPONSE. */
export class UpstreamShapeError extends Error {
  override name = 'UpstreamShapeError';
  readonly code = 'UPSTREAM_BAD_RESPONSE' as const;
  /** Where in the payload: `position.markPrice`, `orders.items.1.size`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

// Our Symbol and Asset schemas (openapi.yaml); a KuCoin value outside them cannot be answered.
const SYMBOL = /^[A-Z0-9]{2,30}$/;
const ASSET = /^[A-Z0-9]{1,15}$/;

export function assetOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ASSET.test(value)) throw new UpstreamShapeError(field, `KuCoin ${field} ${preview(value)} is not an asset code`);
  return toUserAsset(value);
}

export function symbolOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || !SYMBOL.test(value)) throw new UpstreamShapeError(field, `KuCoin ${field} ${preview(value)} is not a contract id`);
  return value;
}

export function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

// A plain decimal as KuCoin writes them; Number() alone would take "", " ", "0x10" and "Infinity".
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Checked reads of one KuCoin object; every failure names the field. */
export class Fields {
  readonly #raw: Record<string, unknown>;
  readonly #what: string;

  constructor(raw: unknown, what: string) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new UpstreamShapeError(what, `KuCoin ${what}: expected an object, got ${preview(raw)}`);
    }
    this.#raw = raw as Record<string, unknown>;
    this.#what = what;
  }

  error(key: string, problem: string): UpstreamShapeError {
    return new UpstreamShapeError(`${this.#what}.${key}`, `KuCoin ${this.#what}: ${key}: ${problem}`);
  }

  #bad(key: string, expected: string): never {
    throw this.error(key, `expected ${expected}, got ${preview(this.#raw[key])}`);
  }

  /** Present and not null. */
  has(key: string): boolean {
    return this.#raw[key] !== undefined && this.#raw[key] !== null;
  }

  #blank(key: string): boolean {
    const value = this.#raw[key];
    return value === undefined || value === null || value === '';
  }

  number(key: string): number {
    const value = this.#raw[key];
    let n = Number.NaN;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'string' && DECIMAL.test(value)) n = Number(value);
    if (!Number.isFinite(n)) this.#bad(key, 'a finite number');
    return n;
  }

  /** Absent, null or "" is null. */
  optionalNumber(key: string): number | null {
    return this.#blank(key) ? null : this.number(key);
  }

  /** A price, where KuCoin writes "0" or "" for none. */
  optionalPrice(key: string): number | null {
    const n = this.optionalNumber(key);
    if (n !== null && n < 0) this.#bad(key, 'a price ≥ 0');
    return n === 0 ? null : n;
  }

  integer(key: string): number {
    const n = this.number(key);
    if (!Number.isSafeInteger(n)) this.#bad(key, 'an integer');
    return n;
  }

  optionalInteger(key: string): number | null {
    return this.#blank(key) ? null : this.integer(key);
  }

  epochMs(key: string): number {
    const n = this.integer(key);
    if (n < 0) this.#bad(key, 'epoch milliseconds');
    return n;
  }

  optionalEpochMs(key: string): number | null {
    return this.#blank(key) ? null : this.epochMs(key);
  }

  /** Epoch nanoseconds (a number or a decimal string) to epoch ms. */
  epochNs(key: string): number {
    const value = this.#raw[key];
    if (typeof value !== 'number' && typeof value !== 'string') this.#bad(key, 'epoch nanoseconds');
    try {
      return nsToMs(value);
    } catch {
      return this.#bad(key, 'epoch nanoseconds');
    }
  }

  boolean(key: string): boolean {
    const value = this.#raw[key];
    if (typeof value !== 'boolean') this.#bad(key, 'true or false');
    return value;
  }

  string(key: string): string {
    const value = this.#raw[key];
    if (typeof value !== 'string' || value === '') this.#bad(key, 'a non-empty string');
    return value;
  }

  /** Absent, null or "" is null. */
  optionalString(key: string): string | null {
    return this.#blank(key) ? null : this.string(key);
  }

  oneOf<const T extends string>(key: string, values: readonly T[]): T {
    const value = this.#raw[key];
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) this.#bad(key, `one of ${values.join(', ')}`);
    return value as T;
  }

  symbol(key: string): string {
    return symbolOf(this.#raw[key], `${this.#what}.${key}`);
  }

  asset(key: string): string {
    return assetOf(this.#raw[key], `${this.#what}.${key}`);
  }

  array(key: string): unknown[] {
    const value = this.#raw[key];
    if (!Array.isArray(value)) this.#bad(key, 'an array');
    return value;
  }
}
