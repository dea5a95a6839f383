import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type RunOptions, runSession } from '../session/run-session.js';
import { UserError } from '../errors/user-error.js';

/** The options `ipbp run` and `ipbp attach` share: which project and program, and how the session reports. */
export interface SessionFlags {
  readonly package?: string;
  readonly bin?: string;
  readonly example?: string;
  readonly manifestPath?: string;
  readonly targetDir?: string;
  readonly events?: string;
  readonly restart: boolean;
  readonly quiet?: boolean;
  /** How many times `-v` was given. */
  readonly verbose: number;
  /** False under `--no-keys`. */
  readonly keys: boolean;
}

export interface RunFlags extends SessionFlags {
  readonly features?: string;
  readonly release?: boolean;
  readonly profile?: string;
  readonly target?: string;
  readonly processes: string;
  readonly listen?: string;
  /** False under `--no-default-features`. */
  readonly defaultFeatures: boolean;
  readonly allFeatures?: boolean;
  readonly locked?: boolean;
  readonly frozen?: boolean;
  readonly offline?: boolean;
  readonly jobs?: string;
  readonly config: string[];
}

/** `ipbp run`: build, start and hot-patch a cargo project's program. */
export async function runCommand(appArgs: string[], flags: RunFlags, command: Command): Promise<void> {
  const processes = Number(flags.processes);
  if (!Number.isInteger(processes) || processes < 1 || processes > 64) throw new UserError('--processes takes a whole number from 1 to 64', 'bad-flag');
  if (flags.release && flags.profile !== undefined && flags.profile !== 'release') {
    throw new UserError(`conflicting usage of --profile=${flags.profile} and --release`, 'bad-flag', ['the `--release` flag is the same as `--profile=release`; remove one flag or the other']);
  }
  const listen = flags.listen === undefined ? undefined : parseListenAddress(flags.listen);
  const appExitCode = await runSession(
    {
      ...sessionOptionsOf(flags, command, 'run'),
      listen,
      features: flags.features,
      profile: flags.release ? 'release' : flags.profile,
      target: flags.target,
      cargoFlags: cargoFlagsOf(flags),
      processes,
      appArgs,
    },
    process.cwd(),
  );
  // As `cargo run`: the program's own exit code is the command's.
  if (appExitCode !== undefined) process.exitCode = appExitCode;
}

/**
 * What `ipbp run` and `ipbp attach` take alike. `--no-restart` counts only
 * when given, so that a project's `restart = false` can stand otherwise.
 */
export function sessionOptionsOf(
  flags: SessionFlags,
  command: Command,
  name: string,
): Pick<RunOptions, 'package' | 'bin' | 'example' | 'manifestPath' | 'targetDir' | 'events' | 'restart' | 'verbosity' | 'keys'> {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
    throw new UserError(`ipbp ${name} supports Linux on x86_64 and aarch64 only so far (this is ${process.platform} ${process.arch})`, 'unsupported-platform');
  }
  if (flags.bin && flags.example) throw new UserError('--bin and --example exclude each other', 'bad-flag');
  if (flags.quiet && flags.verbose > 0) throw new UserError('cannot set both --verbose and --quiet', 'bad-flag');
  return {
    package: flags.package,
    bin: flags.bin,
    example: flags.example,
    manifestPath: flags.manifestPath,
    targetDir: flags.targetDir === undefined ? undefined : resolve(flags.targetDir),
    events: flags.events,
    restart: command.getOptionValueSource('restart') === 'cli' ? flags.restart : undefined,
    verbosity: flags.quiet ? -1 : flags.verbose,
    keys: flags.keys,
  };
}

/** The build flags `ipbp run` hands to cargo as they are, in cargo's own spelling. */
function cargoFlagsOf(flags: RunFlags): string[] {
  const args: string[] = [];
  if (!flags.defaultFeatures) args.push('--no-default-features');
  if (flags.allFeatures) args.push('--all-features');
  if (flags.locked) args.push('--locked');
  if (flags.frozen) args.push('--frozen');
  if (flags.offline) args.push('--offline');
  if (flags.jobs !== undefined) {
    if (!/^-?\d+$/.test(flags.jobs) || Number(flags.jobs) === 0) throw new UserError(`--jobs takes a whole number other than 0, not ${flags.jobs}`, 'bad-flag');
    args.push('--jobs', flags.jobs);
  }
  for (const setting of flags.config) args.push('--config', setting);
  return args;
}

/** `PORT` (loopback) or `HOST:PORT`; binding beyond loopback takes an explicit host. */
function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port > 65535) throw new UserError(`--listen takes [HOST:]PORT, not ${text}`, 'bad-flag');
  const host = (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}
