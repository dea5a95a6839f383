import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../errors/user-error.js';
import { candidatePackages, type ProgramSelection } from './binary-choice.js';
import type { CargoWorkspace } from './cargo-metadata.js';

/**
 * A project's defaults for `ipbp run`, from `[workspace.metadata.ipbp]` and
 * the run package's `[package.metadata.ipbp]` (which wins, key by key). The
 * command line wins over both.
 */
export interface ProjectSettings {
  /** The program's arguments when `ipbp run` is given none after `--`. */
  readonly args?: readonly string[] | undefined;
  /** Files (absolute) whose save restarts the app on a fresh build: what it reads at startup. */
  readonly watch: readonly string[];
  /** Files and folders (absolute) whose saves are neither patched nor restart anything. */
  readonly ignore: readonly string[];
  /** `restart = false` is `--no-restart`. */
  readonly restart?: boolean | undefined;
  /** Keys ipbp does not know: a misspelt one must not go unnoticed. */
  readonly unknownKeys: readonly string[];
}

export const NO_SETTINGS: ProjectSettings = { watch: [], ignore: [], unknownKeys: [] };

const KEYS = ['args', 'watch', 'ignore', 'restart'];

/**
 * Reads and checks the tables. Paths are relative to the manifest that
 * holds them; a folder in `watch` stands for the files below it when the
 * build starts. A table that is not as described is a `UserError` naming
 * the manifest and the key.
 */
export async function readProjectSettings(workspace: CargoWorkspace, selection: ProgramSelection, cwd: string): Promise<ProjectSettings> {
  const candidates = await candidatePackages(workspace, selection, cwd);
  // Several candidates (a virtual root, no -p): the program's own package is the one holding the binary asked for, if any.
  const pkg = candidates.length === 1 ? candidates[0] : candidates.find((candidate) => selection.bin !== undefined && candidate.binaries.includes(selection.bin));
  const tables = [
    { where: `[workspace.metadata.ipbp] of ${relative(cwd, join(workspace.root, 'Cargo.toml')) || 'Cargo.toml'}`, directory: workspace.root, table: workspace.ipbpTable },
    ...(pkg ? [{ where: `[package.metadata.ipbp] of ${relative(cwd, pkg.manifestPath)}`, directory: dirname(pkg.manifestPath), table: pkg.ipbpTable }] : []),
  ];
  let settings: ProjectSettings = NO_SETTINGS;
  for (const { where, directory, table } of tables) {
    if (table === undefined) continue;
    if (!isTable(table)) throw badSetting(where, 'the table', 'a table of settings');
    const unknownKeys = Object.keys(table).filter((key) => !KEYS.includes(key)).map((key) => `\`${key}\` in ${where}`);
    settings = {
      args: table.args === undefined ? settings.args : stringsOf(table.args, where, 'args'),
      watch: table.watch === undefined ? settings.watch : await filesBelow(stringsOf(table.watch, where, 'watch').map((path) => resolve(directory, path))),
      ignore: table.ignore === undefined ? settings.ignore : stringsOf(table.ignore, where, 'ignore').map((path) => resolve(directory, path)),
      restart: table.restart === undefined ? settings.restart : booleanOf(table.restart, where, 'restart'),
      unknownKeys: [...settings.unknownKeys, ...unknownKeys],
    };
  }
  return settings;
}

/** Whether `file` lies at or below one of `paths`. */
export function isBelowAny(file: string, paths: readonly string[]): boolean {
  return paths.some((path) => file === path || file.startsWith(`${path}/`));
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringsOf(value: unknown, where: string, key: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw badSetting(where, `\`${key}\``, 'an array of strings');
  return value as string[];
}

function booleanOf(value: unknown, where: string, key: string): boolean {
  if (typeof value !== 'boolean') throw badSetting(where, `\`${key}\``, 'true or false');
  return value;
}

function badSetting(where: string, what: string, expected: string): UserError {
  return new UserError(`${what} in ${where} must be ${expected}`, 'bad-settings', [
    'ipbp reads `args` (an array of strings), `watch` and `ignore` (arrays of paths) and `restart` (true or false) there',
  ]);
}

/** Each path, or the files below it if it is a folder; a path that does not exist yet is watched as a file. */
async function filesBelow(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const stats = await stat(path).catch(() => undefined);
    if (!stats?.isDirectory()) {
      files.push(path);
      continue;
    }
    for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
    }
  }
  return files;
}
