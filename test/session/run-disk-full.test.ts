import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { IpbpRun } from '../support/ipbp-run.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** Writes zeros to `path` until the filesystem is full. */
async function fillUp(path: string): Promise<void> {
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close();
  }
}

/**
 * ipbp's session directory (the captured build, the compiler's output for
 * each edit, the patch libraries) on a small tmpfs of its own, which the
 * test fills up: a real full disk, not a mock. The edit made meanwhile
 * fails with a clear error and the app keeps running; once space is freed,
 * the next edit is patched.
 */
describe('a full disk under the session directory (examples/ticker)', { skip: isRoot ? false : 'mounting a small tmpfs needs root' }, () => {
  let mountPoint: string;
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'ipbp-small-disk-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mountPoint]);
    session = await IpbpRun.start('ticker', [], { TMPDIR: mountPoint });
    pid = await session.untilRunning(/^hello from tick \d+$/);
  });
  after(async () => {
    await session?.remove();
    if (mountPoint) {
      await run('umount', [mountPoint]).catch(() => undefined);
      await rm(mountPoint, { recursive: true, force: true });
    }
  });

  test('an edit while the disk is full fails, saying so, and the app keeps running its code', async () => {
    await fillUp(join(mountPoint, 'filler'));
    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("no room for {tick}")');
    const failure = await session.waitForEvent((event) => event.event === 'compile-error' || event.event === 'patch-failed');
    // rustc says so itself, or dies of a signal writing a memory-mapped file, which ipbp tells apart by the free space.
    assert.match(String(failure.message), /No space left on device|the disk holding .* is full/);
    const from = session.stdout.length;
    await session.waitForLine(/^hello from tick \d+$/, from);
    assert.equal(session.exited, false);
  });

  test('once space is freed, the next edit is patched into the same process', async () => {
    await rm(join(mountPoint, 'filler'));
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'format!("no room for {tick}")', 'format!("room again at {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    await session.waitForLine(/^room again at \d+$/, from);
  });
});
