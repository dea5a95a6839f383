import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/** examples/hooks uses the optional `ipbp` crate. */
describe('the ipbp crate (examples/hooks)', () => {
  const sessions: IpbpRun[] = [];
  after(async () => {
    for (const session of sessions) await session.remove();
  });

  test('before_patch and on_patch run around each patch', async () => {
    const session = await IpbpRun.start('hooks');
    sessions.push(session);
    await session.waitForEvent((event) => event.event === 'ready', 180_000);
    await session.waitForLine(/^frame=\d+ value=1$/);
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'black_box(1)', 'black_box(2)');
    const before = await session.waitForLine(/^before patch 1$/, from);
    const afterHook = await session.waitForLine(/^after patch 1$/, from);
    const newValue = await session.waitForLine(/^frame=\d+ value=2$/, from);
    assert.ok(before.index < afterHook.index, 'before_patch ran before on_patch');
    const oldAfterHook = session.stdout.slice(afterHook.index).some((line) => line.endsWith('value=1'));
    assert.equal(oldAfterHook, false, 'once on_patch ran, only the new code runs');
    assert.ok(newValue.index > before.index);
  });

  test('with ipbp::sync(), a patch lands only at a sync point', async () => {
    const session = await IpbpRun.start('hooks', ['--', '--sync']);
    sessions.push(session);
    await session.waitForEvent((event) => event.event === 'ready', 180_000);
    await session.waitForLine(/^sync point at frame=\d+$/);
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'black_box(1)', 'black_box(2)');
    await session.waitForEvent((event) => event.event === 'patched' && event.patch === 1);
    const { match, index } = await session.waitForLine(/^frame=(\d+) value=2$/, from);
    const frame = Number(match[1]);
    assert.equal(frame % 10, 0, `the first frame with the new code (${frame}) starts at a sync point`);
    assert.equal(session.stdout[index - 1], `sync point at frame=${frame}`);
    assert.match(session.stdout.slice(from, index).join('\n'), /value=1/, 'the old code kept running until the sync point');
  });
});
