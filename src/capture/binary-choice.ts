import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors/user-error.js';
import type { CargoWorkspace, WorkspaceMember } from './cargo-metadata.js';

/**
 * Refuses a selection `cargo run` could not run, before anything is built:
 * several binaries and none chosen (no `--bin`, `--example` or
 * `default-run`) among the candidate packages.
 */
export async function checkBinaryChoice(workspace: CargoWorkspace, selection: ProgramSelection, cwd: string): Promise<void> {
  if (selection.bin || selection.example) return;
  const packages = await candidatePackages(workspace, selection, cwd);
  if (packages.length === 1 && packages[0]!.defaultRun) return;
  const binaries = [...new Set(packages.flatMap((pkg) => pkg.binaries))].sort();
  if (binaries.length <= 1) return;
  throw new UserError(
    '`ipbp run` could not determine which binary to run: use the `--bin` option to choose one, or the `default-run` manifest key',
    'several-binaries',
    [`available binaries: ${binaries.join(', ')}`],
  );
}

/** What names the program to run, as `cargo run` takes it. */
export interface ProgramSelection {
  readonly package?: string | undefined;
  readonly bin?: string | undefined;
  readonly example?: string | undefined;
  readonly manifestPath?: string | undefined;
}

/**
 * The packages `cargo run` picks the program from: the one `-p` names, else
 * the one whose manifest cargo finds from the working directory (or
 * `--manifest-path`), else, from a virtual workspace root, every member.
 */
export async function candidatePackages(workspace: CargoWorkspace, selection: ProgramSelection, cwd: string): Promise<WorkspaceMember[]> {
  const manifest = selection.manifestPath ? resolve(cwd, selection.manifestPath) : await nearestManifest(cwd);
  // `-p` takes a package ID spec: `name`, `name@version`, a URL ending in `#name@version`.
  const name = selection.package?.replace(/^.*#/, '').replace(/@.*$/, '');
  const named = name === undefined ? undefined : workspace.localPackages.find((pkg) => pkg.name === name);
  const current = workspace.members.find((member) => member.manifestPath === manifest);
  return named ? [named] : current ? [current] : [...workspace.members];
}

/** The Cargo.toml cargo reads from `directory`: there, or in the nearest directory above. */
async function nearestManifest(directory: string): Promise<string | undefined> {
  for (let current = resolve(directory); ; current = dirname(current)) {
    const candidate = join(current, 'Cargo.toml');
    if (await access(candidate).then(() => true, () => false)) return candidate;
    if (dirname(current) === current) return undefined;
  }
}
