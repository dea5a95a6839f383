import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Event, IpbpRun } from '../support/ipbp-run.js';
import { REPOSITORY } from '../support/repository.js';

/**
 * `ipbp run` in an interactive terminal (a pseudo-terminal made by
 * util-linux `script`), as a developer runs it: cargo's progress, one ready
 * line, and one-key commands. The app (examples/bench-small) reads commands
 * from stdin: `quit` ends it.
 */
describe('keys in a terminal: h, p, r, q (examples/bench-small)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('bench-small', [], {}, { terminal: true });
    pid = await session.untilRunning(/tick \d+ \[rev 0\]/);
  });
  after(async () => session.remove());

  test("cargo's build output passes through, then one ready line names the app, what is watched, and the keys", async () => {
    const ready = await session.waitForStderr(/\[ipbp\] ready in [\d.]+ s: bench-small \(pid (\d+)\) is patchable, watching \d+ source files of 1 crate and \d+ build files; save a file to patch it; press h for keys/);
    assert.equal(Number(ready[1]), pid);
    assert.ok(session.stderr.indexOf('Compiling bench-small') < session.stderr.indexOf('[ipbp] ready in'), "cargo's lines come first");
    assert.equal(session.stderr.match(/\[ipbp\] ready in/g)?.length, 1, 'one ready line');
  });

  test('h lists the keys', async () => {
    session.press('h');
    await session.waitForStderr(/keys: r restart[^\n]*· p pause[^\n]*· q quit[^\n]*· h show these keys/);
  });

  test('p pauses patching: a save waits, and is patched when p is pressed again', async () => {
    session.press('p');
    await session.waitForStderr(/patching paused/);
    await session.edit('src/main.rs', '[rev 0]', '[rev 1]');
    // Long enough for a patch of this app to be live several times over, were patching not paused.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(!(await session.events()).some((event) => event.event === 'patched'), 'no patch while paused');
    const from = session.stdout.length;
    assert.ok(!session.stdout.slice(-3).some((line) => line.includes('[rev 1]')), 'the app still runs the old code');
    session.press('p');
    await session.waitForStderr(/patching resumed: patching `src\/main\.rs`/);
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    await session.waitForLine(/tick \d+ \[rev 1\]/, from);
  });

  test('r restarts the app now, on a fresh build, and says why', async () => {
    session.press('r');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.equal(restart.reason, 'restart asked for (r)');
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    assert.notEqual(ready.pid, pid, 'a new process');
    await session.waitForStderr(/\[ipbp\] ready in[\s\S]*\[ipbp\] ready in/);
  });

  test('q quits: the app stops with ipbp, which exits 0', async () => {
    session.press('q');
    assert.equal(await session.waitForExit(), 0);
    const events: Event[] = await session.events();
    assert.ok(!events.some((event) => event.event === 'crashed'));
  });
});

describe('--no-keys in a terminal: stdin is the app’s, as under cargo run (examples/bench-small)', () => {
  let session: IpbpRun;

  before(async () => {
    session = await IpbpRun.start('bench-small', ['--no-keys'], {}, { terminal: true });
    await session.untilRunning(/tick \d+ \[rev 0\]/);
  });
  after(async () => session.remove());

  test('the ready line offers no keys, and a typed q is not a command', async () => {
    await session.waitForStderr(/\[ipbp\] ready in [^\n]*save a file to patch it\n/);
    assert.doesNotMatch(session.stderr, /press h for keys/);
    session.press('q\n');
    const from = session.stdout.length;
    await session.waitForLine(/tick \d+ \[rev 0\]/, from + 3);
    assert.equal(session.exited, false);
  });

  test('a line typed at the terminal reaches the app: `quit` ends it, and ipbp with its exit code', async () => {
    session.press('quit\n');
    await session.waitForEvent((event) => event.event === 'exited' && event.code === 0);
    assert.equal(await session.waitForExit(), 0);
  });
});

describe('Ctrl-C in a terminal that ipbp reads keys from (examples/ticker)', () => {
  test('quits ipbp and the app, as it does outside one', async () => {
    const session = await IpbpRun.start('ticker', [], {}, { terminal: true });
    try {
      const pid = await session.untilRunning(/hello from tick \d+/);
      session.press('\u0003');
      assert.equal(await session.waitForExit(), 0);
      assert.throws(() => process.kill(pid, 0), 'the app is gone');
    } finally {
      await session.remove();
    }
  });
});

describe('`ipbp run &` in an interactive shell (examples/ticker)', () => {
  test('reads no keys in the background, so the terminal does not stop it, and runs the app as in the foreground', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ipbp-background-'));
    try {
      await cp(join(REPOSITORY, 'examples', 'ticker'), join(directory, 'app'), { recursive: true, filter: (path) => !path.includes('/target') });
      // A shell with job control, in a terminal: `&` puts ipbp in a background process group.
      await writeFile(
        join(directory, 'session.sh'),
        [
          `cd ${JSON.stringify(join(directory, 'app'))}`,
          `${JSON.stringify(process.execPath)} ${JSON.stringify(join(REPOSITORY, 'bin', 'ipbp.js'))} run --events ../events.jsonl > ../ipbp.log 2>&1 &`,
          'for i in $(seq 1 900); do grep -q \'"event":"ready"\' ../events.jsonl 2>/dev/null && break; sleep 0.2; done',
          'jobs -l > ../jobs.txt',
          'kill -INT %1',
          'wait',
        ].join('\n'),
      );
      const shell = spawn('script', ['-qfec', `bash -ic 'source ${join(directory, 'session.sh')}'`, '/dev/null'], { stdio: 'ignore' });
      await new Promise((resolve) => shell.once('exit', resolve));
      assert.match(await readFile(join(directory, 'jobs.txt'), 'utf8'), /Running/);
      const log = await readFile(join(directory, 'ipbp.log'), 'utf8');
      assert.match(log, /\[ipbp\] ready in [^\n]*save a file to patch it\n/);
      assert.doesNotMatch(log, /press h for keys/);
      assert.match(log, /hello from tick \d+/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
