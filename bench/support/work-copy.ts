import { readFileSync, unlinkSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compiled to dist/bench/support/, so the repository root is three levels up. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const APPS_DIRECTORY = join(tmpdir(), 'ipbp-bench-apps');

/**
 * One benchmark run at a time owns the work copies: a second run would
 * reset the sources under the first one's running sessions. The lock file
 * holds the owner's pid; a lock left by a dead process is taken over.
 */
export async function lockWorkCopies(): Promise<void> {
  const lock = join(APPS_DIRECTORY, 'lock');
  await mkdir(APPS_DIRECTORY, { recursive: true });
  try {
    await writeFile(lock, String(process.pid), { flag: 'wx' });
  } catch {
    const owner = Number(readFileSync(lock, 'utf8'));
    if (owner !== process.pid && isAlive(owner)) throw new Error(`another benchmark run (pid ${owner}) is using ${APPS_DIRECTORY}; wait for it to finish`);
    await writeFile(lock, String(process.pid));
  }
  process.once('exit', () => {
    try {
      if (Number(readFileSync(lock, 'utf8')) === process.pid) unlinkSync(lock);
    } catch {
      // Already gone: nothing to release.
    }
  });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of `examples/<example>` to build, run and edit; the repository's
 * examples are never touched. The copy lives at a fixed path under the
 * system temp directory and keeps its `target/` between benchmark runs:
 * dependencies (tokio, axum, …) are then built once, and symbol hashes,
 * which embed the package path, stay the same. The sources are restored
 * from the example on every run, so each run starts from `[rev 0]`.
 */
export async function freshWorkCopy(example: string): Promise<string> {
  const directory = join(APPS_DIRECTORY, example);
  await mkdir(directory, { recursive: true });
  for (const entry of await readdir(directory)) {
    if (entry !== 'target') await rm(join(directory, entry), { recursive: true, force: true });
  }
  const source = join(ROOT, 'examples', example);
  await cp(source, directory, { recursive: true, filter: (path) => !path.startsWith(join(source, 'target')) });
  return directory;
}

/**
 * The benchmark's edit: `[rev N]` becomes `[rev N+1]` in one file, whose
 * function then prints (or serves) the new revision. Returns the
 * performance.now() just before the write, when the edit "happens".
 */
export async function bumpRevision(directory: string, file: string, to: number): Promise<number> {
  return replaceOnce(directory, file, `[rev ${to - 1}]`, `[rev ${to}]`);
}

export async function replaceOnce(directory: string, file: string, from: string, to: string): Promise<number> {
  const path = join(directory, file);
  const text = await readFile(path, 'utf8');
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`${file} must contain ${from} exactly once`);
  const editedAt = performance.now();
  await writeFile(path, text.slice(0, at) + to + text.slice(at + from.length));
  return editedAt;
}
