import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitForDescendant } from '../support/process-tree.js';
import { SecondRun } from '../support/second-run.js';
import { IpbpRun } from '../support/ipbp-run.js';
import { countEvents, editAll, isAlive, linesOf, waitForDemoLine, waitForNthEvent } from '../support/restart-demo.js';
import { differingFiles, snapshotSources } from '../support/source-snapshot.js';

const CHECK_BODY = '    std::hint::black_box(uptime);\n';

/** `check` crashing once the process has been up for `seconds`: the old process crashes at once, a fresh one a little later. */
function crashAfter(seconds: number, crash: string): [string, string] {
  return [CHECK_BODY, `    if uptime > Duration::from_secs(${seconds}) {\n        ${crash}\n    }\n${CHECK_BODY}`];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** The session's files hold the test's own edits and nothing else. */
async function assertOnlyTestEdits(session: IpbpRun, initial: ReadonlyMap<string, Buffer>, written: ReadonlyMap<string, Buffer>): Promise<void> {
  const expected = new Map(initial);
  for (const [name, bytes] of written) expected.set(name, bytes);
  assert.deepEqual(differingFiles(expected, await snapshotSources(session.directory)), [], 'ipbp never writes to the project files');
}

describe('an app that crashes after a patch (examples/restart-demo)', () => {
  let session: IpbpRun;
  let initialFiles: Map<string, Buffer>;
  const written = new Map<string, Buffer>();
  let first: number;
  let second: number;

  before(async () => {
    session = await IpbpRun.start('restart-demo');
    initialFiles = await snapshotSources(session.directory);
    first = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await waitForDemoLine(session, first, () => true);
  });
  after(async () => session.remove());

  test('the signal and the last patch are reported, and the app restarts on a fresh build', async () => {
    await editAll(session, 'src/main.rs', [crashAfter(2, 'std::process::abort();'), ['"v1"', '"v2"']], written);
    const crashed = await session.waitForEvent((event) => event.event === 'crashed');
    assert.equal(crashed.pid, first);
    assert.equal(crashed.signal, 'SIGABRT');
    const lastPatch = crashed.lastPatch as { patch: number; changed: string[] };
    assert.equal(lastPatch.patch, 1);
    assert.ok(lastPatch.changed.includes('restart_demo::check'), `changed: ${lastPatch.changed}`);
    assert.match(session.stderr, new RegExp(`\\(pid ${first}\\) crashed with SIGABRT \\(abort\\); the last patch applied was patch 1 \\(`));

    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), new RegExp(`^pid ${first} crashed with SIGABRT`));
    second = (await waitForNthEvent(session, 'ready', 2)).pid as number;
    assert.notEqual(second, first);
    await waitForDemoLine(session, second, (line) => line.label === 'v2');
  });

  test('a fresh build that crashes again with no edit is not restarted in a loop; the next edit starts one', async () => {
    const again = await waitForNthEvent(session, 'crashed', 2);
    assert.equal(again.pid, second);
    assert.equal(again.lastPatch, null, 'the fresh build had no patch');
    await session.waitForStderr(/not restarting \(it crashed with no edit since it started[^)]*\); the next edit starts a fresh build/);
    await sleep(1000);
    assert.equal(await countEvents(session, 'restart'), 1);
    assert.equal(session.exited, false, 'ipbp keeps waiting');

    await editAll(session, 'src/main.rs', [['std::process::abort();', 'std::hint::black_box(0);'], ['"v2"', '"v3"']], written);
    const restart = await waitForNthEvent(session, 'restart', 2);
    assert.match(String(restart.reason), /`src\/main\.rs` changed while no app was running/);
    const third = (await waitForNthEvent(session, 'ready', 3)).pid as number;
    await waitForDemoLine(session, third, (line) => line.label === 'v3');
  });

  test('no edit is lost', async () => {
    await assertOnlyTestEdits(session, initialFiles, written);
  });
});

