import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { REPOSITORY } from '../support/repository.js';

const IPBP = join(REPOSITORY, 'bin', 'ipbp.js');

/** `ipbp log` and `ipbp status` from another terminal: what the session's own log says, nothing else. */
describe('following a session from another terminal (examples/ticker)', () => {
  let session: IpbpRun;
  after(async () => session?.remove());

  const other = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const result = spawnSync(process.execPath, [IPBP, ...args], { cwd: session.directory, encoding: 'utf8', timeout: 30_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  test('ipbp log lists each patch with its file and functions; ipbp status names the session, its app and the last patch', async () => {
    session = await IpbpRun.start('ticker');
    const pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await session.edit('src/main.rs', '"hello from tick {tick}"', '"hi from tick {tick}"');
    await session.waitForEvent((event) => event.event === 'patched' && event.patch === 1);
    await session.edit('src/main.rs', '"hi from tick {tick}"', '"hey from tick {tick}"');
    await session.waitForEvent((event) => event.event === 'patched' && event.patch === 2);

    const log = other('log');
    assert.equal(log.status, 0, log.stderr);
    assert.match(log.stdout, new RegExp(`^\\d\\d:\\d\\d:\\d\\d  pid ${pid} running, patchable$`, 'm'));
    assert.match(log.stdout, /^\d\d:\d\d:\d\d {2}patch 1 live in \d+ ms {2}src\/main\.rs: ticker::greeting$/m);
    assert.match(log.stdout, /^\d\d:\d\d:\d\d {2}patch 2 live in \d+ ms {2}src\/main\.rs: ticker::greeting$/m);

    const status = other('status');
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^ipbp run \\(pid \\d+\\) is running this project; app pid ${pid}$`, 'm'));
    assert.match(status.stdout, /^last patch: .*patch 2 live/m);
  });

  test('ipbp log --follow shows the next patch as it comes', async () => {
    const follower = spawn(process.execPath, [IPBP, 'log', '--follow'], { cwd: session.directory, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    follower.stdout.setEncoding('utf8');
    const third = new Promise<void>((resolve) =>
      follower.stdout.on('data', (chunk: string) => {
        seen += chunk;
        if (/patch 3 live/.test(seen)) resolve();
      }),
    );
    try {
      await session.waitForEvent((event) => event.event === 'patched' && event.patch === 2);
      // The follower lists what came before, then waits.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.match(seen, /patch 2 live/);
      await session.edit('src/main.rs', '"hey from tick {tick}"', '"howdy from tick {tick}"');
      await Promise.race([third, new Promise((_, reject) => setTimeout(() => reject(new Error(`no patch 3 in: ${seen}`)), 60_000))]);
    } finally {
      follower.kill();
    }
  });

  test('ipbp log --follow goes on into the next session, whose log starts afresh', async () => {
    const follower = spawn(process.execPath, [IPBP, 'log', '--follow'], { cwd: session.directory, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    follower.stdout.setEncoding('utf8');
    follower.stdout.on('data', (chunk: string) => (seen += chunk));
    const next = { session: undefined as IpbpRun | undefined };
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await session.stop();
      const mark = seen.length;
      next.session = IpbpRun.again(session, 'events-2.jsonl');
      await next.session.waitForEvent((event) => event.event === 'ready', 180_000);
      await next.session.edit('src/main.rs', '"howdy from tick {tick}"', '"hello again from tick {tick}"');
      await next.session.waitForEvent((event) => event.event === 'patched');
      const deadline = Date.now() + 30_000;
      while (!/patch 1 live/.test(seen.slice(mark)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(seen.slice(mark), /patch 1 live in \d+ ms {2}src\/main\.rs: ticker::greeting/);
    } finally {
      follower.kill();
      await next.session?.remove();
    }
  });
});
