import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/** A package with both a lib and a bin, built with a feature, selected by package and bin name. */
describe('ipbp run on a package with a lib and a bin (examples/lib-and-bin)', () => {
  let session: IpbpRun;
  after(async () => session?.remove());

  test('an edit to the library part is patched into the binary, with the feature still on', async () => {
    session = await IpbpRun.start('lib-and-bin', ['-p', 'lib-and-bin', '--bin', 'lib-and-bin', '--features', 'loud']);
    await session.waitForEvent((event) => event.event === 'ready', 180_000);
    await session.waitForLine(/^LOUD \d+$/);
    const from = session.stdout.length;
    await session.edit('src/lib.rs', 'format!("LOUD {tick}")', 'format!("VERY LOUD {tick}")');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched');
    assert.deepEqual(event.changed, ['lib_and_bin::message']);
    await session.waitForLine(/^VERY LOUD \d+$/, from);
  });
});
