import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/** `ipbp run --listen`: a process elsewhere joins over TCP with the session token and is patched too. */
describe('ipbp run --listen (examples/ticker)', () => {
  let session: IpbpRun;
  let remote: ChildProcess | undefined;
  const remoteLines: string[] = [];
  after(async () => {
    remote?.kill('SIGKILL');
    await session?.remove();
  });

  test('an agent that presents the token over TCP gets the patches', async () => {
    session = await IpbpRun.start('ticker', ['--listen', '127.0.0.1:0']);
    const local = await session.waitForEvent((event) => event.event === 'ready', 180_000);
    const [, port, token] = await session.waitForStderr(/listening on tcp 127\.0\.0\.1:(\d+); remote agents need IPBP_CONNECT=\S+ IPBP_TOKEN=([0-9a-f]{64})/);
    const info = await session.waitForEvent((event) => event.event === 'session');
    remote = spawn(String(info.binary), [], {
      // A "remote" process: no Unix socket, only the TCP address and the token.
      env: { ...process.env, LD_PRELOAD: String(info.agent), IPBP_CONNECT: `127.0.0.1:${port}`, IPBP_TOKEN: token! },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    remote.stdout!.setEncoding('utf8').on('data', (chunk: string) => remoteLines.push(...chunk.split('\n').filter(Boolean)));
    const joined = await session.waitForEvent((event) => event.event === 'ready' && event.pid === remote!.pid);
    assert.notEqual(joined.pid, local.pid);

    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("over tcp at tick {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 1);
    assert.deepEqual([...(patched.pids as number[])].sort(), [local.pid as number, remote.pid!].sort());
    await session.waitForLine(/^over tcp at tick \d+$/);
    const deadline = Date.now() + 10_000;
    while (!remoteLines.some((line) => line.startsWith('over tcp at tick'))) {
      assert.ok(Date.now() < deadline, 'the remote process runs the new code');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
