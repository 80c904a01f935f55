/** Runs one benchmark script (scripts/bench/<name>.ts) as `npm run bench` would, bounded in time. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

export const projectRoot = resolve(import.meta.dirname, '..', '..');

/** A temporary folder for a smoke test's reports, removed after that file's tests. */
export function reportDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** BENCH_SKIP_BUILD for a smoke test: `npm test` builds dist/ first; a bare vitest run without it builds. */
export const skipBuild = (): '1' | '0' => (existsSync(join(projectRoot, 'dist', 'main.js')) ? '1' : '0');

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
