/** The whole-run log audit (test/support/log-audit.ts) must be able to fail. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findLeakedSecrets, secretsOfProcess } from '../support/log-audit.js';

const dir = mkdtempSync(join(tmpdir(), 'log-audit-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('log audit', () => {
  it("finds a gateway's secret in its own lines and in another gateway's, and masks it", () => {
    const audit = join(dir, 'leaky');
    mkdirSync(audit);
    writeFileSync(join(audit, '1-0.log'), `${JSON.stringify(['secret-value-one'])}\n{"msg":"fine"}\n{"msg":"oops secret-value-one"}\n`);
    writeFileSync(join(audit, '1-1.log'), `${JSON.stringify([])}\n{"msg":"also secret-value-one here"}\n`);
    const { lines, gateways, leaks } = findLeakedSecrets(audit);
    expect({ lines, gateways }).toEqual({ lines: 3, gateways: 2 });
    expect(leaks).toHaveLength(2);
    for (const leak of leaks) expect(leak).not.toContain('secret-value-one');
  });

  it('passes clean lines', () => {
    const audit = join(dir, 'clean');
    mkdirSync(audit);
    writeFileSync(join(audit, '1-0.log'), `${JSON.stringify(['secret-value-two'])}\n{"msg":"[REDACTED]"}\n`);
    expect(findLeakedSecrets(audit).leaks).toEqual([]);
  });

  it("reads a process's secrets from its environment and its .env, comma lists split", () => {
    const cwd = join(dir, 'proc');
    mkdirSync(cwd);
    writeFileSync(join(cwd, '.env'), 'KUCOIN_FUTURES_SECRET="from-env-file-secret"\nPORT=3001\n');
    expect(secretsOfProcess({ GATEWAY_API_KEYS: 'key-aaaaaaaaaaaaaaaa,key-bbbbbbbbbbbbbbbb', PORT: '0' }, cwd).sort()).toEqual(
      ['from-env-file-secret', 'key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb'].sort(),
    );
  });
});
