import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/** Kills every rustc working in `directory` as soon as it shows up, until stopped: a real fault (OOM killer, a stray `kill`), not a mock. */
function killRustcIn(directory: string): { stop: () => Promise<number> } {
  let running = true;
  let killed = 0;
  const loop = (async () => {
    while (running) {
      for (const entry of await readdir('/proc').catch(() => [] as string[])) {
        if (!/^\d+$/.test(entry)) continue;
        const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
        if (comm.trim() !== 'rustc') continue;
        if ((await readlink(`/proc/${entry}/cwd`).catch(() => '')) !== directory) continue;
        try {
          process.kill(Number(entry), 'SIGKILL');
          killed++;
        } catch {
          // Gone already.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return killed;
    },
  };
}

describe('the compiler killed while it compiles an edit (examples/ticker)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('ticker');
    pid = await session.untilRunning(/^hello from tick \d+$/);
  });
  after(async () => session?.remove());

  test('is reported as such, and the app keeps running its current code', async () => {
    const killer = killRustcIn(session.directory);
    try {
      await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("never compiled {tick}")');
      const failed = await session.waitForEvent((event) => event.event === 'patch-failed');
      assert.match(String(failed.message), /^rustc was killed \(SIGKILL\) while compiling ticker\nsave again to compile it again$/);
    } finally {
      assert.ok((await killer.stop()) > 0, 'a rustc was killed');
    }
    const from = session.stdout.length;
    await session.waitForLine(/^hello from tick \d+$/, from);
    assert.equal(session.exited, false);
    assert.match(session.stderr, /patch failed: rustc was killed \(SIGKILL\) while compiling ticker; the app keeps running its current code/);
  });

  test('the next save compiles and patches the same process', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'format!("never compiled {tick}")', 'format!("compiled at last {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    await session.waitForLine(/^compiled at last \d+$/, from);
    assert.equal((await session.events()).filter((event) => event.event === 'restart').length, 0);
  });
});
