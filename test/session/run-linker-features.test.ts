import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { waitForNthEvent } from '../support/restart-demo.js';

/** `label=… picked=… weak=… started=…`, as examples/linker-features prints it. */
function parse(line: string): { label: string; picked: number; weak: number; started: number } | undefined {
  const match = /^label=(\S+) picked=(\d+) weak=(\d+) started=(\d+)$/.exec(line);
  return match ? { label: match[1]!, picked: Number(match[2]), weak: Number(match[3]), started: Number(match[4]) } : undefined;
}

/**
 * Symbols the linker and the loader treat specially (examples/linker-features):
 * a weak reference nothing defines is patched in as one; an indirect function
 * (ifunc) and the constructor table restart, each with its reason.
 */
describe('ifunc, weak and .init_array symbols (examples/linker-features)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('linker-features');
    pid = await session.untilRunning(/^label=one picked=7 weak=0 started=42$/);
  });
  after(async () => session?.remove());

  test('a patched function that reads a weak symbol nothing defines loads, and reads 0', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', '    address\n}', '    address + 1000\n}');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    const { line } = await session.waitForLine(/weak=1000 /, from);
    assert.deepEqual(parse(line), { label: 'one', picked: 7, weak: 1000, started: 42 });
  });

  test('a patched function that calls an ifunc restarts: the symbol is a resolver, not the function', async () => {
    await session.edit('src/main.rs', 'unsafe { ipbp_pick() }', 'unsafe { ipbp_pick() + 1 }');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /`linker_features::picked` calls `ipbp_pick`, an indirect function \(ifunc\) of the running program/);
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    pid = ready.pid as number;
    await session.waitForLine(/^label=one picked=8 weak=1000 started=42$/, 0, 120_000);
  });

  test('a new constructor in `.init_array` restarts: the loader runs it only at start-up', async () => {
    const restarts = (await session.events()).filter((event) => event.event === 'restart').length;
    await session.edit(
      'src/main.rs',
      'static AT_START: extern "C" fn() = at_start;',
      'static AT_START: extern "C" fn() = at_start;\n\nextern "C" fn also_at_start() {\n    STARTED.fetch_add(1, Ordering::Relaxed);\n}\n\n#[used]\n#[link_section = ".init_array"]\nstatic ALSO_AT_START: extern "C" fn() = also_at_start;',
    );
    const restart = await waitForNthEvent(session, 'restart', restarts + 1);
    assert.match(String(restart.reason), /`linker_features::ALSO_AT_START` in `\.init_array[^`]*` changed: the loader runs such functions only when the program starts or exits/);
    // Both constructors ran in the new process, in some order: 42 set, 1 added (or the other way round).
    await session.waitForLine(/^label=one picked=8 weak=1000 started=(43|42)$/, 0, 120_000);
  });
});
