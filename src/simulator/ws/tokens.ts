import { randomBytes } from 'node:crypto';

export type TokenKind = 'private' | 'public';
export type TokenVerdict = TokenKind | 'expired' | 'unknown';

interface IssuedToken {
  kind: TokenKind;
  issuedAt: number;
  revoked: boolean;
}

/** Above this many tokens, `issue` forgets the ones long past their lifetime (they then read 'unknown', still a 401). */
const SWEEP_ABOVE = 10_000;

/**
 * Bullet tokens (docs/kucoin.md "The private WebSocket"). KuCoin's token is valid for 24 h and a reconnect
 * with a stale one is refused with 401 (docs/kucoin.md "The private WebSocket").
 */
export class TokenRegistry {
  readonly #now: () => number;
  readonly #lifetimeMs: number;
  readonly #tokens = new Map<string, IssuedToken>();

  constructor(opts: { now: () => number; lifetimeMs: number }) {
    if (!(Number.isFinite(opts.lifetimeMs) && opts.lifetimeMs > 0)) {
      throw new RangeError(`lifetimeMs must be a positive number, got ${opts.lifetimeMs}`);
    }
    this.#now = opts.now;
    this.#lifetimeMs = opts.lifetimeMs;
  }

  issue(kind: TokenKind): string {
    if (this.#tokens.size >= SWEEP_ABOVE) this.#sweep();
    // 32 random bytes: unguessable; base64url keeps it safe in a query string.
    const token = randomBytes(32).toString('base64url');
    this.#tokens.set(token, { kind, issuedAt: this.#now(), revoked: false });
    return token;
  }

  check(token: string): TokenVerdict {
    const issued = this.#tokens.get(token);
    if (!issued) return 'unknown';
    if (issued.revoked || this.#now() - issued.issuedAt >= this.#lifetimeMs) return 'expired';
    return issued.kind;
  }

  /** Fault injection: every token issued so far is expired; later ones are not. */
  expireAll(): void {
    for (const issued of this.#tokens.values()) issued.revoked = true;
  }

  #sweep(): void {
    const cutoff = this.#now() - 2 * this.#lifetimeMs;
    for (const [token, issued] of this.#tokens) if (issued.issuedAt < cutoff) this.#tokens.delete(token);
  }
}
