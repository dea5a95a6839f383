import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

const run = promisify(execFile);

/**
 * The first `ipbp run` of a project the user already built with `cargo
 * build`: ipbp's own build tree (`target/ipbp`) takes the dependencies'
 * builds from the user's `target/debug` instead of compiling them again.
 */
describe('a fresh target/ipbp reuses what `cargo build` built (examples/dependency-reuse)', () => {
  let session: IpbpRun;
  after(async () => session?.remove());

  test('the crates.io dependency is not compiled again, and the app is patched as ever', async () => {
    // The copy's own target directory, as a user's project has: nothing in it but what this `cargo build` makes.
    session = await IpbpRun.start('dependency-reuse', [], {}, {
      beforeLaunch: async (directory) => void (await run('cargo', ['build', '--quiet'], { cwd: directory })),
    });
    await session.waitForEvent((event) => event.event === 'ready', 180_000);
    await session.waitForLine(/^tick \d+$/);
    assert.match(session.stderr, /took the builds of 1 dependency from the project's own `cargo build` into target\/ipbp/);
    assert.doesNotMatch(session.stderr, /Compiling itoa/);
    assert.match(session.stderr, /Compiling dependency-reuse/);
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'format!("tick {}"', 'format!("tock {}"');
    await session.waitForEvent((event) => event.event === 'patched');
    await session.waitForLine(/^tock \d+$/, from);
  });
});
