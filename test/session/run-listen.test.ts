import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { readElfImage } from '../../src/object/elf/image.js';
import { IpbpRun } from '../support/ipbp-run.js';
import { preloading, TEST_TARGETS, type TestTarget } from '../support/targets.js';

/** A process started by hand, as on a device: its output lines, as they come. */
interface Device {
  readonly child: ChildProcess;
  readonly lines: string[];
}

/** Starts `binary` through the target's runner with the agent configured by environment alone: no Unix socket. */
function startDevice(target: TestTarget, binary: string, agent: string, connect: string, token: string): Device {
  const [command, ...args] = [...target.runner, binary];
  const child = spawn(command!, args, {
    env: { ...process.env, ...preloading(target, agent), IPBP_CONNECT: connect, IPBP_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  return { child, lines };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A device that ipbp refused keeps running its own code: it printed new lines over `ms`, and none of the patched text. */
async function keepsRunningUnpatched(device: Device, ms: number): Promise<void> {
  const before = device.lines.length;
  await new Promise((resolve) => setTimeout(resolve, ms));
  assert.equal(device.child.exitCode, null, 'the refused app is still running');
  assert.ok(device.lines.length > before, 'and still printing');
  assert.ok(device.lines.every((line) => line.startsWith('hello from tick')), `on its own code: ${device.lines.slice(-3).join(' | ')}`);
}

/**
 * `ipbp run --listen`: the path of an app on another device (a phone, a
 * board). The app is started by hand, not by ipbp, with the agent configured
 * by environment (`IPBP_CONNECT`, `IPBP_TOKEN`), and joins over loopback TCP;
 * patches are built on the host and applied there. A wrong token or another
 * build is refused, and that app runs on untouched.
 */
for (const target of TEST_TARGETS) describe(`ipbp run --listen: an app started elsewhere (examples/ticker, ${target.name})`, () => {
  let session: IpbpRun;
  const devices: Device[] = [];
  let local: number;
  let port: string;
  let token: string;
  let binary: string;
  let agent: string;

  before(async () => {
    session = await IpbpRun.start('ticker', ['--listen', '127.0.0.1:0', ...target.args], target.env);
    local = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    [, port, token] = (await session.waitForStderr(/listening on tcp 127\.0\.0\.1:(\d+); remote agents need IPBP_CONNECT=\S+ IPBP_TOKEN=([0-9a-f]{64})/)) as unknown as [string, string, string];
    const info = await session.waitForEvent((event) => event.event === 'session');
    binary = String(info.binary);
    agent = String(info.agent);
  });
  after(async () => {
    for (const device of devices) device.child.kill('SIGKILL');
    await session?.remove();
  });

  function device(path: string, presented: string): Device {
    const started = startDevice(target, path, agent, `127.0.0.1:${port}`, presented);
    devices.push(started);
    return started;
  }

  test('an app with a wrong token is refused and runs on', async () => {
    const wrong = device(binary, 'f'.repeat(64));
    await until(() => wrong.lines.length > 0, 'the app started');
    await session.waitForStderr(/refused a client \(wrong token\)/);
    await keepsRunningUnpatched(wrong, 1500);
    const events = await session.events();
    assert.ok(!events.some((event) => event.event === 'ready' && event.pid === wrong.child.pid), 'it never became patchable');
  });

  test('another build of the program is refused and runs on', async () => {
    // The same program with another build id: what a device still running last week's build presents.
    const bytes = await readFile(binary);
    const buildId = Buffer.from(readElfImage(binary, bytes).buildId, 'hex');
    const at = bytes.indexOf(buildId);
    assert.ok(buildId.length > 0 && at > 0, 'the program has a build id');
    bytes[at] = bytes[at]! ^ 0xff;
    const other = `${binary}-other-build`;
    await writeFile(other, bytes, { mode: 0o755 });
    const stale = device(other, token);
    await until(() => stale.lines.length > 0, 'the other build started');
    await session.waitForStderr(/refused a client \(another build\)|runs another build/);
    await keepsRunningUnpatched(stale, 1500);
  });

  test('an app that presents the token gets the patches, beside the local one, and the refused ones stay as they were', async () => {
    const copy = `${binary}-device`;
    await copyFile(binary, copy);
    const remote = device(copy, token);
    const joined = await session.waitForEvent((event) => event.event === 'ready' && event.pid === remote.child.pid);
    assert.notEqual(joined.pid, local);

    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("over tcp at tick {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 1);
    assert.deepEqual([...(patched.pids as number[])].sort(), [local, remote.child.pid!].sort());
    await session.waitForLine(/^over tcp at tick \d+$/);
    await until(() => remote.lines.some((line) => line.startsWith('over tcp at tick')), 'the remote process runs the new code');
    // The device loaded the library from the bytes it was sent, not from a path on ipbp's disk; the local app from its path.
    const remoteMaps = await readFile(`/proc/${remote.child.pid}/maps`, 'utf8');
    assert.match(remoteMaps, /\/memfd:ipbp-patch-1 /, 'the device maps the patch it received');
    assert.doesNotMatch(remoteMaps, /\/patch-1-\d+\.so/);
    assert.match(await readFile(`/proc/${local}/maps`, 'utf8'), /\/patch-1-\d+\.so/);
    for (const refused of devices.slice(0, 2)) await keepsRunningUnpatched(refused, 500);
  });
});
