import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type Event, IpbpRun } from '../support/ipbp-run.js';
import { isRunning, runningProcessesMentioning, waitForDescendant } from '../support/process-tree.js';
import { countEvents, waitForNthEvent } from '../support/restart-demo.js';
import { differingFiles, snapshotSources } from '../support/source-snapshot.js';

const run = promisify(execFile);

/** examples/ticker prints `hello from tick N` five times a second, from `greeting`. */
const GREETING = 'format!("hello from tick {tick}")';
const MAIN = 'src/main.rs';

/** The body `greeting` formats with, so that each revision prints lines of its own. */
function greetingSaying(words: string): string {
  return `format!("${words} {tick}")`;
}

function linePattern(words: string): RegExp {
  return new RegExp(`^${words} \\d+$`);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The text of the copy's `src/main.rs` with the greeting body `from` replaced by one saying `words` (not written). */
async function mainSaying(session: IpbpRun, from: string, words: string): Promise<string> {
  const text = await readFile(join(session.directory, MAIN), 'utf8');
  assert.equal(text.split(from).length, 2, `greeting body must occur once in ${MAIN}: ${from}`);
  return text.replace(from, greetingSaying(words));
}

/**
 * Waits until the app prints `words` (from output index `from` on), and
 * checks that it was patched in place: patch number `patches` went to the
 * process that was started first, and no other process was ever started.
 */
async function expectPatchedLine(session: IpbpRun, pid: number, patches: number, words: string, from: number): Promise<void> {
  await session.waitForLine(linePattern(words), from);
  const patched = await waitForNthEvent(session, 'patched', patches);
  assert.deepEqual(patched.pids, [pid], 'the same process got the patch');
  assert.equal(await countEvents(session, 'ready'), 1, 'no other process was started');
  assert.equal(await countEvents(session, 'restart'), 0);
  assert.equal(isRunning(pid), true);
}

/** ipbp said nothing went wrong: no error, no failure, no exit status of a killed child, no stack. */
function assertQuiet(stderr: string): void {
  assert.doesNotMatch(stderr, /error|failed|exit code null/i, `stderr:\n${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack on stderr:\n${stderr}`);
}

function assertNoFailureEvents(events: readonly Event[]): void {
  const failures = events.filter((event) => ['compile-error', 'patch-failed', 'crashed'].includes(event.event));
  assert.deepEqual(failures, [], 'no compile error, failed patch or crash was reported');
}

/**
 * Nothing of the project copy runs any more: not the app, not cargo, not
 * rustc (`seen`: pids of processes that ran below ipbp). Killed processes
 * may take a moment to be gone: this waits for it, and fails naming those left.
 */
async function assertNothingLeft(session: IpbpRun, seen: readonly number[]): Promise<void> {
  const left = async (): Promise<string[]> => [
    ...(await runningProcessesMentioning(session.directory)).map((entry) => `${entry.pid} (${entry.name})`),
    ...seen.filter(isRunning).map((pid) => String(pid)),
  ];
  try {
    await until('the processes of the copy to end', async () => (await left()).length === 0);
  } catch (error) {
    throw new Error(`${String(error)}; still running: ${(await left()).join(', ')}`);
  }
}

/** Whether a rustc command line compiles the crate `name`. */
function compiles(name: string): (argv: string[]) => boolean {
  return (argv) => argv.some((arg, i) => arg === '--crate-name' && argv[i + 1] === name);
}

describe('a save that replaces the file (delete and re-create) reaches the running app (examples/ticker)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('ticker');
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await session.waitForLine(/^hello from tick \d+$/);
  });
  after(async () => session.remove());

  test('written to a temporary file, the original unlinked, the copy renamed into place; then a save in place', async () => {
    const path = join(session.directory, MAIN);
    const next = join(session.directory, 'main.rs.next');
    let from = session.stdout.length;
    await writeFile(next, await mainSaying(session, GREETING, 'replaced at'));
    await unlink(path);
    await rename(next, path);
    await expectPatchedLine(session, pid, 1, 'replaced at', from);

    from = session.stdout.length;
    await session.edit(MAIN, greetingSaying('replaced at'), greetingSaying('saved in place at'));
    await expectPatchedLine(session, pid, 2, 'saved in place at', from);
  });

  test('`rm`, a pause, then `cp`: the missing file is no edit, its return is; then a save in place', async () => {
    const path = join(session.directory, MAIN);
    const copy = join(session.directory, 'main.rs.copy');
    await writeFile(copy, await mainSaying(session, greetingSaying('saved in place at'), 'copied back at'));
    let from = session.stdout.length;
    await unlink(path);
    // Long enough for the deletion to be seen alone: compiling without the file would be a compile error.
    await sleep(500);
    await copyFile(copy, path);
    await expectPatchedLine(session, pid, 3, 'copied back at', from);

    from = session.stdout.length;
    await session.edit(MAIN, greetingSaying('copied back at'), greetingSaying('saved again at'));
    await expectPatchedLine(session, pid, 4, 'saved again at', from);
    assertNoFailureEvents(await session.events());
  });
});

