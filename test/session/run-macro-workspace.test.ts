import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/**
 * A workspace whose library (`shapes`) and binary (`macro-app`) both expand
 * `#[derive(Greet)]`, and whose binary expands the function-like
 * `banner!`, from a proc-macro crate of the same workspace (`greet-macro`):
 * the macro is a shared library the compiler loads, not an rlib, and none
 * of its code is in the program.
 */
describe('ipbp run on a workspace with a proc-macro crate (examples/macro-workspace)', () => {
  let session: IpbpRun;
  let pid: number;
  after(async () => session?.remove());

  test('the app starts, and an edit to the app crate is patched in place', async () => {
    session = await IpbpRun.start('macro-workspace', ['-p', 'macro-app']);
    pid = await session.untilRunning(/^hello from Robot \d+ \| hello from Square \d+ \[robots\]$/);
    const from = session.stdout.length;
    await session.edit('app/src/main.rs', '"{} | {} {}"', '"{} + {} {}"');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 1);
    assert.deepEqual(event.changed, ['macro_app::report']);
    assert.deepEqual(event.pids, [pid]);
    await session.waitForLine(/^hello from Robot \d+ \+ hello from Square \d+ \[robots\]$/, from);
  });

  test('an edit to the macro rebuilds it and every crate expanding it, and the new expansions are patched into the same process', async () => {
    const from = session.stdout.length;
    await session.edit('greet-macro/src/lib.rs', 'hello from', 'greetings from');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 2);
    assert.deepEqual([...(event.changed as string[])].sort(), ['macro_app::Robot::greeting', 'shapes::Square::greeting']);
    assert.deepEqual(event.pids, [pid]);
    await session.waitForLine(/^greetings from Robot \d+ \+ greetings from Square \d+ \[robots\]$/, from);
  });

  test('a compile error in the macro leaves the app running, and the fix is patched', async () => {
    // An unescaped `{` in the macro's own format string: the macro crate itself fails.
    await session.edit('greet-macro/src/lib.rs', 'greetings from', 'salutations { from');
    const error = await session.waitForEvent((candidate) => candidate.event === 'compile-error');
    assert.match(error.message as string, /greet-macro\/src\/lib\.rs/);
    const from = session.stdout.length;
    await session.waitForLine(/^greetings from Robot \d+ \+ greetings from Square \d+ \[robots\]$/, from);

    await session.edit('greet-macro/src/lib.rs', 'salutations { from', 'salutations from');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 3);
    assert.deepEqual([...(event.changed as string[])].sort(), ['macro_app::Robot::greeting', 'shapes::Square::greeting']);
    assert.deepEqual(event.pids, [pid]);
    await session.waitForLine(/^salutations from Robot \d+ \+ salutations from Square \d+ \[robots\]$/, from);
    await assertNoTrouble(session);
  });

  test("an edit to a function-like macro's expansion is patched", async () => {
    const from = session.stdout.length;
    await session.edit('greet-macro/src/lib.rs', '\\"[{{}}]\\"', '\\"<{{}}>\\"');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 4);
    assert.deepEqual(event.changed, ['macro_app::banner']);
    assert.deepEqual(event.pids, [pid]);
    await session.waitForLine(/^salutations from Robot \d+ \+ salutations from Square \d+ <robots>$/, from);
  });

  test("an edit to a macro call's input is patched", async () => {
    const from = session.stdout.length;
    await session.edit('app/src/main.rs', 'banner!("robots")', 'banner!("droids")');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 5);
    assert.deepEqual(event.changed, ['macro_app::banner']);
    await session.waitForLine(/^salutations from Robot \d+ \+ salutations from Square \d+ <droids>$/, from);
  });

  test('a session that adopts the app after ipbp was killed patches a macro edit into it', async () => {
    // The app keeps writing to the pipe it got from the first ipbp, which the test still reads.
    const first = session;
    first.child.kill('SIGKILL');
    await first.waitForExit();
    session = IpbpRun.again(first, 'events-adopting.jsonl', ['-p', 'macro-app']);
    const adopted = await session.waitForEvent((event) => event.event === 'adopted', 120_000);
    assert.equal(adopted.pid, pid, 'the same process');
    const from = first.stdout.length;
    await session.edit('greet-macro/src/lib.rs', 'salutations from', 'welcome from');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched');
    // The adopting session diffs against the build the process started from, so the functions earlier patches changed come again.
    for (const name of ['macro_app::Robot::greeting', 'shapes::Square::greeting']) assert.ok((event.changed as string[]).includes(name), `${name} in ${event.changed}`);
    assert.deepEqual(event.pids, [pid]);
    await first.waitForOrphanLine(/^welcome from Robot \d+ \+ welcome from Square \d+ <droids>$/, from);
    await assertNoTrouble(session);
  });
});

describe('ipbp run --release on the proc-macro workspace', () => {
  let session: IpbpRun;
  after(async () => session?.remove());

  test('an optimized build (its profile strips symbols and uses fat LTO, which ipbp builds without) starts, and an edit to the macro is patched into it', async () => {
    session = await IpbpRun.start('macro-workspace', ['-p', 'macro-app', '--release']);
    const pid = await session.untilRunning(/^hello from Robot \d+ \| hello from Square \d+ \[robots\]$/);
    assert.match(session.stderr, /built without `strip = true` and `lto = "fat"` of \[profile\.release\]/);
    const from = session.stdout.length;
    await session.edit('greet-macro/src/lib.rs', 'hello from', 'howdy from');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 1);
    assert.deepEqual(event.pids, [pid]);
    await session.waitForLine(/^howdy from Robot \d+ \| howdy from Square \d+ \[robots\]$/, from);
    await assertNoTrouble(session);
  });
});

async function assertNoTrouble(session: IpbpRun): Promise<void> {
  const events = await session.events();
  assert.deepEqual(
    events.filter((candidate) => ['restart', 'unpatchable', 'crashed', 'exited', 'patch-failed'].includes(candidate.event)),
    [],
  );
}
