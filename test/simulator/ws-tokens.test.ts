import { describe, expect, it } from 'vitest';
import { TokenRegistry } from '../../src/simulator/ws/tokens.js';

function registry(lifetimeMs = 1_000) {
  const clock = { now: 0 };
  return { clock, tokens: new TokenRegistry({ now: () => clock.now, lifetimeMs }) };
}

describe('TokenRegistry', () => {
  it('issues url-safe, distinct tokens that remember their kind', () => {
    const { tokens } = registry();
    const priv = tokens.issue('private');
    const pub = tokens.issue('public');
    expect(priv).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(priv).not.toBe(pub);
    expect(tokens.check(priv)).toBe('private');
    expect(tokens.check(pub)).toBe('public');
  });

  it('does not know tokens it never issued', () => {
    expect(registry().tokens.check('made-up')).toBe('unknown');
  });

  it('expires a token after its lifetime (docs/kucoin.md "The private WebSocket")', () => {
    const { clock, tokens } = registry(1_000);
    const token = tokens.issue('private');
    clock.now = 999;
    expect(tokens.check(token)).toBe('private');
    clock.now = 1_000;
    expect(tokens.check(token)).toBe('expired');
  });

  it('expireAll expires every token issued so far, not later ones', () => {
    const { tokens } = registry();
    const before = tokens.issue('private');
    tokens.expireAll();
    const after = tokens.issue('public');
    expect(tokens.check(before)).toBe('expired');
    expect(tokens.check(after)).toBe('public');
  });

  it('refuses a lifetime that is not a positive number', () => {
    expect(() => new TokenRegistry({ now: Date.now, lifetimeMs: 0 })).toThrow(RangeError);
  });
});
