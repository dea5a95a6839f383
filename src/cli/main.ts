import { Command, CommanderError } from 'commander';
import { diffCommand } from './diff-command.js';
import { reportError } from './errors.js';

function buildProgram(): Command {
  const program = new Command('ipbp')
    .description('In-place binary patching for running Rust programs')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('diff')
    .description('Report which functions and data changed between two builds of a crate')
    .argument('<old>', 'an object file, an archive (.a, .rlib) or a directory of objects')
    .argument('<new>', 'the same, from the newer build')
    .option('--json', 'print one JSON object')
    .action(diffCommand);
  return program;
}

/** Runs the CLI; sets `process.exitCode` instead of exiting so cleanup still runs. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    reportError(error);
    process.exitCode = 1;
  }
}
