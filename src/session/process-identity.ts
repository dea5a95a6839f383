import { readFileSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';

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

/**
 * Where to read the program `binary` that process `pid` runs, or undefined
 * when it runs something else. Natively that is `/proc/<pid>/exe`, which
 * still opens the file the process started from after a build replaced it
 * (Linux then appends ` (deleted)` to its name). Under an emulator
 * (qemu-user), `exe` is the emulator, which maps the program like any file:
 * the program is found among its mappings, and read from its path (the
 * build id, checked next, tells whether it is still the one that runs).
 */
export async function runningProgramOf(pid: number, binary: string): Promise<string | undefined> {
  const executable = await readlink(`/proc/${pid}/exe`).catch(() => undefined);
  if (executable === binary || executable === `${binary} (deleted)`) return `/proc/${pid}/exe`;
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
  const mapped = maps.split('\n').some((line) => line.endsWith(` ${binary}`));
  return mapped ? binary : undefined;
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
