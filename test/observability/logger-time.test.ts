/**
 * The access log's timestamp is formatted once per second and the milliseconds appended
 * (logger.ts isoTime); it must read exactly as pino's own isoTime would, for every millisecond.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isoTime } from '../../src/observability/logger.js';

describe('log line timestamps', () => {
  it('match new Date(now).toISOString() across seconds, minutes, days and years', () => {
    const starts = [0, Date.UTC(2026, 11, 5, 2, 16, 59, 990), Date.UTC(2026, 11, 31, 23, 59, 59, 950), Date.UTC(2027, 0, 1, 0, 0, 0, 0)];
    for (const start of starts) {
      for (let now = start; now < start + 2_050; now += 7) {
        expect(isoTime(now)).toBe(`,"time":"${new Date(now).toISOString()}"`);
      }
    }
    // Going back in time (a clock step) and odd inputs still read right.
    expect(isoTime(Date.UTC(2020, 0, 1, 0, 0, 0, 5))).toBe(`,"time":"2020-01-01T00:00:00.005Z"`);
    expect(isoTime(1.5)).toBe(`,"time":"${new Date(1.5).toISOString()}"`);
  });

  it('is what a log line carries', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const before = Date.now();
    createLogger({ level: 'info', secrets: [], destination }).info('hello');
    const after = Date.now();
    const time = Date.parse((JSON.parse(lines[0]!) as { time: string }).time);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });
});
