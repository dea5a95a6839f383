import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** One run of a local package's build script (a workspace member's, or a path dependency's), as cargo reported it. */
export interface BuildScriptRun {
  readonly package: string;
  readonly packageDirectory: string;
  /** The script's `OUT_DIR`; cargo keeps what the script printed in `../output`. */
  readonly outDir: string;
}

/**
 * Regular files the script's last run asked to be rerun for
 * (`cargo::rerun-if-changed`). Directories are left out: cargo compares every
 * file under them, and one of them may well hold the target directory that
 * every build rewrites.
 */
export async function rerunInputsOf(run: BuildScriptRun): Promise<string[]> {
  const text = await readFile(join(dirname(run.outDir), 'output'), 'utf8').catch(() => '');
  const files: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^cargo::?rerun-if-changed=(.+)$/.exec(line.trim());
    if (!match) continue;
    const path = resolve(run.packageDirectory, match[1]!);
    const kind = await stat(path).catch(() => undefined);
    if (kind?.isFile()) files.push(path);
  }
  return files;
}
