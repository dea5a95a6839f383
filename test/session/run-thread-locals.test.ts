import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { TEST_TARGETS } from '../support/targets.js';

const LINE = /^pid=(\d+) thread=([ab]) eager=(\d+) lazy=(\d+) rounds=(\d+) library=(\d+)$/;

interface Line {
  readonly pid: number;
  readonly thread: string;
  readonly eager: number;
  readonly lazy: number;
  readonly rounds: number;
  readonly library: number;
}

function parse(line: string): Line | undefined {
  const match = LINE.exec(line);
  return match ? { pid: Number(match[1]), thread: match[2]!, eager: Number(match[3]), lazy: Number(match[4]), rounds: Number(match[5]), library: Number(match[6]) } : undefined;
}

/**
 * Waits until `thread`'s `key` stops growing by one from line to line (the
 * old code) and asserts that the first other step is `step` (the new code,
 * on the same thread-local), and the next one too; returns the two lines
 * of the change.
 */
async function changeOf(session: IpbpRun, from: number, thread: string, key: 'eager' | 'rounds' | 'library', step: number): Promise<[Line, Line]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const lines = session.stdout.slice(from).map(parse).filter((line): line is Line => line?.thread === thread);
    const at = lines.findIndex((line, i) => i > 0 && line[key] - lines[i - 1]![key] !== 1);
    if (at > 0 && at + 1 < lines.length) {
      const steps = [lines[at]![key] - lines[at - 1]![key], lines[at + 1]![key] - lines[at]![key]];
      assert.deepEqual(steps, [step, step], `thread ${thread} went on from its own ${key}: ${JSON.stringify(lines.slice(Math.max(0, at - 2), at + 2))}`);
      return [lines[at - 1]!, lines[at]!];
    }
    assert.ok(Date.now() < deadline, `thread ${thread} never changed how it counts ${key}: ${JSON.stringify(lines.slice(-6))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * examples/thread-locals, edits of code that uses the program's own
 * thread-locals: the executable's (local exec) and a library crate's
 * (general dynamic; a TLS descriptor on aarch64). The patch reaches each
 * thread's existing values. A release build: a debug build reaches them
 * through std's accessor functions, which the edits leave unchanged, where
 * an optimized one inlines the access into the edited function. Its codegen
 * units are ThinLTO'd together, which renames what they promote at every
 * edit: the edit must still be only the edited function's.
 */
for (const target of TEST_TARGETS) describe(`thread-locals the program has (examples/thread-locals, ${target.name})`, () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('thread-locals', ['--release', ...target.args], target.env);
    pid = await session.untilRunning(/^pid=\d+ thread=[ab] eager=0 lazy=0 rounds=\d+ library=\d+$/);
  });
  after(async () => session.remove());

  for (const [file, key, name] of [
    ['src/main.rs', 'rounds', 'ROUNDS'],
    ['src/lib.rs', 'library', 'LIBRARY_ROUNDS'],
  ] as const) {
    test(`an edit of ${file} counts on in each thread's ${name}`, async () => {
      const from = session.stdout.length;
      await session.edit(file, `${name}.set(${name}.get() + 1);`, `${name}.set(${name}.get() + 10);`);
      const patched = await session.waitForEvent((event) => event.event === 'patched' || event.event === 'restart' || event.event === 'patch-failed', 180_000);
      assert.equal(patched.event, 'patched', JSON.stringify(patched));
      assert.deepEqual(patched.pids, [pid]);
      for (const thread of ['a', 'b']) {
        const [before, after] = await changeOf(session, from, thread, key, 10);
        assert.equal(after.pid, pid);
        assert.ok(before[key] > 1, `thread ${thread} had counted before the edit: ${JSON.stringify(before)}`);
      }
    });
  }
});

/** The edit that gives `count` two thread-locals new in it, one `const`-initialized and one lazily initialized. */
const NEW_THREAD_LOCALS: readonly [string, string] = [
  'fn count() -> (u64, u64) {\n    (0, 0)\n}',
  [
    'thread_local! {',
    '    static EAGER: std::cell::Cell<u64> = const { std::cell::Cell::new(100) };',
    '    static LAZY: std::cell::Cell<u64> = std::cell::Cell::new(std::hint::black_box(1000));',
    '}',
    '',
    'fn count() -> (u64, u64) {',
    '    EAGER.set(EAGER.get() + 1);',
    '    LAZY.set(LAZY.get() + 1);',
    '    (EAGER.get(), LAZY.get())',
    '}',
  ].join('\n'),
];

/**
 * examples/thread-locals: two threads call `count()` in a loop. An edit makes
 * `count` use two thread-locals new in the edit, one `const`-initialized and
 * one lazily initialized: the patch brings them in its own (static) TLS
 * block, which every thread already running gets a copy of.
 */
for (const target of TEST_TARGETS) describe(`thread-locals new in an edit (examples/thread-locals, ${target.name})`, () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('thread-locals', target.args, target.env);
    pid = await session.untilRunning(/^pid=\d+ thread=[ab] eager=0 lazy=0 rounds=\d+ library=\d+$/);
  });
  after(async () => session.remove());

  test('an edit that adds thread_local!s is patched in place, and each thread counts its own values from their initial ones', async () => {
    await session.edit('src/main.rs', ...NEW_THREAD_LOCALS);
    const patched = await session.waitForEvent((event) => event.event === 'patched' || event.event === 'restart' || event.event === 'patch-failed', 180_000);
    assert.equal(patched.event, 'patched', `patched, not ${JSON.stringify(patched)}`);
    assert.deepEqual(patched.pids, [pid]);

    // Both threads have printed a few values of the new code.
    await session.waitForLine(new RegExp(`^pid=${pid} thread=a eager=105 lazy=1005 `), 0, 60_000);
    await session.waitForLine(new RegExp(`^pid=${pid} thread=b eager=105 lazy=1005 `), 0, 60_000);
    const lines = session.stdout.map(parse).filter((line): line is Line => line !== undefined);
    assert.ok(
      lines.every((line) => line.pid === pid),
      'no restart: one process throughout',
    );
    for (const thread of ['a', 'b']) {
      const counted = lines.filter((line) => line.thread === thread && line.eager !== 0);
      // Each thread starts from the initial values and counts by one: no other thread's calls in between.
      assert.deepEqual(
        counted.slice(0, 5).map((line) => [line.eager, line.lazy]),
        [1, 2, 3, 4, 5].map((n) => [100 + n, 1000 + n]),
        `thread ${thread}: ${JSON.stringify(counted.slice(0, 8))}`,
      );
    }
  });

  test('a later edit of the code that uses them keeps each thread\'s values: it reaches them through the first patch', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', '    EAGER.set(EAGER.get() + 1);', '    EAGER.set(EAGER.get() + 2);');
    const patched = await session.waitForEvent((event) => event.event === 'restart' || event.event === 'patch-failed' || (event.event === 'patched' && event.patch === 2), 180_000);
    assert.equal(patched.event, 'patched', JSON.stringify(patched));
    assert.deepEqual(patched.pids, [pid]);
    for (const thread of ['a', 'b']) {
      // Two lines in a row of the new code: counting by two from where the thread was, not from the initial value.
      const [before, after] = await changeOf(session, from, thread, 'eager', 2);
      assert.equal(after.pid, pid);
      assert.ok(before.eager > 105 && before.lazy > 1005, `thread ${thread} kept its values: ${JSON.stringify(before)}`);
      assert.equal(after.lazy, before.lazy + 1, `thread ${thread}'s lazy one still counts by one`);
    }
  });
});
