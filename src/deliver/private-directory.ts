import type { Stats } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh directory only the current user can enter. The agent socket lives
 * in it, so the directory's permissions are what keeps other users from
 * sending code into the app: they are checked, not assumed.
 */
export async function createPrivateDirectory(parent = tmpdir()): Promise<string> {
  const directory = await mkdtemp(join(parent, 'ipbp-'));
  try {
    assertPrivate(directory, await stat(directory));
    return directory;
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Throws unless `info` (from `lstat`, so that a symlink is seen as one)
 * describes a real directory of this user with mode 0700.
 */
export function assertPrivate(directory: string, info: Stats): void {
  if (info.isSymbolicLink() || !info.isDirectory()) throw new Error(`${directory} is not a directory (a symlink or a file is never followed)`);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new Error(`${directory} is owned by uid ${info.uid}, not by this user (${uid})`);
  }
  const mode = info.mode & 0o777;
  if (mode !== 0o700) throw new Error(`${directory} has mode 0${mode.toString(8)}, expected 0700`);
}
