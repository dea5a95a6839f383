import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun, SHARED_TARGET_DIRECTORY } from '../support/ipbp-run.js';

/** `frame N position P`: the frame counter (a resource) and the position the report system reads. */
function parse(line: string): { frame: number; position: number } | undefined {
  const match = /^(?:frame|tick) (\d+) position (-?\d+)$/.exec(line);
  return match ? { frame: Number(match[1]), position: Number(match[2]) } : undefined;
}

/**
 * A headless bevy app (bevy_ecs and bevy_app from crates.io, examples/bevy-app):
 * its schedule is built once at start-up and holds each system behind a
 * trait object. A body edit patches the running systems and keeps the
 * world; a change of a system's parameters makes a new system the old
 * schedule never calls, so it restarts, and says so.
 */
describe('a headless bevy app (examples/bevy-app)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('bevy-app', [], { CARGO_TARGET_DIR: SHARED_TARGET_DIRECTORY });
    pid = await session.untilRunning(/^frame \d+ position \d+$/, 600_000);
  });
  after(async () => session?.remove());

  test('a system body edit is patched into the running schedule, and the world keeps its state', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'println!("frame {} position {}"', 'println!("tick {} position {}"');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    assert.deepEqual(patched.changed, ['bevy_app::report']);
    const before = session.stdout.slice(0, from).map(parse).filter((line) => line !== undefined).at(-1)!;
    const { line } = await session.waitForLine(/^tick \d+ position \d+$/, from);
    const after = parse(line)!;
    assert.ok(after.frame > before.frame, `the frame counter went on (${before.frame} -> ${after.frame}), it was not reset`);
    assert.equal(after.position, after.frame, 'the player moved once a frame all along');
  });

  test("a system's new parameters restart the app with the reason: the schedule built at start-up calls the old system", async () => {
    await session.edit('src/main.rs', 'positions: Query<&Position, With<Player>>', 'positions: Query<&Position, With<Enemy>>');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /^`bevy_app::report` changed its signature, and code built for the old one still calls the old version \(src\/main\.rs:\d+\)$/);
    assert.match((restart.details as string[])[0]!, /^`[^`]+` was made for the old signature; the edit replaced it, but what ran before it \(a vtable, a stored pointer\) still reaches it$/);
    assert.equal((await session.events()).filter((event) => event.event === 'patched').length, 1, 'nothing more was patched into the old process');
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    assert.notEqual(ready.pid, pid);
    // The new process reports the enemy, which starts at 100.
    await session.waitForLine(/^tick \d+ position 1\d\d$/, session.stdout.length, 120_000);
  });
});
