import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/** The app's line: what the closures kept since start and those made this tick return for 10. */
function parse(line: string): { kept: string; fresh: string } | undefined {
  const match = /^kept=\[(.*)\] fresh=\[(.*)\]$/.exec(line);
  return match ? { kept: match[1]!, fresh: match[2]! } : undefined;
}

/**
 * Closures are numbered by position: a closure inserted before another takes
 * its old name. The closures created before the edit must keep running the
 * code they were created with, and the new ones the new code, in the same
 * process (examples/closures).
 */
describe('closures renumbered by an edit keep their identity (examples/closures)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('closures');
    pid = await session.untilRunning(/^kept=\[31\] fresh=\[31\]$/);
  });
  after(async () => session?.remove());

  test('a closure inserted before a kept one: the kept closure still runs its own body', async () => {
    const from = session.stdout.length;
    await session.edit(
      'src/main.rs',
      '    let first: Step = Box::new(move |x| x * k + 1);\n    vec![first]',
      '    let inserted: Step = Box::new(move |x| x * k + 100);\n    let first: Step = Box::new(move |x| x * k + 1);\n    vec![inserted, first]',
    );
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.notes, [], 'every old closure has its code in the new build: nothing to warn about');
    const { line } = await session.waitForLine(/fresh=\[130, 31\]/, from);
    assert.deepEqual(parse(line), { kept: '31', fresh: '130, 31' }, 'the kept closure runs `x * k + 1`, not the inserted body');
  });

  test('a closure inserted before a kept one that is edited too: the kept closure keeps its old code, and the patch says so', async () => {
    const from = session.stdout.length;
    await session.edit(
      'src/main.rs',
      '    let inserted: Step = Box::new(move |x| x * k + 100);\n    let first: Step = Box::new(move |x| x * k + 1);\n    vec![inserted, first]',
      '    let other: Step = Box::new(move |x| x * k + 500);\n    let inserted: Step = Box::new(move |x| x * k + 100);\n    let first: Step = Box::new(move |x| x * k + 2);\n    vec![other, inserted, first]',
    );
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 2);
    assert.deepEqual(patched.pids, [pid]);
    const notes = patched.notes as string[];
    assert.equal(notes.length, 1, `notes: ${notes}`);
    assert.match(notes[0]!, /^closures of `closures::make` were added, removed or reordered as well as edited: closures created before the edit keep running their old code/);
    const { line } = await session.waitForLine(/fresh=\[530, 130, 32\]/, from);
    assert.deepEqual(parse(line), { kept: '31', fresh: '530, 130, 32' });
  });

  test('an edit in place of a closure body reaches the closure created before it', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'move |x| x * k + 2)', 'move |x| x * k + 7)');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 3);
    assert.deepEqual(patched.notes, []);
    // The kept closure is the old first closure (`+ 1`), not the one edited now.
    const { line } = await session.waitForLine(/fresh=\[530, 130, 37\]/, from);
    assert.deepEqual(parse(line), { kept: '31', fresh: '530, 130, 37' });
  });
});
