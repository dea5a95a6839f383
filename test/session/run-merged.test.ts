import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { countEvents } from '../support/restart-demo.js';

/**
 * A release build merges `alpha` and `beta`, whose bodies are identical,
 * into one function (examples/merged). Editing the one that survived must not
 * silently change the other through their shared code: ipbp restarts, and
 * says why.
 */
describe('functions merged by the optimizer (examples/merged, --release)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('merged', ['--release']);
    pid = await session.untilRunning(/^alpha=22 beta=22$/);
  });
  after(async () => session?.remove());

  test('editing one of two merged functions restarts with the reason, and only that function changes', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'fn beta(x: u64) -> u64 {\n    x.wrapping_mul(7).wrapping_add(black_box(1))', 'fn beta(x: u64) -> u64 {\n    x.wrapping_mul(7).wrapping_add(black_box(2))');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /`merged::beta` shares its machine code with `merged::alpha` in the running program \(identical functions merged by the optimizer\)/);
    assert.equal(await countEvents(session, 'patched'), 0, 'nothing was patched into the old process');
    await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    const { line } = await session.waitForLine(/beta=23$/, from, 120_000);
    assert.equal(line, 'alpha=22 beta=23', 'the new process runs the edit on beta alone');
  });
});
