import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors/user-error.js';
import { assertPrivate } from './private-directory.js';

/** Linux's `sun_path` holds 108 bytes, the final NUL included. */
export const MAX_SOCKET_PATH_BYTES = 107;
export const SOCKET_NAME = 'agent.sock';

/**
 * What names one project: its workspace and its target directory. Both,
 * because one target directory may serve many workspaces (a global
 * `CARGO_TARGET_DIR`), and each of them is a project of its own.
 */
export async function projectKey(workspaceRoot: string, targetDirectory: string): Promise<string> {
  const paths = await Promise.all([realpath(workspaceRoot), realpath(targetDirectory)]);
  return createHash('sha256').update(paths.join('\0')).digest('hex').slice(0, 16);
}

/**
 * Where one project's session lives: `<tmp>/ipbp-<uid>/<project key>/`. The
 * path is the same for every session of the project, so that an app whose
 * `ipbp run` was killed (its agent keeps reconnecting to the socket there)
 * is found again by the next `ipbp run` or `ipbp attach`. Falls back to /tmp
 * when TMPDIR is too long for a socket path.
 */
export async function sessionDirectoryOf(workspaceRoot: string, targetDirectory: string): Promise<string> {
  const project = await projectKey(workspaceRoot, targetDirectory);
  const user = `ipbp-${process.getuid?.() ?? 'user'}`;
  for (const base of [tmpdir(), '/tmp']) {
    const directory = join(base, user, project);
    if (Buffer.byteLength(join(directory, SOCKET_NAME)) <= MAX_SOCKET_PATH_BYTES) return directory;
  }
  throw new UserError(`no socket path under ${tmpdir()} or /tmp fits in ${MAX_SOCKET_PATH_BYTES} bytes`, 'socket-path-too-long');
}

/**
 * Whether the session directory exists; if it does, it (and its parent)
 * must be this user's private directories, or ipbp refuses to use them.
 */
export async function sessionDirectoryExists(directory: string): Promise<boolean> {
  for (const path of [join(directory, '..'), directory]) {
    const info = await lstat(path).catch(() => undefined);
    if (!info) return false;
    checked(path, info);
  }
  return true;
}

/**
 * Creates the session directory and its per-user parent with mode 0700, or
 * checks the ones that exist. A directory another user prepared (or a
 * symlink planted in its place) is refused: whoever controls it could
 * listen on the socket and send code into the app.
 */
export async function ensureSessionDirectory(directory: string): Promise<void> {
  for (const path of [join(directory, '..'), directory]) {
    try {
      await mkdir(path, { mode: 0o700 });
      // mkdir's mode is filtered through the umask; set it exactly, before anything goes in.
      await chmod(path, 0o700);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    checked(path, await lstat(path));
  }
}

function checked(path: string, info: Stats): void {
  try {
    assertPrivate(path, info);
  } catch (error) {
    throw new UserError(`refusing to use the session directory ${path}: ${(error as Error).message}`, 'unsafe-session-directory', [
      'it must be a directory of yours with mode 0700; remove it if you did not create it',
    ]);
  }
}
