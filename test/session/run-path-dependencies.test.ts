import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

const LINE = /^tick=(\d+) sum=(\d+) label=(\S+) number=(\d+)$/;

interface TickLine {
  readonly tick: number;
  readonly sum: number;
  readonly label: string;
  readonly number: number;
}

function parse(line: string): TickLine | undefined {
  const match = LINE.exec(line);
  return match ? { tick: Number(match[1]), sum: Number(match[2]), label: match[3]!, number: Number(match[4]) } : undefined;
}

/**
 * examples/path-dependencies: the app (its own workspace, in `app/`) uses a
 * library beside it by path (`shared-lib`) and a `[patch.crates-io]` local
 * checkout of `itoa`. Neither is a workspace member, and cargo runs no
 * workspace wrapper for them; they are the user's code all the same, and
 * are patched like members, also in a second `ipbp run` of the project.
 */
describe('path dependencies outside the workspace (examples/path-dependencies)', () => {
  let session: IpbpRun;
  let pid: number;
  const args = ['--manifest-path', 'app/Cargo.toml', '--', '20'];

  before(async () => {
    session = await IpbpRun.start('path-dependencies', args);
    pid = await session.untilRunning(LINE);
  });
  after(async () => session?.remove());

  /** The first line from output index `from` on for which `matches` holds. */
  function lineFrom(from: number, matches: (line: TickLine) => boolean): Promise<TickLine> {
    return session.waitForParsedLine(parse, matches, from);
  }

  test('an edit of a path dependency outside the workspace is patched in place, and its state is kept', async () => {
    const from = session.stdout.length;
    const before = await lineFrom(from, () => true);
    await session.edit('shared-lib/src/lib.rs', 'label=plain', 'label=shiny');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 1);
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['shared_lib::Tally::describe']);
    const after = await lineFrom(from, (line) => line.label === 'shiny');
    assert.equal(after.sum, (after.tick * (after.tick + 1)) / 2, 'the running sum was kept, never reset');
    assert.ok(after.tick > before.tick);
  });

  test('an edit of a `[patch]`ed local checkout of a crates.io crate is patched in place', async () => {
    const from = session.stdout.length;
    await session.edit('checkouts/itoa/src/lib.rs', "b'0' + (value % 10) as u8", "b'0' + (9 - value % 10) as u8");
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 2);
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['itoa::Buffer::format']);
    // Each digit d now prints as 9 - d.
    const line = await lineFrom(from, (candidate) => candidate.number !== candidate.tick * 1000);
    assert.equal(String(line.number), [...String(line.tick * 1000)].map((digit) => String(9 - Number(digit))).join(''));
  });

  test("a path dependency's manifest is a build file: a change to it restarts, naming it", async () => {
    await session.edit('shared-lib/Cargo.toml', 'publish = false', 'publish = false\ndescription = "changed"');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /^`\.\.\/shared-lib\/Cargo\.toml` changed: the build itself/);
    pid = (await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid, 180_000)).pid as number;
  });

  test('a second `ipbp run` of the project still patches the path dependencies', async () => {
    assert.equal(await session.stop(), 0);
    session = IpbpRun.again(session, 'events-2.jsonl', args);
    pid = await session.untilRunning(LINE);
    const from = session.stdout.length;
    await session.edit('shared-lib/src/lib.rs', 'label=shiny', 'label=again');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 1);
    assert.deepEqual(patched.pids, [pid]);
    await lineFrom(from, (line) => line.label === 'again');
  });
});
