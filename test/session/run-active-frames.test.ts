import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/**
 * Code that is running when a patch comes (examples/loops): `step` sleeps
 * in nearly every instant, and `main` loops forever. The agent records every
 * thread's stack while it writes the jumps; a running call finishes on its
 * old code (the patch says so), and a changed `main` would never run again.
 */
describe('changed functions that are running when the patch comes (examples/loops)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('loops');
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await session.waitForLine(/^count \d+$/);
  });
  after(async () => session?.remove());

  test('a function in the middle of a call is patched, and the patch says that call finishes on the old code', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'count + 1', 'count + 1000');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['loops::step']);
    const notes = patched.notes as string[];
    assert.ok(
      notes.some((note) => new RegExp(`^\`loops::step\` was running \\(pid ${pid}, thread \\d+\\): that call finishes on the old code, later calls run the new one$`).test(note)),
      `notes: ${JSON.stringify(notes)}`,
    );
    // The call under way adds 1; the next ones add 1000.
    const counts = async (): Promise<number[]> => session.stdout.slice(from).map((line) => Number(/^count (\d+)$/.exec(line)?.[1])).filter((value) => !Number.isNaN(value));
    await session.waitForLine(/^count \d+$/, from);
    const first = (await counts())[0]!;
    const { line } = await session.waitForLine(new RegExp(`^count ${first + 1000}$`), from);
    assert.ok(line, 'the next call runs the new code');
  });

  test("an edit of `main`'s own loop restarts: main never runs again, so its new code never would", async () => {
    await session.edit('src/main.rs', 'println!("count {count}");', 'println!("count {count} (new loop)");');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), new RegExp(`^\`loops::main\` changed while it runs as the outermost code of thread ${pid} of pid ${pid} \\(src/main\\.rs:\\d+\\)$`));
    assert.deepEqual(restart.details, ['it never returns, so its new code would never run']);
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    assert.notEqual(ready.pid, pid);
    await session.waitForLine(/^count \d+ \(new loop\)$/, 0, 120_000);
  });
});
