import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type Event, IpbpRun } from '../support/ipbp-run.js';
import { preloading, TEST_TARGETS } from '../support/targets.js';

const LINE = /^pid=(\d+) oldest=(\d+) newest=(\d+) regressions=(\d+) calls=(\d+)$/;

interface Report {
  pid: number;
  oldest: number;
  newest: number;
  regressions: number;
}

function parse(line: string): Report | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  return { pid: Number(match[1]), oldest: Number(match[2]), newest: Number(match[3]), regressions: Number(match[4]) };
}

/**
 * examples/threads under `ipbp run --processes 2`: eight threads per process
 * call the patched function in a tight loop while patches keep coming.
 */
for (const target of TEST_TARGETS) describe(`ipbp run with several processes and busy threads (examples/threads, ${target.name})`, () => {
  let session: IpbpRun;
  let pids: number[];
  let late: ChildProcess | undefined;
  const lateLines: string[] = [];
  let value = 1;

  before(async () => {
    session = await IpbpRun.start('threads', ['--processes', '2', ...target.args], target.env);
    const first = await session.waitForEvent((event) => event.event === 'ready', 180_000);
    const second = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== first.pid);
    pids = [first.pid as number, second.pid as number].sort();
  });
  after(async () => {
    late?.kill('SIGKILL');
    await session.remove();
  });

  async function patchTo(next: number, patchNumber: number): Promise<Event> {
    await session.edit('src/main.rs', `black_box(${value})`, `black_box(${next})`);
    value = next;
    return session.waitForEvent((event) => event.event === 'patched' && event.patch === patchNumber, 120_000);
  }

  async function waitUntilAllRun(pid: number, lines: () => string[], expected: number): Promise<Report> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const reports = lines().map(parse).filter((report): report is Report => report?.pid === pid);
      const last = reports.at(-1);
      if (last && last.oldest === expected && last.newest === expected) return last;
      if (Date.now() > deadline) throw new Error(`process ${pid} never ran version ${expected} in every thread; last: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('both processes receive a patch', async () => {
    const event = await patchTo(2, 1);
    assert.deepEqual([...(event.pids as number[])].sort(), pids);
    for (const pid of pids) await waitUntilAllRun(pid, () => session.stdout, 2);
  });

  test('a process started after a patch receives it when it connects', async () => {
    const info = await session.waitForEvent((event) => event.event === 'session');
    const [command, ...args] = [...target.runner, String(info.binary)];
    late = spawn(command!, args, {
      env: { ...process.env, ...preloading(target, String(info.agent)), IPBP_SOCKET: String(info.socket) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    late.stdout!.setEncoding('utf8');
    let partial = '';
    late.stdout!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      lateLines.push(...lines);
    });
    const pid = late.pid!;
    await session.waitForEvent((event) => event.event === 'ready' && event.pid === pid);
    const report = await waitUntilAllRun(pid, () => lateLines, 2);
    assert.equal(report.regressions, 0);
  });

  test('200 successive patches while 8 threads call the function: no crash, no stale call, all threads end on the newest code', async (t) => {
    // Two cores cannot run 24 spinning threads and rustc at once in reasonable time:
    // keep one process of eight threads for the stress.
    late!.kill('SIGKILL');
    process.kill(pids[1]!, 'SIGKILL');
    const survivor = pids[0]!;
    const started = Date.now();
    const firstPatch = 2;
    for (let i = 0; i < 200; i++) {
      const event = await patchTo(value + 1, firstPatch + i);
      assert.deepEqual(event.pids, [survivor]);
    }
    t.diagnostic(`200 patches in ${Math.round((Date.now() - started) / 1000)} s`);
    const report = await waitUntilAllRun(survivor, () => session.stdout, value);
    assert.equal(report.regressions, 0, 'no thread ran an older version after a newer one');
    assert.doesNotThrow(() => process.kill(survivor, 0), 'the process is still alive');
  });
});
