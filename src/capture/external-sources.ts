import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { depInfoFileName, type LinkRecord, type RustcRecord, rlibFileName, rustcOutputs } from './capture-record.js';
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
  const captured = new Set(
    crates.map((record) => {
      const { outDir, stem } = rustcOutputs(record);
      return resolve(record.cwd, outDir, rlibFileName(stem));
    }),
  );
  const ignored = [cargoHome(), workspace.targetDirectory].map((directory) => resolve(directory) + sep);
  const files = new Set<string>();
  for (const arg of link.args) {
    if (!arg.endsWith('.rlib')) continue;
    const rlib = resolve(link.cwd, arg);
    if (captured.has(rlib)) continue;
    const depInfo = join(dirname(rlib), depInfoFileName(basename(rlib, '.rlib').replace(/^lib/, '')));
    for (const listed of await readDepInfo(depInfo).catch(() => [])) {
      // Cargo runs rustc from the workspace root: paths under it are relative, others absolute.
      const file = resolve(workspace.root, listed);
      if (!ignored.some((directory) => file.startsWith(directory))) files.add(file);
    }
  }
  return [...files];
}

function cargoHome(): string {
  return process.env.CARGO_HOME || join(homedir(), '.cargo');
}
