import type { Command } from 'commander';
import { runSession } from '../session/run-session.js';
import { type SessionFlags, sessionOptionsOf } from './run-command.js';

/**
 * `ipbp attach`: take over the app an `ipbp run` of this project left
 * running when it was killed, and go on patching it. Never starts one.
 */
export async function attachCommand(flags: SessionFlags, command: Command): Promise<void> {
  await runSession(
    {
      ...sessionOptionsOf(flags, command, 'attach'),
      attach: true,
      // Taken from the adopted session: what its app was started with.
      processes: 1,
      appArgs: [],
    },
    process.cwd(),
  );
}
