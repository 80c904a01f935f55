// Preloaded into the gateway by scripts/bench/fan-out.ts (`node --expose-gc --import <this> dist/main.js`):
// SIGUSR2 runs a full garbage collection, then writes one JSON line to stdout so the bench knows it
// is done before it reads /metrics. Nothing else; the gateway itself is unchanged.
import { writeSync } from 'node:fs';

let collections = 0;
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc !== 'function') {
    writeSync(1, `${JSON.stringify({ event: 'bench_gc', ok: false, reason: 'start node with --expose-gc' })}\n`);
    return;
  }
  // Twice: the first pass may leave objects that only become unreachable once finalizers ran.
  globalThis.gc();
  globalThis.gc();
  collections += 1;
  writeSync(1, `${JSON.stringify({ event: 'bench_gc', ok: true, n: collections })}\n`);
});
