/**
 * A full garbage collection in a gateway child on demand, for memory readings that hold live
 * objects only (benchmark 3, the soaks). The gateway is started with GC_PRELOAD, which loads
 * gc-on-signal.mjs beside it; nothing in the gateway itself changes.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { logEntries, type SpawnedGateway } from '../../test/support/process.js';

/** Node flags for the gateway child: `--expose-gc` and the SIGUSR2 hook. */
export const GC_PRELOAD = ['--expose-gc', '--import', pathToFileURL(join(import.meta.dirname, 'gc-on-signal.mjs')).href];

/** Sends SIGUSR2 and resolves once the gateway has written that its collection is done. */
export async function forceGc(gateway: Pick<SpawnedGateway, 'signal' | 'stdoutLines'>, timeoutMs = 10_000): Promise<void> {
  const done = () => logEntries(gateway).filter((e) => e.event === 'bench_gc');
  const before = done().length;
  gateway.signal('SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  while (done().length === before) {
    if (Date.now() > deadline) throw new Error(`the gateway did not report its forced GC within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const last = done().at(-1);
  if (last?.ok !== true) throw new Error(`the gateway could not GC: ${JSON.stringify(last)}`);
}
