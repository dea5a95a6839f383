import { readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';

/**
 * A process named by pid and start time: a pid alone may have been reused
 * by an unrelated process since it was written down.
 */
export interface ProcessIdentity {
  readonly pid: number;
  /** Clock ticks since boot when it started (`/proc/<pid>/stat`, field 22). */
  readonly startTicks: string | undefined;
}

/** Field 22 of `/proc/<pid>/stat`, after the parenthesised command name (which may hold spaces). */
export function startTicksOf(pid: number): string | undefined {
  return statFieldsOf(pid)?.[19];
}

/**
 * Whether the process still runs: it exists, is not a zombie waiting for
 * its new parent to reap it, and started when it was recorded.
 */
export function isRunning(identity: ProcessIdentity): boolean {
  const fields = statFieldsOf(identity.pid);
  if (!fields) return false;
  if (fields[0] === 'Z' || fields[0] === 'X') return false;
  return identity.startTicks === undefined || fields[19] === identity.startTicks;
}

/** The executable the process runs; Linux appends ` (deleted)` when that file was replaced since. */
export async function executableOf(pid: number): Promise<string | undefined> {
  return readlink(`/proc/${pid}/exe`).catch(() => undefined);
}

/** The fields of `/proc/<pid>/stat` from the state on (field 3), or undefined when there is no such process. */
function statFieldsOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
