import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('./fixtures/', import.meta.url);
const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
const readme = readFileSync(new URL('README.md', dir), 'utf8');

const EXPECTED = [
  'account-overview.json',
  'contract-xbtusdtm.json',
  'contracts-active.json',
  'cross-leverage.json',
  'error-100003.json',
  'error-100004.json',
  'error-300003.json',
  'error-300009.json',
  'error-300018.json',
  'error-330005.json',
  'error-400005.json',
  'error-429000.json',
  'error-500000.json',
  'funding-rate-current.json',
  'margin-mode.json',
  'order-cancel.json',
  'order-canceled.json',
  'order-placed.json',
  'order.json',
  'orders-active.json',
  'position-flat.json',
  'position-short-cross.json',
  'position.json',
  'positions.json',
  'risk-limit-xbtusdtm.json',
  'timestamp.json',
];

describe('KuCoin fixtures', () => {
  it('holds every endpoint and error case the gateway is tested with', () => {
    expect(files).toEqual(EXPECTED);
  });

  it.each(files)('%s is a KuCoin envelope: data iff code 200000, msg otherwise', (name) => {
    const body = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Record<string, unknown>;
    expect(typeof body.code).toBe('string');
    if (body.code === '200000') {
      expect(Object.keys(body).sort()).toEqual(['code', 'data']);
      expect(body.data).not.toBeUndefined();
    } else {
      expect(Object.keys(body).sort()).toEqual(['code', 'msg']);
      expect(typeof body.msg).toBe('string');
      expect(body.msg).not.toBe('');
      expect(name).toBe(`error-${String(body.code)}.json`);
    }
  });

  it.each(files)('%s has its provenance in README.md', (name) => {
    expect(readme).toContain(`\`${name}\``);
  });
});
