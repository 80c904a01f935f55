import { describe, expect, it } from 'vitest';
import { WatchCounts } from '../../src/account/watch-counts.js';

describe('WatchCounts', () => {
  it('keeps a symbol while any owner watches it, through changes and departures', () => {
    const watches = new WatchCounts<string>();
    watches.set('a', ['XBTUSDTM', 'ETHUSDTM']);
    watches.set('b', ['XBTUSDTM']);
    expect([...watches.symbols()].sort()).toEqual(['ETHUSDTM', 'XBTUSDTM']);
    watches.set('a', ['SOLUSDTM']);
    expect([...watches.symbols()].sort()).toEqual(['SOLUSDTM', 'XBTUSDTM']);
    watches.delete('b');
    expect([...watches.symbols()]).toEqual(['SOLUSDTM']);
    watches.set('a', ['SOLUSDTM', 'SOLUSDTM']);
    watches.delete('a');
    watches.delete('a');
    expect(watches.symbols().size).toBe(0);
  });
});
