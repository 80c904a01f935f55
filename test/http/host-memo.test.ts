/**
 * hostAllowed keeps its verdict per Host value (host-origin.ts): the memo must answer exactly what
 * parsing every time answers, stay bounded whatever Hosts a client invents, and never be asked for
 * an absolute-form target, whose authority is not the Host header.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HOST_VERDICTS_KEPT, hostAllowed, type HostOriginPolicy } from '../../src/edge/host-origin.js';

const policy: HostOriginPolicy = { allowedHosts: ['localhost', '127.0.0.1', '[::1]', 'gw.example.com'], allowedOrigins: [], trustProxy: false };
const req = (host: string | undefined, url = '/api/health') => ({ url, headers: host === undefined ? {} : { host }, socket: {} }) as unknown as IncomingMessage;

describe('the Host verdict memo', () => {
  const cases: [string | undefined, boolean][] = [
    ['localhost:3001', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['[::1]:80', true],
    ['gw.example.com.', true],
    ['evil.example', false],
    ['evil.example@127.0.0.1', false],
    ['127.0.0.1 ', true],
    ['', false],
    [undefined, false],
  ];

  it('answers as a fresh parse does, the first time and every time after', () => {
    for (let round = 0; round < 3; round++) {
      for (const [host, allowed] of cases) expect(hostAllowed(policy, req(host)), `${host} round ${round}`).toBe(allowed);
    }
  });

  it('keeps answering right past its bound (many invented Hosts)', () => {
    for (let i = 0; i < HOST_VERDICTS_KEPT * 3; i++) {
      expect(hostAllowed(policy, req(`attacker-${i}.example`))).toBe(false);
      if (i % 97 === 0) {
        expect(hostAllowed(policy, req('localhost:3001'))).toBe(true);
        expect(hostAllowed(policy, req('evil.example'))).toBe(false);
      }
    }
  });

  it('judges an absolute-form target by its authority, not by a Host the memo has seen', () => {
    expect(hostAllowed(policy, req('localhost'))).toBe(true);
    expect(hostAllowed(policy, req('localhost', 'http://evil.example/api/health'))).toBe(false);
    expect(hostAllowed(policy, req('evil.example', 'http://localhost:3001/api/health'))).toBe(true);
  });

  it('accepts every Host when the policy says any', () => {
    expect(hostAllowed({ ...policy, allowedHosts: 'any' }, req('whatever.example'))).toBe(true);
  });
});