describe('`git checkout` back and forth between revisions reaches the running app (examples/ticker)', () => {
  let session: IpbpRun;
  let pid: number;
  /** Git in the copy, blind to the developer's own configuration (hooks, signing). */
  const git = async (...args: string[]): Promise<string> => {
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
    const { stdout } = await run('git', ['-c', 'user.name=ipbp test', '-c', 'user.email=test@ipbp.invalid', ...args], { cwd: session.directory, env });
    return stdout.trim();
  };

  before(async () => {
    session = await IpbpRun.start('ticker');
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await session.waitForLine(/^hello from tick \d+$/);
  });
  after(async () => session.remove());

  test('the app prints revision A, then B, then A again, in the same process', async () => {
    await git('init', '-q');
    await git('add', MAIN);
    await git('commit', '-q', '-m', 'A');
    const revisionA = await git('rev-parse', 'HEAD');
    let from = session.stdout.length;
    await session.edit(MAIN, GREETING, greetingSaying('revision B at'));
    await expectPatchedLine(session, pid, 1, 'revision B at', from);
    await git('commit', '-q', '-a', '-m', 'B');
    const revisionB = await git('rev-parse', 'HEAD');

    // Git replaces a file it checks out: it unlinks the old one and creates a new one.
    let patches = 1;
    for (const [revision, words] of [
      [revisionA, 'hello from tick'],
      [revisionB, 'revision B at'],
      [revisionA, 'hello from tick'],
    ] as const) {
      from = session.stdout.length;
      await git('checkout', '-q', revision);
      await expectPatchedLine(session, pid, ++patches, words, from);
    }
    assertNoFailureEvents(await session.events());
  });
});

describe('a second `ipbp run` on a project with no edit since the first (examples/ticker)', () => {
  let first: IpbpRun;
  let second: IpbpRun | undefined;

  before(async () => {
    first = await IpbpRun.start('ticker');
    await first.waitForEvent((event) => event.event === 'ready', 180_000);
    await first.waitForLine(/^hello from tick \d+$/);
  });
  after(async () => {
    await second?.stop();
    await first.remove();
  });

  test('starts the app from a fresh capture and patches an edit', async () => {
    assert.equal(await first.stop(), 0, 'Ctrl-C ends the first session cleanly');
    const files = await snapshotSources(first.directory);

    second = IpbpRun.again(first, 'events-second.jsonl');
    const pid = (await second.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await second.waitForLine(/^hello from tick \d+$/);
    assert.doesNotMatch(second.stderr, /did not link/);

    const from = second.stdout.length;
    await second.edit(MAIN, GREETING, greetingSaying('second session at'));
    await expectPatchedLine(second, pid, 1, 'second session at', from);

    const expected = new Map(files);
    expected.set(MAIN, await readFile(join(first.directory, MAIN)));
    assert.deepEqual(differingFiles(expected, await snapshotSources(first.directory)), [], 'ipbp wrote none of the project files');
  });
});

describe('Ctrl-C while building or compiling ends ipbp quietly, leaving nothing running (examples/ticker)', () => {
  /** How the test sends Ctrl-C: to ipbp alone (`kill -INT`), or to its process group as a terminal does. */
  const modes = [
    { name: 'SIGINT to ipbp', processGroup: false, interrupt: (session: IpbpRun) => session.child.kill('SIGINT') },
    { name: "a terminal's Ctrl-C (SIGINT to the process group)", processGroup: true, interrupt: (session: IpbpRun) => session.interruptGroup() },
  ];

  for (const mode of modes) {
    test(`during the first build: ${mode.name}`, async () => {
      const session = await IpbpRun.start('ticker', [], {}, { processGroup: mode.processGroup });
      try {
        await session.waitForStderr(/building with cargo/, 180_000);
        // Cargo is compiling the program: its rustc runs below ipbp.
        const below = await waitForDescendant(session.child.pid!, 'rustc', compiles('ticker'));
        mode.interrupt(session);
        assert.equal(await session.waitForExit(), 0);
        assertQuiet(session.stderr);
        const events = await session.events();
        assertNoFailureEvents(events);
        assert.equal(events.filter((event) => event.event === 'ready').length, 0, 'no app was started');
        await assertNothingLeft(session, below.map((entry) => entry.pid));
      } finally {
        await session.remove();
      }
    });

    test(`during a recompile: ${mode.name}`, async () => {
      const session = await IpbpRun.start('ticker', [], {}, { processGroup: mode.processGroup });
      try {
        const pid = await session.untilRunning(/^hello from tick \d+$/);
        await session.edit(MAIN, GREETING, greetingSaying('never patched at'));
        const rustc = (await waitForDescendant(session.child.pid!, 'rustc')).find((entry) => entry.name === 'rustc')!.pid;
        mode.interrupt(session);
        assert.equal(await session.waitForExit(), 0);
        assertQuiet(session.stderr);
        const events = await session.events();
        assertNoFailureEvents(events);
        assert.deepEqual(events.filter((event) => event.event === 'patched'), [], 'no patch is reported live in an app that is gone');
        assert.doesNotMatch(session.stderr, /live in/);
        await assertNothingLeft(session, [pid, rustc]);
      } finally {
        await session.remove();
      }
    });
  }
});

describe('SIGHUP and SIGTERM stop the app and ipbp as Ctrl-C does (examples/ticker)', () => {
  for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
    test(signal, async () => {
      const session = await IpbpRun.start('ticker');
      try {
        const pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
        await session.waitForLine(/^hello from tick \d+$/);
        session.child.kill(signal);
        assert.equal(await session.waitForExit(), 0, 'ipbp ends the session and exits, rather than dying of the signal');
        assertQuiet(session.stderr);
        assertNoFailureEvents(await session.events());
        await assertNothingLeft(session, [pid]);
      } finally {
        await session.remove();
      }
    });
  }
});