describe('--no-restart: a crash is reported and ipbp waits (examples/restart-demo)', () => {
  let session: IpbpRun;
  let pid: number;
  const written = new Map<string, Buffer>();

  before(async () => {
    session = await IpbpRun.start('restart-demo', ['--no-restart']);
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await waitForDemoLine(session, pid, () => true);
  });
  after(async () => session.remove());

  test('a patched function writing through a wild pointer: SIGSEGV and the patch are reported, nothing restarts', async () => {
    // Not null itself: debug builds check `*null` and panic instead of faulting.
    await editAll(session, 'src/main.rs', [crashAfter(1, 'unsafe { (16 as *mut u64).write_volatile(1) };')], written);
    const crashed = await session.waitForEvent((event) => event.event === 'crashed');
    assert.deepEqual([crashed.pid, crashed.signal, (crashed.lastPatch as { patch: number }).patch], [pid, 'SIGSEGV', 1]);
    assert.match(session.stderr, /crashed with SIGSEGV \(invalid memory access\); the last patch applied was patch 1 \(/);
    // The first patch may also list functions the replayed build compiled differently from cargo's; the crashing one is there.
    assert.ok((crashed.lastPatch as { changed: string[] }).changed.includes('restart_demo::check'), 'the crash names the patch with the edited function');
    await session.waitForStderr(/not restarting \(--no-restart\); the next edit starts a fresh build/);
    await sleep(1000);
    assert.equal(await countEvents(session, 'restart'), 0);
    assert.equal(session.exited, false, 'ipbp keeps waiting');
  });

  test('the next edit starts a fresh build that runs the new code', async () => {
    await editAll(session, 'src/main.rs', [['unsafe { (16 as *mut u64).write_volatile(1) };', 'std::hint::black_box(0);'], ['"v1"', '"v2"']], written);
    await session.waitForEvent((event) => event.event === 'restart');
    const next = (await waitForNthEvent(session, 'ready', 2)).pid as number;
    assert.notEqual(next, pid);
    await waitForDemoLine(session, next, (line) => line.label === 'v2');
  });
});

describe('one session per project; a killed ipbp leaves the app running, and the next one adopts it (examples/restart-demo)', () => {
  let session: IpbpRun;
  let initialFiles: Map<string, Buffer>;
  const written = new Map<string, Buffer>();
  let app: number;
  let successor: SecondRun | undefined;
  let privateDirectory = '';

  before(async () => {
    session = await IpbpRun.start('restart-demo');
    initialFiles = await snapshotSources(session.directory);
    app = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    privateDirectory = dirname(String((await session.waitForEvent((event) => event.event === 'session')).socket));
    await waitForDemoLine(session, app, () => true);
  });
  after(async () => {
    await successor?.stop();
    if (isAlive(app)) process.kill(app, 'SIGKILL');
    await session.remove();
    // A killed ipbp cannot clean up after itself.
    if (privateDirectory) await rm(privateDirectory, { recursive: true, force: true });
  });

  test('a second `ipbp run` on the project names the pid holding it and exits cleanly', async () => {
    const second = new SecondRun(session.directory, 'events-second.jsonl');
    const code = await second.exit();
    assert.notEqual(code, 0);
    assert.match(second.stderr, new RegExp(`another \`ipbp run\` \\(pid ${session.child.pid}\\) is running this project`));
    assert.doesNotMatch(second.stderr, /internal error|\n\s+at /, 'no stack trace');
    assert.ok(isAlive(app), 'the first session and its app are untouched');
  });

  test('ipbp killed with SIGKILL while rustc compiles an edit: the app keeps running its current code', async () => {
    await editAll(session, 'src/main.rs', [['"v1"', '"v2"']], written);
    // The kill lands at one defined point of the pipeline: the edit is being compiled, nothing is linked or sent yet.
    await waitForDescendant(session.child.pid!, 'rustc');
    session.child.kill('SIGKILL');
    await new Promise((resolve) => session.child.once('exit', resolve));
    const from = session.stdout.length;
    await sleep(1500);
    assert.ok(isAlive(app), 'the app survived');
    const lines = linesOf(session, app, from);
    assert.ok(lines.length >= 10, `the app kept printing (${lines.length} lines in 1.5 s)`);
    assert.deepEqual([...new Set(lines.map((line) => line.label))], ['v1'], 'and kept running the code it had');
    assert.equal(await countEvents(session, 'patched'), 0, 'no patch was reported');
  });

  test('a new `ipbp run` takes over the lock the killed one left behind and adopts the same process', async () => {
    const from = session.stdout.length;
    successor = new SecondRun(session.directory, 'events-successor.jsonl');
    const adopted = await successor.waitForEvent((event) => event.event === 'adopted');
    assert.equal(adopted.pid, app);
    // The killed session never linked a patch, so the process has none.
    assert.deepEqual(adopted.patches, []);
    await successor.waitForStderr(new RegExp(`adopted pid ${app} \\(no patch applied\\)`));
    const ready = await successor.waitForEvent((event) => event.event === 'ready');
    assert.equal(ready.pid, app);
    assert.match(successor.stderr, new RegExp(`took over \\S+run\\.lock from pid ${session.child.pid}, which is no longer running`));
    // The edit the killed session was working on reaches the process now.
    await waitForDemoLine(session, app, (line) => line.label === 'v2', from);
  });

  test('a following edit is patched into the adopted process', async () => {
    const from = session.stdout.length;
    await editAll(session, 'src/main.rs', [['"v2"', '"v3"']], written);
    await waitForDemoLine(session, app, (line) => line.label === 'v3', from);
    const patched = await successor!.waitForEvent((event) => event.event === 'patched' && (event.pids as number[]).includes(app));
    assert.ok((patched.changed as string[]).includes('restart_demo::label'));
    const events = await successor!.events();
    assert.deepEqual(
      events.filter((event) => ['ready', 'restart', 'exited'].includes(event.event)).map((event) => [event.event, event.pid]),
      [['ready', app]],
      'no other process was started',
    );
  });

  test('no edit is lost', async () => {
    await assertOnlyTestEdits(session, initialFiles, written);
  });
});
