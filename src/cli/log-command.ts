import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readCargoWorkspace } from '../capture/cargo-metadata.js';
import { projectKey, sessionDirectoryOf } from '../deliver/session-directory.js';
import { UserError } from '../errors/user-error.js';
import { SessionLock } from '../session/session-lock.js';
import { logLine, readSessionLog, runningPids, sessionLogPath } from '../session/session-log.js';

export interface LogFlags {
  readonly manifestPath?: string;
  readonly targetDir?: string;
  readonly follow?: boolean;
}

/** How often `--follow` looks for new events. */
const FOLLOW_INTERVAL_MS = 200;

/**
 * The project's newest session: its log, and whether an `ipbp run` still
 * holds it. No log when the target directory does not exist: nothing ever
 * ran there.
 */
async function projectSession(flags: LogFlags): Promise<{ root: string; log: string | undefined; holder: number | undefined }> {
  const workspace = await readCargoWorkspace(flags.manifestPath, process.cwd(), { dependencies: false, targetDirectory: flags.targetDir });
  if (!(await stat(workspace.targetDirectory).catch(() => undefined))) return { root: workspace.root, log: undefined, holder: undefined };
  const directory = await sessionDirectoryOf(workspace.root, workspace.targetDirectory);
  const holder = await SessionLock.holderIn(join(workspace.targetDirectory, 'ipbp', 'sessions', await projectKey(workspace.root, workspace.targetDirectory)));
  return { root: workspace.root, log: sessionLogPath(directory), holder };
}

/** `ipbp log`: the patches (and compile errors, restarts, processes) of the project's newest session; `--follow` goes on as they come. */
export async function logCommand(flags: LogFlags): Promise<void> {
  const { root, log } = await projectSession(flags);
  const first = log === undefined ? undefined : await readSessionLog(log);
  if (log === undefined || !first) throw new UserError('no `ipbp run` of this project has left a log', 'no-session', ['start one with `ipbp run`; its patches are listed here']);
  let { events, next } = first;
  for (;;) {
    for (const event of events) {
      const line = logLine(event, root);
      if (line) process.stdout.write(`${line}\n`);
    }
    if (!flags.follow) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
    // Between two sessions the log may be gone a moment: keep the place, and look again.
    ({ events, next } = (await readSessionLog(log, next)) ?? { events: [], next });
  }
}

/** `ipbp status`: whether a session runs the project, its processes, and its last patch. */
export async function statusCommand(flags: LogFlags): Promise<void> {
  const { root, log, holder } = await projectSession(flags);
  const events = (log === undefined ? undefined : await readSessionLog(log))?.events ?? [];
  if (holder === undefined) {
    process.stdout.write(`no \`ipbp run\` is running this project${events.length > 0 ? `; the last one ended after ${events.at(-1)!.time}` : ''}\n`);
    return;
  }
  const pids = runningPids(events);
  process.stdout.write(`ipbp run (pid ${holder}) is running this project; ${pids.length > 0 ? `app pid ${pids.join(', ')}` : 'no app running'}\n`);
  const last = [...events].reverse().find((event) => event.event === 'patched');
  if (last) process.stdout.write(`last patch: ${logLine(last, root)}\n`);
}
