/** `npm run sim` as operators and scripts run it: one ready line on stdout, SIGTERM → exit 0. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function spawnSim(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', TSX, MAIN], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const reader = createInterface({ input: child.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.event === 'listening') resolve(entry);
    });
    child.once('exit', () => reject(new Error(`exited before listening: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, lines, ready, exited, stderr: () => stderr };
}

it('logs {"event":"listening","port":N} when ready, answers, and exits 0 on SIGTERM', async () => {
  const sim = spawnSim({ SIM_PORT: '0', SIM_SEED: '5' });
  const ready = await sim.ready;
  expect(ready).toMatchObject({ event: 'listening', port: expect.any(Number), host: '127.0.0.1', seed: 5 });
  const response = await fetch(`http://127.0.0.1:${ready.port as number}/api/v1/timestamp`);
  expect(((await response.json()) as { code: string }).code).toBe('200000');
  sim.child.kill('SIGTERM');
  expect(await sim.exited).toBe(0);
  expect(sim.lines.map((l) => JSON.parse(l).event)).toEqual(['listening', 'stopped']);
});

it('a bad setting stops the start with one line naming the variable', async () => {
  const sim = spawnSim({ SIM_KEY_VERSION: '1' });
  await expect(sim.ready).rejects.toThrow();
  expect(await sim.exited).toBe(1);
  expect(sim.stderr()).toBe('SIM_KEY_VERSION must be 2 or 3, got "1"\n');
});
