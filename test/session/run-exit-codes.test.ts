import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/** `ipbp run` exits as `cargo run` does: with the program's own code, or 101 when the build fails. */
describe('exit codes as cargo run gives them (examples/ticker)', () => {
  test('an app that exits by itself passes its exit code on', async () => {
    const session = await IpbpRun.start('ticker');
    try {
      await session.waitForEvent((event) => event.event === 'ready', 180_000);
      await session.edit('src/main.rs', 'format!("hello from tick {tick}")', '{ std::process::exit(3) }');
      await session.waitForEvent((event) => event.event === 'exited' && event.code === 3);
      assert.equal(await session.waitForExit(), 3);
    } finally {
      await session.remove();
    }
  });

  test('a build that fails before the app starts exits 101', async () => {
    const session = await IpbpRun.start('ticker', [], {}, {
      beforeLaunch: async (directory) => {
        const main = join(directory, 'src', 'main.rs');
        await writeFile(main, (await readFile(main, 'utf8')).replace('format!("hello from tick {tick}")', 'format!("hello from tick {tick}") +'));
      },
    });
    try {
      assert.equal(await session.waitForExit(120_000), 101);
      assert.match(session.stderr, /error/);
    } finally {
      await session.remove();
    }
  });
});
