import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { argValue, codegenOption, type LinkRecord, type RustcRecord } from './capture-record.js';
import { readDepInfo } from './dep-info.js';

/**
 * Source files of crates that are linked into the program but are not
 * workspace members: path dependencies outside the workspace, or crates
 * checked out elsewhere. ipbp recompiles only workspace crates, so an edit to
 * one of these can only be applied by a fresh build; without watching them,
 * the edit would go unnoticed and the app would silently run stale code.
 *
 * Crates from cargo's registry and git checkouts (under `CARGO_HOME`) are
 * left out: they are not edited in place, and watching every file of every
 * dependency would cost more than it could ever catch. Files under the
 * target directory (build script outputs) change only with a rebuild.
 */
export async function externalCrateSources(link: LinkRecord, crates: readonly RustcRecord[], workspace: { readonly root: string; readonly targetDirectory: string }): Promise<string[]> {
  const captured = new Set(crates.map((record) => rlibOf(record)).filter((path): path is string => path !== undefined));
  const ignored = [cargoHome(), workspace.targetDirectory].map((directory) => resolve(directory) + sep);
  const files = new Set<string>();
  for (const arg of link.args) {
    if (!arg.endsWith('.rlib')) continue;
    const rlib = resolve(link.cwd, arg);
    if (captured.has(rlib)) continue;
    const depInfo = join(dirname(rlib), `${basename(rlib, '.rlib').replace(/^lib/, '')}.d`);
    for (const listed of await readDepInfo(depInfo).catch(() => [])) {
      // Cargo runs rustc from the workspace root: paths under it are relative, others absolute.
      const file = resolve(workspace.root, listed);
      if (!ignored.some((directory) => file.startsWith(directory))) files.add(file);
    }
  }
  return [...files];
}

function rlibOf(record: RustcRecord): string | undefined {
  const outDir = argValue(record.args, '--out-dir');
  if (!outDir) return undefined;
  return resolve(record.cwd, outDir, `lib${record.crateName}${codegenOption(record.args, 'extra-filename') ?? ''}.rlib`);
}

function cargoHome(): string {
  return process.env.CARGO_HOME || join(homedir(), '.cargo');
}
