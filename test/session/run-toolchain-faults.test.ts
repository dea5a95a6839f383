import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { killChildrenRunning } from '../support/child-killer.js';
import { IpbpRun } from '../support/ipbp-run.js';
import { countEvents, waitForNthEvent } from '../support/restart-demo.js';

const run = promisify(execFile);

describe('the compiler or the linker killed while they work on an edit (examples/ticker)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('ticker');
    pid = await session.untilRunning(/^hello from tick \d+$/);
  });
  after(async () => session?.remove());

  test('is reported as such, and the app keeps running its current code', async () => {
    const killer = killChildrenRunning('rustc', session.child.pid!);
    try {
      await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("never compiled {tick}")');
      const failed = await session.waitForEvent((event) => event.event === 'patch-failed');
      assert.match(String(failed.message), /^rustc was killed \(SIGKILL\) while compiling ticker\nsave again to compile it again$/);
    } finally {
      assert.ok((await killer.stop()) > 0, 'rustc was killed');
    }
    const from = session.stdout.length;
    await session.waitForLine(/^hello from tick \d+$/, from);
    assert.equal(session.exited, false);
    assert.match(session.stderr, /patch failed: rustc was killed \(SIGKILL\) while compiling ticker; the app keeps running its current code/);
  });

  test('the next save compiles and patches the same process', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'format!("never compiled {tick}")', 'format!("compiled at last {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    await session.waitForLine(/^compiled at last \d+$/, from);
  });

  test('a linker killed while it links the patch is reported as such, and the app keeps running its code', async () => {
    const failures = await countEvents(session, 'patch-failed');
    const killer = killChildrenRunning('rust-lld', session.child.pid!);
    try {
      await session.edit('src/main.rs', 'format!("compiled at last {tick}")', 'format!("never linked {tick}")');
      const failed = await waitForNthEvent(session, 'patch-failed', failures + 1);
      assert.match(String(failed.message), /^the linker was killed \(SIGKILL\) while linking the patch\nsave again to link it again$/);
    } finally {
      assert.ok((await killer.stop()) > 0, 'rust-lld was killed');
    }
    const from = session.stdout.length;
    await session.waitForLine(/^compiled at last \d+$/, from);
  });

  test('the next save links and patches the same process, and nothing restarted', async () => {
    const from = session.stdout.length;
    const patches = await countEvents(session, 'patched');
    await session.edit('src/main.rs', 'format!("never linked {tick}")', 'format!("linked at last {tick}")');
    const patched = await waitForNthEvent(session, 'patched', patches + 1);
    assert.deepEqual(patched.pids, [pid]);
    await session.waitForLine(/^linked at last \d+$/, from);
    assert.equal((await session.events()).filter((event) => event.event === 'restart').length, 0);
  });
});

/**
 * The toolchain's `rust-lld` made unrunnable for ipbp alone once the app
 * runs (a bind mount of /dev/null over it, in a mount namespace of ipbp's
 * own, so that nothing else on the machine loses it): the patch fails
 * naming the linker and what to check, the app keeps running, and once the
 * linker is back, the next save is patched.
 */
describe("the toolchain's linker missing (examples/ticker)", { skip: process.getuid?.() === 0 ? false : 'a mount namespace needs root' }, () => {
  let session: IpbpRun;
  let pid: number;
  let linker: string;

  before(async () => {
    const [{ stdout: sysroot }, { stdout: version }] = await Promise.all([run('rustc', ['--print', 'sysroot']), run('rustc', ['-vV'])]);
    linker = join(sysroot.trim(), 'lib', 'rustlib', /^host: (.+)$/m.exec(version)![1]!.trim(), 'bin', 'rust-lld');
    session = await IpbpRun.start('ticker', [], {}, { launcher: ['unshare', '--mount', '--propagation', 'private'] });
    pid = await session.untilRunning(/^hello from tick \d+$/);
    // After the program's own build, which links with rust-lld too.
    await run('nsenter', ['--target', String(session.child.pid), '--mount', 'mount', '--bind', '/dev/null', linker]);
  });
  after(async () => session?.remove());

  test('a patch fails naming the linker, and the app keeps running its code', async () => {
    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("not linked {tick}")');
    const failed = await session.waitForEvent((event) => event.event === 'patch-failed');
    assert.match(String(failed.message), /^the toolchain's linker .*rust-lld cannot be run \(it is not executable\)\nis the toolchain that built the program still installed/);
    const from = session.stdout.length;
    await session.waitForLine(/^hello from tick \d+$/, from);
  });

  test('once the linker is back, the next save is patched into the same process', async () => {
    await run('nsenter', ['--target', String(session.child.pid), '--mount', 'umount', linker]);
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'format!("not linked {tick}")', 'format!("linked again {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    await session.waitForLine(/^linked again \d+$/, from);
  });
});
