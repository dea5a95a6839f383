import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors/user-error.js';
import { isRunning, type ProcessIdentity, startTicksOf } from './process-identity.js';

/**
 * One `ipbp run` per project: two sessions would share `<target>/ipbp`,
 * overwrite each other's builds and patch each other's processes with
 * objects that do not match. The lock is a file holding the owner's pid;
 * one left by a session that was killed (its pid is gone) is taken over.
 */
export class SessionLock {
  private released = false;
  private readonly releaseOnExit = (): void => this.releaseNow();

  private constructor(
    readonly path: string,
    /** The pid of a killed session whose lock this one took over. */
    readonly staleHolder: number | undefined,
  ) {
    // A session that throws past its cleanup must not keep the project locked.
    process.once('exit', this.releaseOnExit);
  }

  /** The pid of the live `ipbp run` holding the lock in `directory`, if one does. */
  static async holderIn(directory: string): Promise<number | undefined> {
    const text = await readFile(join(directory, 'run.lock'), 'utf8').catch(() => undefined);
    const holder = text === undefined ? undefined : parseHolder(text);
    return holder && isRunning(holder) ? holder.pid : undefined;
  }

  static async acquire(directory: string): Promise<SessionLock> {
    await mkdir(directory, { recursive: true });
    const path = join(directory, 'run.lock');
    const mine = JSON.stringify({ pid: process.pid, startTicks: startTicksOf(process.pid) });
    let staleHolder: number | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await writeFile(path, `${mine}\n`, { flag: 'wx' });
        return new SessionLock(path, staleHolder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) continue; // Released meanwhile.
      const holder = parseHolder(text);
      if (holder && isRunning(holder)) {
        throw new UserError(`another \`ipbp run\` (pid ${holder.pid}) is running this project`, 'project-locked', [
          `${path} is held by pid ${holder.pid}; stop that session (Ctrl-C) first`,
        ]);
      }
      if (!holder) {
        // Being written by a session starting right now: give it a moment.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const again = await readFile(path, 'utf8').catch(() => undefined);
        if (again !== text) continue;
      }
      // Only remove the stale lock we read, not one another session just wrote.
      if ((await readFile(path, 'utf8').catch(() => undefined)) === text) {
        await unlink(path).catch(() => undefined);
        staleHolder = holder?.pid ?? 0;
      }
    }
    throw new UserError(`cannot take the session lock ${path}`, 'project-locked', ['another `ipbp run` keeps taking it']);
  }

  async release(): Promise<void> {
    this.releaseNow();
  }

  private releaseNow(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.releaseOnExit);
    try {
      const holder = parseHolder(readFileSync(this.path, 'utf8'));
      if (holder?.pid === process.pid) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}

/** What the lock file says about the `ipbp run` holding it (its start time, so a recycled pid is not taken for it). */
function parseHolder(text: string): ProcessIdentity | undefined {
  try {
    const value = JSON.parse(text) as { pid?: unknown; startTicks?: unknown };
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return { pid: value.pid, startTicks: typeof value.startTicks === 'string' ? value.startTicks : undefined };
  } catch {
    return undefined;
  }
}
