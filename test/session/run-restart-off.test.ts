import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { countEvents, editAll, linesOf, waitForDemoLine, waitForNthEvent } from '../support/restart-demo.js';
import { differingFiles, snapshotSources } from '../support/source-snapshot.js';

/**
 * `ipbp run --no-restart`: an edit that cannot be patched is reported (why,
 * and what) and nothing else happens. The process keeps running its
 * current code, and later patchable edits still reach it.
 */
describe('--no-restart reports what cannot be patched and keeps the process (examples/restart-demo)', () => {
  let session: IpbpRun;
  let pid: number;
  let initialFiles: Map<string, Buffer>;
  const written = new Map<string, Buffer>();

  before(async () => {
    session = await IpbpRun.start('restart-demo', ['--no-restart']);
    initialFiles = await snapshotSources(session.directory);
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await waitForDemoLine(session, pid, (line) => line.limit === 1000);
  });
  after(async () => session.remove());

  /** After the report, the same process must go on printing its old values for a while. */
  async function expectReportOnly(file: string, replacements: ReadonlyArray<readonly [string, string]>, reason: RegExp): Promise<void> {
    const reports = await countEvents(session, 'unpatchable');
    await editAll(session, file, replacements, written);
    const report = await waitForNthEvent(session, 'unpatchable', reports + 1);
    assert.equal(report.restarting, false);
    assert.match((report.reasons as string[]).join('\n'), reason);
    await session.waitForStderr(/not restarting \(--no-restart\); the app keeps running its current code/);
    const from = session.stdout.length;
    await waitForDemoLine(session, pid, () => linesOf(session, pid, from).length >= 5, from);
    for (const line of linesOf(session, pid, from)) {
      assert.deepEqual([line.limit, line.loudness], [1000, 'quiet'], 'the old code and values run on');
    }
    assert.equal(await countEvents(session, 'restart'), 0);
    assert.deepEqual(
      (await session.events()).filter((event) => event.event === 'ready').map((event) => event.pid),
      [pid],
      'no other process was started',
    );
  }

  test('a changed static is reported, naming it, and the process keeps running', async () => {
    await expectReportOnly('src/main.rs', [['AtomicU64::new(0)', 'AtomicU64::new(5)']], /static `restart_demo::TICKS` changed/);
    assert.match(session.stderr, /warning: cannot patch: static `restart_demo::TICKS` changed/);
  });

  test('a changed Cargo.toml is reported, naming it, and the process keeps running', async () => {
    await expectReportOnly('Cargo.toml', [['default = []', 'default = ["loud"]']], /`Cargo\.toml` changed: the build itself/);
  });

  test('once the unpatchable edits are undone, a body change patches the same process', async () => {
    await editAll(session, 'Cargo.toml', [['default = ["loud"]', 'default = []']], written);
    await editAll(
      session,
      'src/main.rs',
      [
        ['AtomicU64::new(5)', 'AtomicU64::new(0)'],
        ['"v1"', '"v2"'],
      ],
      written,
    );
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['restart_demo::label']);
    await waitForDemoLine(session, pid, (line) => line.label === 'v2');
  });

  test('no edit is lost: the project files hold exactly what the test wrote', async () => {
    const expected = new Map(initialFiles);
    for (const [name, bytes] of written) expected.set(name, bytes);
    assert.deepEqual(differingFiles(expected, await snapshotSources(session.directory)), []);
  });
});
