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
    pid = await session.untilRunning(/^count \d+$/);
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
    // The call under way adds 1; the calls after it add 1000.
    const counts = (): number[] => session.stdout.slice(from).map((line) => Number(/^count (\d+)$/.exec(line)?.[1])).filter((value) => !Number.isNaN(value));
    const steps = (): number[] => counts().slice(1).map((count, i) => count - counts()[i]!);
    await session.waitForLine(/^count \d+$/, from);
    for (let waited = 0; !steps().includes(1000); waited += 50) {
      assert.ok(waited < 30_000, `a call of the new code adds 1000: ${counts().join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(steps().every((step) => step === 1 || step === 1000), `every call ran one version or the other: ${counts().join(' ')}`);
  });

  test('code that only moved is patched as moved, not changed, and restarts nothing', async () => {
    const patches = (await session.events()).filter((event) => event.event === 'patched').length;
    await session.edit('src/main.rs', '#[inline(never)]\nfn step', '// A comment that moves every function below it.\n#[inline(never)]\nfn step');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === patches + 1);
    assert.deepEqual(patched.changed, [], 'nothing changed but line numbers');
    assert.ok((patched.moved as string[]).includes('loops::step'), `moved: ${patched.moved}`);
    assert.deepEqual(patched.pids, [pid]);
    assert.equal((await session.events()).filter((event) => event.event === 'restart').length, 0);
  });

  test("an edit of `main`'s own loop restarts: main never runs again, so its new code never would", async () => {
    await session.edit('src/main.rs', 'println!("count {count}");', 'println!("count {count} (new loop)");');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), new RegExp(`^\`loops::main\` changed while it runs as the outermost code of thread ${pid} of pid ${pid} \\(src/main\\.rs:\\d+\\)$`));
    assert.deepEqual(restart.details, ['it never returns, so its new code would never run']);
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    assert.notEqual(ready.pid, pid);
    await session.waitForLine(/^count \d+ \(new loop\)$/, 0, 120_000);
    pid = ready.pid as number;
  });

  test('an edit inside a loop that never returns, below the outermost code, restarts once its call has not returned', async () => {
    await session.edit('src/main.rs', 'println!("{name} watched {rounds}");', 'println!("{name} watched {rounds} (new)");');
    const restart = await session.waitForEvent((event) => event.event === 'restart' && String(event.reason).includes('watch_forever'));
    assert.match(String(restart.reason), new RegExp(`^\`loops::watch_forever\` still runs its code from before the edit \\(pid ${pid}, thread \\d+\\) 1000 ms after the patch \\(src/main\\.rs:\\d+\\)$`));
    assert.deepEqual(restart.details, ['that call has not returned (a loop that does not end?), so the edit would not take effect in it']);
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    assert.notEqual(ready.pid, pid);
    await session.waitForLine(/^watcher watched \d+ \(new\)$/, 0, 120_000);
  });
});
