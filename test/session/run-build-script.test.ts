import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Event, IpbpRun } from '../support/ipbp-run.js';

/** One line of examples/build-script. */
interface TickLine {
  readonly tick: number;
  readonly total: number;
  readonly greeting: string;
  readonly flavour: string;
  readonly decoration: string;
}

const LINE = /^tick=(\d+) total=(\d+) greeting=(\S+) flavour=(\S+) decoration=(\S+)$/;

function parse(line: string): TickLine | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const [, tick, total, greeting, flavour, decoration] = match;
  return { tick: Number(tick), total: Number(total), greeting: greeting!, flavour: flavour!, decoration: decoration! };
}

/**
 * examples/build-script generates code from the files in its `config/`
 * (its build script's `rerun-if-changed` inputs) and sets an environment
 * variable and a cfg from them. An edit of such a file reruns the script as
 * cargo would and patches what it generated into the running process.
 */
describe('build scripts rerun on their inputs (examples/build-script)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('build-script', ['--', '20']);
    pid = await session.untilRunning(LINE);
  });
  after(async () => session?.remove());

  /** The first line printed from now on for which `matches` holds. */
  function nextLine(matches: (line: TickLine) => boolean): Promise<TickLine> {
    return session.waitForParsedLine(parse, matches, session.stdout.length);
  }

  async function restarts(): Promise<Event[]> {
    return (await session.events()).filter((event) => event.event === 'restart');
  }

  test('a changed input of the build script reruns it, and the generated function is patched in place', async () => {
    const before = await nextLine(() => true);
    await session.edit('config/greeting.txt', 'hello', 'bonjour');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 1);
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['build_script::generated::greeting']);
    const after = await nextLine((line) => line.greeting === 'bonjour');
    assert.ok(after.tick > before.tick, `the same process went on counting (${before.tick} -> ${after.tick})`);
    assert.match(session.stderr, /rerunning the build script of `build-script`/);
    assert.equal((await restarts()).length, 0);
  });

  test('a generated constant: the function that reads it is patched, and the total goes on from where it was', async () => {
    const before = await nextLine(() => true);
    await session.edit('config/step.txt', '1', '1000');
    await session.waitForEvent((event) => event.event === 'patched' && event.patch === 2);
    const after = await nextLine((line) => line.total - line.tick >= 1000);
    assert.ok(after.total < before.total + (after.tick - before.tick) * 1000, `the total was not reset, it grew by 1000 per tick from ${before.total}`);
    assert.equal((await restarts()).length, 0);
  });

  test('a new `rustc-env` value from the script is compiled in and patched', async () => {
    await session.edit('config/flavour.txt', 'plain', 'spicy');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 3);
    assert.deepEqual(patched.pids, [pid]);
    await nextLine((line) => line.flavour === 'spicy' && line.greeting === 'bonjour');
    assert.equal((await restarts()).length, 0);
  });

  test('a build script that fails when rerun is reported, and the app keeps running its code', async () => {
    await session.edit('config/greeting.txt', 'bonjour', 'PANIC');
    const failed = await session.waitForEvent((event) => event.event === 'patch-failed');
    assert.match(String(failed.message), /a build script failed when rerun/);
    const line = await nextLine(() => true);
    assert.equal(line.greeting, 'bonjour', 'still the code it ran');
    await session.edit('config/greeting.txt', 'PANIC', 'salut');
    await session.waitForEvent((event) => event.event === 'patched' && event.patch === 4);
    await nextLine((candidate) => candidate.greeting === 'salut');
    assert.equal((await restarts()).length, 0);
  });

  test('a new cfg from the script changes how the crate is compiled: a restart that names it, then the new code', async () => {
    await session.edit('config/cfg.txt', 'plain', 'fancy');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /a build script's new output changes how `build_script` is compiled/);
    assert.match((restart.details as string[]).join('\n'), /\+--cfg|\+fancy/);
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid, 180_000);
    pid = ready.pid as number;
    const line = await nextLine((candidate) => candidate.decoration === '*');
    assert.equal(line.greeting, 'salut');
  });

  test('after the restart, the rerun inputs are watched again', async () => {
    await session.edit('config/greeting.txt', 'salut', 'hej');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && (event.pids as number[]).includes(pid));
    assert.deepEqual(patched.changed, ['build_script::generated::greeting']);
    await nextLine((line) => line.greeting === 'hej' && line.decoration === '*');
  });
});
