import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/**
 * A project that names its own linker in `.cargo/config.toml` (clang driving
 * mold, examples/custom-linker): the capture runs that linker for the
 * program, and patches still go in.
 */
describe('a linker set in .cargo/config.toml (examples/custom-linker)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('custom-linker');
    pid = await session.untilRunning(/^linked by mold, tick \d+$/);
  });
  after(async () => session?.remove());

  test('the program is linked by the configured linker', () => {
    const comment = execFileSync('readelf', ['-p', '.comment', join(session.targetDirectory, 'ipbp', 'debug', 'custom-linker')], { encoding: 'utf8' });
    assert.match(comment, /\bmold\b/, 'mold left its mark in .comment');
  });

  test('an edit is patched into the running program', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'linked by mold, tick', 'patched under mold, tick');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['custom_linker::greeting']);
    await session.waitForLine(/^patched under mold, tick \d+$/, from);
  });
});
