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
    const info = await stat(directory);
    const mode = info.mode & 0o777;
    if (!info.isDirectory() || mode !== 0o700) {
      throw new Error(`${directory} has mode 0${mode.toString(8)}, expected 0700`);
    }
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      throw new Error(`${directory} is owned by uid ${info.uid}, not by this user (${uid})`);
    }
    return directory;
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}
