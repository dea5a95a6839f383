import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { countEvents, editAll, isAlive, waitForNthEvent } from '../support/restart-demo.js';

interface RoundLine {
  readonly index: number;
  readonly round: number;
  readonly pid: number;
  readonly players: string;
  readonly board: string;
}

/**
 * Type layout changes on examples/layout, read from the debug info of the
 * old and new objects. `Player` has a migration registered with
 * `ipbp::migrate`: its new field is patched in and the players' scores
 * survive. `Board` has none: changing it restarts the app, naming the type.
 */
describe('type layout changes (examples/layout)', () => {
  let session: IpbpRun;
  let pid: number;
  const written = new Map<string, Buffer>();

  before(async () => {
    session = await IpbpRun.start('layout');
    pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await waitForRound(0, (line) => line.pid === pid);
  });
  after(async () => session.remove());

  function roundLines(from: number): RoundLine[] {
    const lines: RoundLine[] = [];
    for (let index = from; index < session.stdout.length; index++) {
      const match = /^round=(\d+) pid=(\d+) players=(\S*) board=(\S*)$/.exec(session.stdout[index]!);
      if (match) lines.push({ index, round: Number(match[1]), pid: Number(match[2]), players: match[3]!, board: match[4]! });
    }
    return lines;
  }

  async function waitForRound(from: number, matches: (line: RoundLine) => boolean): Promise<RoundLine> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const found = roundLines(from).find(matches);
      if (found) return found;
      if (Date.now() > deadline || session.exited) throw new Error(`no matching round line\n--- stderr:\n${session.stderr.slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('a struct that gains a field is migrated by the app\'s hook: same process, state kept', async () => {
    const from = session.stdout.length;
    const before = await waitForRound(from, (line) => line.pid === pid);
    const scoreBefore = Number(/ann=(\d+)/.exec(before.players)![1]);
    await editAll(
      session,
      'src/main.rs',
      [
        ['    score: u32,\n}', '    score: u32,\n    level: u32,\n}'],
        ['Player { name, score }', 'Player { name, level: score / 10, score }'],
        ['format!("{}={}", player.name, player.score)', 'format!("{}={}/L{}", player.name, player.score, player.level)'],
      ],
      written,
    );
    const patched = await session.waitForEvent((event) => event.event === 'patched', 120_000);
    assert.deepEqual(patched.pids, [pid], 'patched in place, no restart');
    assert.deepEqual(patched.migrated, ['layout::Player']);
    const migrated = await waitForRound(from, (line) => line.players.includes('/L'));
    assert.equal(migrated.pid, pid);
    const [, score, level] = /ann=(\d+)\/L(\d+)/.exec(migrated.players)!;
    assert.ok(Number(score) > scoreBefore, `ann's score went on from ${scoreBefore} to ${score}: the state survived`);
    assert.ok(Number(level) >= Math.floor(scoreBefore / 10), 'the new field was filled in by the new code');
    assert.match(migrated.players, /bob=\d+\/L\d+/);
    assert.equal(await countEvents(session, 'restart'), 0);
    assert.match(session.stderr, /migrated `layout::Player`/);
  });

  test('a struct without a migration restarts the app, naming the type and what changed', async () => {
    const oldPid = pid;
    const readies = await countEvents(session, 'ready');
    await editAll(
      session,
      'src/main.rs',
      [
        ['struct Board {\n    width: u32,\n}', 'struct Board {\n    width: u32,\n    height: u32,\n}'],
        ['Board { width: 8 }', 'Board { width: 8, height: 6 }'],
        ['format!("{}", board.width)', 'format!("{}x{}", board.width, board.height)'],
      ],
      written,
    );
    const restart = await waitForNthEvent(session, 'restart', 1);
    const reason = String(restart.reason);
    assert.match(reason, /layout of `layout::Board` changed \(size 4 -> 8/);
    assert.match(reason, /height/);
    assert.match((restart.details as string[]).join('\n'), /ipbp::migrate::<layout::Board>/, 'the details say how to keep the state instead');
    assert.doesNotMatch(reason, /layout::Player/, 'the migrated type is not the reason');
    pid = (await waitForNthEvent(session, 'ready', readies + 1)).pid as number;
    assert.notEqual(pid, oldPid);
    const line = await waitForRound(0, (candidate) => candidate.pid === pid);
    assert.equal(line.board, '8x6', 'the new process runs the new code');
    assert.equal(isAlive(oldPid), false);
  });
});
