import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { attachCommand } from './attach-command.js';
import { demoCommand } from './demo-command.js';
import { diffCommand } from './diff-command.js';
import { installLastResortHandlers } from './last-resort.js';
import { logCommand, statusCommand } from './log-command.js';
import { UserError } from '../errors/user-error.js';
import { reportError } from './report-error.js';
import { runCommand } from './run-command.js';

/** The package's version, as `ipbp --version` prints it (cargo's spelling: `ipbp 0.1.0`). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** Which project: the options every command that works on one takes, in cargo's spelling. */
function projectOptions(command: Command): Command {
  return command
    .option('--manifest-path <path>', 'path to Cargo.toml')
    .option('--target-dir <directory>', "cargo's target directory (as `cargo build --target-dir`; CARGO_TARGET_DIR works too)");
}

/** Which program of the project, as `cargo run` chooses it. */
function programOptions(command: Command): Command {
  return projectOptions(
    command
      .option('-p, --package <spec>', 'package to run')
      .option('--bin <name>', 'binary to run')
      .option('--example <name>', 'example to run'),
  );
}

/** What the session reports, and how. */
function sessionOptions(command: Command): Command {
  return command
    .option('--events <file>', 'write one JSON event per line to FILE (- for stdout)')
    .option('--no-restart', 'report changes that cannot be patched, and crashes, instead of restarting the app')
    .option('-q, --quiet', "print only the app's output and ipbp's warnings, errors and restarts (cargo's --quiet too)")
    .option('-v, --verbose', "say more: each patch's functions and crates (cargo's -v; -vv for cargo's -vv)", (_value: string, count: number) => count + 1, 0)
    .option('--no-keys', 'read no keys from the terminal: the app gets stdin, as under `cargo run`');
}

function buildProgram(): Command {
  const program = new Command('ipbp')
    .description('In-place binary patching for running Rust programs')
    .version(`ipbp ${packageVersion()}`, '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('diff')
    .description('Report which functions and data changed between two builds of a crate')
    .argument('<old>', 'an object file, an archive (.a, .rlib) or a directory of objects')
    .argument('<new>', 'the same, from the newer build')
    .option('--json', 'print one JSON object')
    .action(diffCommand);
  sessionOptions(
    programOptions(
      program
        .command('run')
        .description('Build a cargo project, run its program and patch every saved edit into it')
        .argument('[args...]', 'arguments for the program (after --)'),
    )
      .option('-F, --features <features>', 'features to activate')
      .option('-r, --release', 'build with the release profile')
      .option('--profile <name>', 'build with the given profile')
      .option('--target <triple>', 'build for the target triple (run through cargo\'s `runner` for it)')
      .option('--no-default-features', "do not activate the package's default features")
      .option('--all-features', 'activate all available features')
      .option('--locked', 'assert that Cargo.lock will remain unchanged')
      .option('--frozen', 'assert that Cargo.lock and the cache are up to date (--locked and --offline)')
      .option('--offline', 'run cargo without accessing the network')
      .option('-j, --jobs <n>', 'number of parallel cargo jobs')
      .option('--config <KEY=VALUE|PATH>', 'override a cargo configuration value (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
      .option('--processes <n>', 'start this many processes of the program', '1')
      .option('--listen <addr>', 'also accept agents over TCP at [HOST:]PORT (loopback unless a host is given); they must present the session token'),
  ).action(runCommand);
  sessionOptions(
    programOptions(program.command('attach').description('Take over the app of this project that a killed `ipbp run` left running, and patch it again')),
  ).action(attachCommand);
  projectOptions(
    program
      .command('log')
      .description("List the patches, compile errors and restarts of this project's newest `ipbp run`")
      .option('-f, --follow', 'go on listing them as they come'),
  ).action(logCommand);
  projectOptions(program.command('status').description('Say whether an `ipbp run` is running this project, its processes and its last patch')).action(statusCommand);
  program
    .command('demo')
    .description('Run the bundled example under ipbp and patch it live, twice')
    .action(demoCommand);
  return program;
}

/** The errors that are cargo's own failures. */
const CARGO_FAILURES = new Set(['build-failed', 'cargo-metadata']);

/** Runs the CLI; sets `process.exitCode` instead of exiting so cleanup still runs. */
export async function main(argv: readonly string[]): Promise<void> {
  installLastResortHandlers();
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    reportError(error);
    // Cargo's own code when cargo fails (`cargo run` exits 101 too, whether the build or reading the project failed); 1 for everything else.
    process.exitCode = error instanceof UserError && CARGO_FAILURES.has(error.code) ? 101 : 1;
  }
}
