import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'smol-toml';
import { UserError } from '../errors/user-error.js';

/**
 * The command cargo would run the program through (`target.<triple>.runner`),
 * as `cargo run` finds it: `CARGO_TARGET_<TRIPLE>_RUNNER`, then `--config`
 * values, then the `.cargo/config.toml` files from the working directory up
 * to the root, then `$CARGO_HOME/config.toml`; the first that sets it wins.
 * Undefined when none does: the program runs by itself.
 *
 * A runner set under `target.'cfg(…)'` is not read (cargo evaluates the cfg
 * against the target): ipbp says so rather than run the program without it.
 */
export async function targetRunnerOf(triple: string, cwd: string, configArgs: readonly string[]): Promise<string[] | undefined> {
  const variable = `CARGO_TARGET_${triple.toUpperCase().replace(/[-.]/g, '_')}_RUNNER`;
  const fromEnvironment = process.env[variable];
  if (fromEnvironment) return splitCommand(fromEnvironment);
  for (const setting of configArgs) {
    const table = parseConfigArgument(setting);
    const runner = table && runnerIn(table, triple, cwd, '--config');
    if (runner) return runner;
  }
  for (const file of configFiles(cwd)) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    let table: Record<string, unknown>;
    try {
      table = parse(text) as Record<string, unknown>;
    } catch {
      continue; // cargo, which read it first for the build, reports a malformed file
    }
    // Relative program paths are relative to the folder holding `.cargo`.
    const runner = runnerIn(table, triple, dirname(dirname(file)), file);
    if (runner) return runner;
  }
  return undefined;
}

function runnerIn(table: Record<string, unknown>, triple: string, base: string, source: string): string[] | undefined {
  const targets = (table.target ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const value = targets[triple]?.runner;
  if (value === undefined) {
    const conditional = Object.keys(targets).find((key) => key.startsWith('cfg(') && targets[key]?.runner !== undefined);
    if (conditional) {
      throw new UserError(`${source} sets a runner under target.'${conditional}', which ipbp cannot evaluate`, 'unsupported-runner', [
        `set it under [target.${triple}] instead, or in CARGO_TARGET_${triple.toUpperCase().replace(/[-.]/g, '_')}_RUNNER`,
      ]);
    }
    return undefined;
  }
  const words = typeof value === 'string' ? splitCommand(value) : Array.isArray(value) && value.every((word) => typeof word === 'string') ? (value as string[]) : undefined;
  if (!words || words.length === 0) throw new UserError(`${source}: target.${triple}.runner must be a string or an array of strings`, 'bad-runner');
  const [program, ...args] = words as [string, ...string[]];
  return [program.includes('/') && !isAbsolute(program) ? resolve(base, program) : program, ...args];
}

/** `--config KEY=VALUE` is one TOML line; a path names a file, which cargo reads as a config file of its own. */
function parseConfigArgument(setting: string): Record<string, unknown> | undefined {
  try {
    return parse(setting) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Cargo's config files, nearest first: `.cargo/config.toml` (or the older `.cargo/config`) in each folder up from `cwd`, then cargo's home. */
function configFiles(cwd: string): string[] {
  const files: string[] = [];
  for (let directory = resolve(cwd); ; directory = dirname(directory)) {
    files.push(join(directory, '.cargo', 'config.toml'), join(directory, '.cargo', 'config'));
    if (dirname(directory) === directory) break;
  }
  const home = process.env.CARGO_HOME ?? join(homedir(), '.cargo');
  files.push(join(home, 'config.toml'), join(home, 'config'));
  return files;
}

/** Cargo splits a runner given as one string on whitespace, without shell quoting. */
function splitCommand(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}
