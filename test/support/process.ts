/**
 * The gateway as operators run it: `src/main.ts` in a child process, configured only through its
 * environment and the `.env` of its working directory, talked to over loopback.
 *
 *   const gw = await startGatewayProcess({ env: { FEATURE_FUTURES: 'true' } });
 *   await request(gw.baseUrl, 'GET', '/api/health');
 *   afterEach(stopGatewayProcesses);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { auditGatewayLog, secretsOfProcess } from './log-audit.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatewayProcessOptions {
  /** Added to a minimal environment (PATH and HOME only; NODE_OPTIONS is never passed on).
   *  PORT defaults to 0; HOST is always 127.0.0.1 so no test listens beyond this machine. */
  env?: Record<string, string>;
  /** Working directory, where main.ts looks for `.env`. Default: a fresh empty temp dir. */
  cwd?: string;
  /** What node runs: the gateway's source through tsx by default; `builtGateway()` or `simulator()` otherwise. */
  args?: string[];
}

/** A child process running main.ts, whether or not it got as far as listening. */
export interface SpawnedGateway {
  child: ChildProcess;
  pid: number;
  cwd: string;
  /** Every complete line written so far. */
  stdoutLines(): string[];
  stderrLines(): string[];
  /** Calls `listener` with each stdout line from now on; returns the unsubscribe function. */
  onStdoutLine(listener: (line: string) => void): () => void;
  /** Settles once the process has exited and its stdout/stderr are fully read. */
  exited: Promise<Exit>;
  /** Sends `signal` to the child by its pid (no-op once it has exited). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface GatewayProcess extends SpawnedGateway {
  port: number;
  baseUrl: string;
  wsUrl: string;
}

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
// An absolute URL, so `--import` resolves tsx from this project whatever the child's cwd is.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** `npm start`'s entry, as built by `npm run build`. */
export const builtGateway = (): string[] => [fileURLToPath(new URL('../../dist/main.js', import.meta.url))];
/** `npm run sim`: the KuCoin simulator, which logs the same `listening` line. */
export const simulator = (): string[] => ['--import', TSX_LOADER, fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url))];
const LISTEN_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;

const running = new Set<SpawnedGateway>();
const tempDirs = new Set<string>();

/**
 * A loopback port free right now (the OS's pick, released at once), for a process that must be
 * told its port up front (polled from its spawn, or logging too little to say which it took).
 */
export function freePort(): Promise<number> {
  return new Promise((found, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });
}

/** A fresh empty directory, removed by `stopGatewayProcesses`. */
export function makeTempDir(prefix = 'gateway-proc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Spawns main.ts and returns at once; use it for processes expected to exit on their own. */
export function spawnGatewayProcess(options: GatewayProcessOptions = {}): SpawnedGateway {
  const cwd = options.cwd ?? makeTempDir();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? cwd,
    PORT: '0',
    ...options.env,
    HOST: '127.0.0.1',
  };
  const args = options.args ?? ['--import', TSX_LOADER, MAIN];
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not spawn ${process.execPath} ${args.join(' ')}`);
  const pid = child.pid;
  const stdout = collectLines(child.stdout!);
  const stderr = collectLines(child.stderr!);
  // The simulator is not the gateway: only gateway processes are held to the no-secrets rule.
  if (!args.some((arg) => arg.includes('simulator'))) {
    const audit = auditGatewayLog(secretsOfProcess(env, cwd));
    stdout.subscribe(audit);
    stderr.subscribe(audit);
  }

  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    // 'close' rather than 'exit': it comes after stdout and stderr have ended, so no line is missing.
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });

  const signal = (name: NodeJS.Signals): void => {
    if (done) return;
    try {
      process.kill(pid, name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };

  const spawned: SpawnedGateway = {
    child,
    pid,
    cwd,
    stdoutLines: () => [...stdout.lines],
    stderrLines: () => [...stderr.lines],
    onStdoutLine: stdout.subscribe,
    exited,
    signal,
    async stop(graceMs = STOP_GRACE_MS) {
      signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (late) signal('SIGKILL');
      return exited;
    },
  };
  running.add(spawned);
  void exited.then(() => running.delete(spawned));
  return spawned;
}

/**
 * Spawns main.ts and resolves once it logs `"event":"listening"`; rejects, with what it wrote to
 * stderr, when it exits first or has not listened after 15 s.
 */
export async function startGatewayProcess(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const spawned = spawnGatewayProcess(options);
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`gateway process ${spawned.pid} ${why}\nstderr:\n${spawned.stderrLines().join('\n') || '(empty)'}\nstdout:\n${spawned.stdoutLines().join('\n') || '(empty)'}`));
    };
    const timer = setTimeout(() => {
      void spawned.stop(1_000);
      fail(`did not log "listening" within ${LISTEN_TIMEOUT_MS} ms`);
    }, LISTEN_TIMEOUT_MS);
    const unsubscribe = spawned.onStdoutLine((line) => {
      const entry = parseJsonLine(line);
      if (entry?.event === 'listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        unsubscribe();
        resolve(entry.port);
      }
    });
    void spawned.exited.then(({ code, signal }) => fail(`exited (code ${code}, signal ${signal}) before listening`));
  });
  return { ...spawned, port, baseUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` };
}

/**
 * For a gateway too quiet to log `listening` (LOG_LEVEL=warn): spawns it on a port free right now
 * and resolves once GET /api/health answers 200; rejects, with what it wrote, when it exits first
 * or has not answered after 15 s.
 */
export async function startQuietGatewayProcess(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const spawned = spawnGatewayProcess({ ...options, env: { ...options.env, PORT: String(port) } });
  const baseUrl = `http://127.0.0.1:${port}`;
  let exited = false;
  void spawned.exited.then(() => (exited = true));
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  for (;;) {
    const healthy = await fetch(`${baseUrl}/api/health`).then(
      async (res) => (await res.arrayBuffer(), res.status === 200),
      () => false,
    );
    if (healthy) return { ...spawned, port, baseUrl, wsUrl: `ws://127.0.0.1:${port}` };
    if (exited || Date.now() > deadline) {
      if (!exited) await spawned.stop(1_000);
      throw new Error(`gateway process ${spawned.pid} ${exited ? 'exited before answering' : `did not answer within ${LISTEN_TIMEOUT_MS} ms on`} /api/health\nstderr:\n${spawned.stderrLines().join('\n') || '(empty)'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops every child started by this module (by pid) and removes the temp dirs; for afterEach. */
export async function stopGatewayProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** The JSON object on a log line, or undefined when the line is not one. */
export function parseJsonLine(line: string): Record<string, any> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

/** The log entries (JSON lines) of a process, in order. */
export function logEntries(p: Pick<SpawnedGateway, 'stdoutLines'>): Record<string, any>[] {
  return p.stdoutLines().flatMap((line) => parseJsonLine(line) ?? []);
}

/** Resolves with the first log entry `match` accepts, waiting up to `timeoutMs` for it. */
export async function waitForLogEntry(
  p: Pick<SpawnedGateway, 'stdoutLines'>,
  match: (entry: Record<string, any>) => boolean,
  timeoutMs = 5_000,
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logEntries(p).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms; stdout:\n${p.stdoutLines().join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Splits a stream into lines as they arrive (a chunk may end mid-line). */
function collectLines(stream: NodeJS.ReadableStream) {
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const add = (line: string) => {
    lines.push(line);
    for (const listener of listeners) listener(line);
  };
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    parts.forEach(add);
  });
  stream.on('end', () => {
    if (partial !== '') add(partial);
    partial = '';
  });
  return {
    lines,
    subscribe(listener: (line: string) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
