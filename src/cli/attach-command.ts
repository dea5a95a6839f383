import { runSession } from '../session/run-session.js';
import { UserError } from '../errors/user-error.js';

export interface AttachFlags {
  readonly package?: string;
  readonly bin?: string;
  readonly example?: string;
  readonly manifestPath?: string;
  readonly events?: string;
  readonly restart: boolean;
}

/**
 * `ipbp attach`: take over the app an `ipbp run` of this project left
 * running when it was killed, and go on patching it. Never starts one.
 */
export async function attachCommand(flags: AttachFlags): Promise<void> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new UserError(`ipbp attach supports Linux x86_64 only so far (this is ${process.platform} ${process.arch})`, 'unsupported-platform');
  }
  if (flags.bin && flags.example) throw new UserError('--bin and --example exclude each other', 'bad-flag');
  await runSession(
    {
      attach: true,
      package: flags.package,
      bin: flags.bin,
      example: flags.example,
      manifestPath: flags.manifestPath,
      events: flags.events,
      restart: flags.restart,
      // Taken from the adopted session: what its app was started with.
      processes: 1,
      appArgs: [],
    },
    process.cwd(),
  );
}
