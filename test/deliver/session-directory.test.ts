import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureSessionDirectory, sessionDirectoryExists, sessionDirectoryOf } from '../../src/deliver/session-directory.js';
import { PatchServer } from '../../src/deliver/server.js';
import { UserError } from '../../src/errors/user-error.js';

/**
 * The project's session directory is the same for every session (so that a
 * new one finds the app a killed one left), which means it may already
 * exist: it is used only if it is this user's private directory.
 */
describe('the per-project session directory', () => {
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ipbp-session-dir-'));
  });
  after(async () => rm(work, { recursive: true, force: true }));

  test('is the same for one project, differs between target directories and between workspaces sharing one, and its socket path fits sun_path', async () => {
    await mkdir(join(work, 'a'));
    await mkdir(join(work, 'b'));
    const a = await sessionDirectoryOf(work, join(work, 'a'));
    assert.equal(await sessionDirectoryOf(join(work, '.'), join(work, 'a', '.', '')), a);
    assert.notEqual(await sessionDirectoryOf(work, join(work, 'b')), a);
    assert.notEqual(await sessionDirectoryOf(join(work, 'b'), join(work, 'a')), a, 'a target directory shared by two workspaces');
    assert.ok(Buffer.byteLength(join(a, 'agent.sock')) <= 107);
  });

  test('is created with mode 0700, parent included, and reused as it is', async () => {
    const directory = join(work, 'user', 'project');
    await ensureSessionDirectory(directory);
    for (const path of [join(work, 'user'), directory]) assert.equal((await stat(path)).mode & 0o777, 0o700);
    await writeFile(join(directory, 'session.json'), '{}');
    await ensureSessionDirectory(directory);
    assert.ok(await sessionDirectoryExists(directory));
    assert.equal(await sessionDirectoryExists(join(work, 'user', 'other')), false);
  });

  test('a symlink in its place is refused, never followed', async () => {
    const target = join(work, 'elsewhere');
    await mkdir(target, { mode: 0o700 });
    await mkdir(join(work, 'linked'), { mode: 0o700 });
    await symlink(target, join(work, 'linked', 'project'));
    await assert.rejects(ensureSessionDirectory(join(work, 'linked', 'project')), (error: Error) => error instanceof UserError && /not a directory/.test(error.message));
    await assert.rejects(sessionDirectoryExists(join(work, 'linked', 'project')), UserError);
  });

  test('a directory others may enter is refused with a clear error', async () => {
    await mkdir(join(work, 'open', 'project'), { recursive: true });
    await chmod(join(work, 'open'), 0o700);
    await chmod(join(work, 'open', 'project'), 0o755);
    await assert.rejects(ensureSessionDirectory(join(work, 'open', 'project')), /refusing to use the session directory .*project: .* has mode 0755, expected 0700/);
  });

  test("another user's directory is refused", { skip: process.getuid?.() !== 0 && 'needs root to make a directory owned by someone else' }, async () => {
    await mkdir(join(work, 'theirs'), { mode: 0o700 });
    await chown(join(work, 'theirs'), 65534, 65534);
    await assert.rejects(ensureSessionDirectory(join(work, 'theirs', 'project')), /owned by uid 65534/);
  });

  test('a socket file a killed session left there is replaced, and closing removes the directory', async () => {
    const directory = join(work, 'server', 'project');
    await ensureSessionDirectory(directory);
    // Stands for the killed session: its socket file is still there.
    const killed = await PatchServer.start({ directory });
    const next = await PatchServer.start({ directory });
    assert.equal(next.socketPath, join(directory, 'agent.sock'));
    await next.close();
    await assert.rejects(stat(directory), { code: 'ENOENT' });
    await killed.close();
  });
});
