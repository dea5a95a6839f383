import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { countEvents, type DemoLine, editAll, isAlive, linesOf, waitForDemoLine, waitForNthEvent } from '../support/restart-demo.js';
import { differingFiles, snapshotSources } from '../support/source-snapshot.js';
import { TEST_TARGETS } from '../support/targets.js';

/**
 * `ipbp run` on examples/restart-demo: each edit here cannot be patched
 * safely. ipbp must say why (naming the static, thread-local, method or
 * file), emit a `restart` event, and replace the process with a fresh build
 * that runs the new code.
 */
for (const target of TEST_TARGETS) describe(`hot restart when an edit cannot be patched (examples/restart-demo, ${target.name})`, () => {
  let session: IpbpRun;
  let pid: number;
  let initialFiles: Map<string, Buffer>;
  const written = new Map<string, Buffer>();

  before(async () => {
    session = await IpbpRun.start('restart-demo', target.args, target.env);
    initialFiles = await snapshotSources(session.directory);
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await waitForDemoLine(session, pid, (line) => line.label === 'v1');
  });
  after(async () => session.remove());

  /** The details of the last restart `expectRestart` saw. */
  let lastDetails = '';

  /** Saves the edit, then checks the restart and returns the first line of the new process that `runsNewCode`. */
  async function expectRestart(file: string, replacements: ReadonlyArray<readonly [string, string]>, reason: RegExp, runsNewCode: (line: DemoLine) => boolean): Promise<DemoLine> {
    const restarts = await countEvents(session, 'restart');
    const readies = await countEvents(session, 'ready');
    const oldPid = pid;
    await editAll(session, file, replacements, written);
    const restart = await waitForNthEvent(session, 'restart', restarts + 1);
    assert.match(String(restart.reason), reason);
    assert.ok(String(restart.reason).length < 200, `one short line: ${String(restart.reason)}`);
    assert.ok(session.stderr.includes(`[ipbp] restarting: ${String(restart.reason)}`), 'the reason is printed');
    assert.equal(session.stderr.split(String(restart.reason)).length, 2, 'and printed once');
    lastDetails = (restart.details as string[]).join('\n');
    pid = (await waitForNthEvent(session, 'ready', readies + 1)).pid as number;
    assert.notEqual(pid, oldPid, 'a new process');
    const line = await waitForDemoLine(session, pid, runsNewCode);
    assert.equal(isAlive(oldPid), false, 'the old process is gone');
    return line;
  }

  test('a function body change is still patched in place', async () => {
    await editAll(session, 'src/main.rs', [['"v1"', '"v2"']], written);
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    await waitForDemoLine(session, pid, (line) => line.label === 'v2');
  });

  test('a static the program cannot write is patched in place: the functions that read it read the new value', async () => {
    await editAll(session, 'src/main.rs', [['LIMIT: u64 = 1000', 'LIMIT: u64 = 2000']], written);
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 2);
    assert.deepEqual(patched.pids, [pid]);
    assert.ok((patched.changed as string[]).includes('restart_demo::LIMIT'), `changed: ${patched.changed}`);
    await waitForDemoLine(session, pid, (line) => line.limit === 2000);
  });

  test('a changed initializer of a static the program writes restarts, naming the static', async () => {
    const line = await expectRestart(
      'src/main.rs',
      [['TICKS: AtomicU64 = AtomicU64::new(0)', 'TICKS: AtomicU64 = AtomicU64::new(1_000_000)']],
      /^static `restart_demo::TICKS` changed \(initializer, size or type\) \(src\/main\.rs:11\)$/,
      (candidate) => candidate.tick >= 1_000_000,
    );
    assert.equal(line.label, 'v2', 'the fresh build has the earlier patched edits too');
    assert.equal(line.limit, 2000);
  });

  test('a changed `static mut` restarts, naming it', async () => {
    await expectRestart('src/main.rs', [['SCALE: u64 = 1;', 'SCALE: u64 = 3;']], /^static `restart_demo::SCALE` changed/, (line) => line.scale === 3);
  });

  test("a function that reads a thread-local is patched in place, and reads the thread's own value", async () => {
    const patches = await countEvents(session, 'patched');
    await editAll(session, 'src/main.rs', [['LOCAL.with(|cell| cell.get())', 'LOCAL.with(|cell| cell.get() * 10)']], written);
    const patched = await waitForNthEvent(session, 'patched', patches + 1);
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['restart_demo::local_value::{{closure}}']);
    await waitForDemoLine(session, pid, (line) => line.local === 70);
    await editAll(session, 'src/main.rs', [['LOCAL.with(|cell| cell.get() * 10)', 'LOCAL.with(|cell| cell.get())']], written);
    await waitForNthEvent(session, 'patched', patches + 2);
    await waitForDemoLine(session, pid, (line) => line.local === 7);
  });

  test('a changed thread_local! initial value restarts, naming the thread-local', async () => {
    await expectRestart('src/main.rs', [['Cell::new(7)', 'Cell::new(8)']], /^thread-local `restart_demo::LOCAL` changed its initial value/, (line) => line.local === 8);
  });

  test('a trait method whose signature changed restarts: the trait object made before the edit holds the old vtable', async () => {
    await expectRestart(
      'src/main.rs',
      [
        ['    fn area(&self) -> u64;', '    fn area(&self, factor: u64) -> u64;'],
        ['    fn area(&self) -> u64 {\n        self.0 * self.0\n', '    fn area(&self, factor: u64) -> u64 {\n        self.0 * self.0 * factor\n'],
        ['shape.area()', 'shape.area(2)'],
      ],
      /^`<restart_demo::Square as restart_demo::Shape>::area` changed its signature or its slot in a `dyn` vtable/,
      (line) => line.area === 18,
    );
  });

  test('a function whose signature changed restarts when a pointer to the old version may be stored', async () => {
    await expectRestart(
      'src/main.rs',
      [
        ['fn twice(x: u64) -> u64 {\n    x * 2', 'fn twice(x: u64, factor: u64) -> u64 {\n    x * factor'],
        ['let callback: fn(u64) -> u64 = twice;', 'let callback: fn(u64, u64) -> u64 = twice;'],
        ['callback(21)', 'callback(21, 3)'],
      ],
      /^`restart_demo::twice` changed its signature, and the old version's address was taken \(src\/main\.rs:\d+\)$/,
      (line) => line.cb === 63,
    );
    assert.equal(lastDetails, 'a function pointer stored before the edit would still call the old code');
  });

  test('a struct whose layout changed restarts, naming the type: values of the old layout may be live', async () => {
    const line = await expectRestart(
      'src/main.rs',
      [
        ['struct Square(u64);', 'struct Square(u64, u64);'],
        ['self.0 * self.0 * factor', 'self.0 * self.1 * factor'],
        ['Square(3)', 'Square(3, 2)'],
      ],
      /^layout of `restart_demo::Square` changed \(size 8 -> 16; field `__1: u64` added at offset 8\) \(src\/main\.rs:\d+\)$/,
      (candidate) => candidate.area === 12,
    );
    assert.match(lastDetails, /^values of the old layout may be live \(the `ipbp` crate's `migrate` can keep them/);
    assert.equal(line.label, 'v2');
  });

  test('a changed feature in Cargo.toml restarts, naming the manifest', async () => {
    await expectRestart('Cargo.toml', [['default = []', 'default = ["loud"]']], /^`Cargo\.toml` changed: the build itself/, (line) => line.loudness === 'loud');
  });

  test('a changed build.rs restarts, naming it', async () => {
    await expectRestart('build.rs', [['BUILD_NOTE=plain', 'BUILD_NOTE=fancy']], /^`build\.rs` changed: the build itself/, (line) => line.note === 'fancy');
  });

  test('a changed Cargo.lock restarts, naming it', async () => {
    await expectRestart('Cargo.lock', [['version = 4', 'version = 3']], /^`Cargo\.lock` changed: the build itself/, (line) => line.label === 'v2' && line.note === 'fancy');
  });

  test('an edit to a path dependency outside the workspace is patched in place, as a member would be', async () => {
    const restarts = await countEvents(session, 'restart');
    const from = session.stdout.length;
    await editAll(session, 'extlib/src/lib.rs', [['"first"', '"second"']], written);
    await waitForDemoLine(session, pid, (line) => line.ext === 'second', from);
    assert.equal(await countEvents(session, 'restart'), restarts, 'no restart');
  });

  test('the restarted process is patched in place again', async () => {
    const from = session.stdout.length;
    await editAll(session, 'src/main.rs', [['"v2"', '"v3"']], written);
    await waitForDemoLine(session, pid, (line) => line.label === 'v3', from);
    const restarts = await countEvents(session, 'restart');
    assert.equal(restarts, 9, 'no restart for a body change');
    assert.ok(linesOf(session, pid, from).length > 0);
  });

  test('no edit is lost: the project files hold exactly what the test wrote', async () => {
    const expected = new Map(initialFiles);
    for (const [name, bytes] of written) expected.set(name, bytes);
    assert.deepEqual(differingFiles(expected, await snapshotSources(session.directory)), []);
  });
});
