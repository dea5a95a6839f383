import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { IpbpRun } from '../support/ipbp-run.js';
import { countEvents, waitForNthEvent } from '../support/restart-demo.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/**
 * `target/ipbp` made read-only while the session runs (a real read-only bind
 * mount: root ignores file modes). The compiler cannot keep its incremental
 * cache there, and a restart's fresh build cannot write its outputs: each
 * fails saying so, and the app keeps running its code. Once the directory is
 * writable again, the next save is built and runs.
 */
describe('target/ipbp read-only mid-session (examples/ticker)', { skip: isRoot ? false : 'a read-only bind mount needs root' }, () => {
  let session: IpbpRun;
  let pid: number;
  let buildDirectory: string;
  let mounted = false;

  before(async () => {
    session = await IpbpRun.start('ticker');
    pid = await session.untilRunning(/^hello from tick \d+$/);
    buildDirectory = join(session.targetDirectory, 'ipbp');
    await run('mount', ['--bind', buildDirectory, buildDirectory]);
    mounted = true;
    await run('mount', ['-o', 'remount,ro,bind', buildDirectory]);
  });
  after(async () => {
    if (mounted) await run('umount', [buildDirectory]).catch(() => undefined);
    await session?.remove();
  });

  test('an edit fails to compile, saying why, and the app keeps running its code', async () => {
    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("read-only {tick}")');
    const failure = await session.waitForEvent((event) => event.event === 'compile-error');
    assert.match(String(failure.message), /Read-only file system/);
    const from = session.stdout.length;
    await session.waitForLine(/^hello from tick \d+$/, from);
  });

  test('a change that needs a fresh build fails to build, saying so, and the app keeps running', async () => {
    await session.edit('Cargo.toml', 'edition = "2021"', 'edition = "2021"\ndescription = "changed while read-only"');
    await session.waitForStderr(/the fresh build failed \(cargo build failed \(exit code \d+\)\); the app keeps running its current code/, 180_000);
    const from = session.stdout.length;
    await session.waitForLine(/^hello from tick \d+$/, from);
    assert.equal(session.exited, false);
  });

  test('writable again, the next save gets its fresh build and restarts on the new code', async () => {
    await run('umount', [buildDirectory]);
    mounted = false;
    const readies = await countEvents(session, 'ready');
    await session.edit('src/main.rs', 'format!("read-only {tick}")', 'format!("writable again {tick}")');
    const ready = await waitForNthEvent(session, 'ready', readies + 1, 180_000);
    assert.notEqual(ready.pid, pid);
    await session.waitForLine(/^writable again \d+$/, 0, 60_000);
  });
});
