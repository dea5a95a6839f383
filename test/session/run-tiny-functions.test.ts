import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { AARCH64_UNDER_QEMU, HOST } from '../support/targets.js';

/**
 * A release build optimized for size packs functions without padding
 * (examples/tiny-functions): on x86_64 `one` is 4 bytes, and the next
 * function starts right after it, so the 5-byte jump of a redirect would
 * overwrite that one.
 */
describe(`a function shorter than the entry jump (examples/tiny-functions, --release, ${HOST.name})`, () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('tiny-functions', ['--release']);
    pid = await session.untilRunning(/^zero=0 one=1$/);
  });
  after(async () => session?.remove());

  test('editing it restarts with the reason, never writing over its neighbour', async () => {
    await session.edit('src/main.rs', '    1\n}', '    11\n}');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /^`tiny_functions::one` is [1-4] bytes long, too short for an entry jump \(src\/main\.rs:\d+\)$/);
    assert.equal((await session.events()).filter((event) => event.event === 'patched').length, 0);
    await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    await session.waitForLine(/^zero=0 one=11$/, 0, 120_000);
  });
});

/**
 * On aarch64 the shortest function is two instructions (`mov; ret`), and
 * the entry jump one (`b`, patches being placed within its reach): the
 * same edit patches in place.
 */
describe(`a function of two instructions (examples/tiny-functions, --release, ${AARCH64_UNDER_QEMU.name})`, () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('tiny-functions', ['--release', ...AARCH64_UNDER_QEMU.args], AARCH64_UNDER_QEMU.env);
    pid = await session.untilRunning(/^zero=0 one=1$/);
  });
  after(async () => session?.remove());

  test('editing it patches the running process, and its neighbour still answers', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', '    1\n}', '    11\n}');
    const outcome = await session.waitForEvent((event) => event.event === 'patched' || event.event === 'restart' || event.event === 'patch-failed', 180_000);
    assert.equal(outcome.event, 'patched', JSON.stringify(outcome));
    assert.deepEqual(outcome.pids, [pid]);
    await session.waitForLine(/^zero=0 one=11$/, from);
  });
});
