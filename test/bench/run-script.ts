/** Runs one benchmark script (scripts/bench/<name>.ts) as `npm run bench` would, bounded in time. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '..', '..');

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * SIGTERM at `deadlineMs`, so the script stops the servers it started by their pids; SIGKILL
 * 6 s later if even that hangs.
 */
export function runBenchScript(script: string, env: Record<string, string>, deadlineMs: number): Promise<ScriptRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/bench/${script}`], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const term = setTimeout(() => child.kill('SIGTERM'), deadlineMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), deadlineMs + 6_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolveRun({ code, stdout, stderr });
    });
  });
}
