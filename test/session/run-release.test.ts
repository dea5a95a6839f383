import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/**
 * `ipbp run --release` on examples/ticker: optimised code in several codegen
 * units, where ThinLTO promotes locals to `….llvm.<n>` globals whose suffix
 * changes from build to build. Edits must still patch the same process, and
 * ipbp must say that a crate without debug info cannot be checked for type
 * layout changes rather than pass the check silently.
 */
describe('ipbp run --release (examples/ticker)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('ticker', ['--release']);
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await session.waitForLine(/^hello from tick \d+$/);
  });
  after(async () => session.remove());

  test('two successive edits are patched into the same process', async () => {
    for (const [patch, [from, to]] of [
      [1, ['hello from', 'howdy from']],
      [2, ['howdy from', 'ahoy from']],
    ] as const) {
      const fromLine = session.stdout.length;
      await session.edit('src/main.rs', from, to);
      const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === patch, 120_000);
      assert.deepEqual(patched.pids, [pid]);
      await session.waitForLine(new RegExp(`^${to} tick \\d+$`), fromLine);
    }
    const events = await session.events();
    assert.equal(events.filter((event) => event.event === 'restart' || event.event === 'patch-failed').length, 0, 'no restart, no failed patch');
  });

  test('the layout check says it could not run', () => {
    assert.match(session.stderr, /warning: ticker has no debug info in its objects, so type layout changes cannot be detected/);
  });
});
