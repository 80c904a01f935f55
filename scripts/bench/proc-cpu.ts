/**
 * CPU time (user + system) a process has used so far, in ms, from /proc (Linux; 10 ms ticks):
 * unlike wall time it hardly moves when other work shares the machine. The main thread's share is
 * a start's critical path (what wall time would be on an idle machine); the whole process adds GC
 * and compiler threads. null where there is no /proc, or once the process is gone.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ, 100 on every Linux this runs on (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

function statCpuMs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces and parentheses:
  // state is field 3, utime 14 and stime 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

export function processCpuMs(pid: number): number | null {
  try {
    return statCpuMs(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
}

export function processAndMainThreadCpuMs(pid: number): { process: number; mainThread: number } | null {
  try {
    return { process: statCpuMs(`/proc/${pid}/stat`), mainThread: statCpuMs(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return null;
  }
}
