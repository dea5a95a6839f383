import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { editAll, waitForDemoLine } from '../support/restart-demo.js';
import { SecondRun } from '../support/second-run.js';
import { TEST_TARGETS } from '../support/targets.js';

/** Whether `pid` still runs: a zombie nobody reaped yet counts as gone. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const target of TEST_TARGETS) describe(`\`ipbp attach\` adopts the app of a killed \`ipbp run\` (examples/restart-demo, ${target.name})`, () => {
  let session: IpbpRun;
  let app: number;
  let attach: SecondRun | undefined;
  let sessionDirectory = '';
  const written = new Map<string, Buffer>();

  before(async () => {
    session = await IpbpRun.start('restart-demo', target.args, target.env);
    app = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    sessionDirectory = dirname(String((await session.waitForEvent((event) => event.event === 'session')).socket));
    // One patch before the kill: the adopting session must find it in the process.
    await editAll(session, 'src/main.rs', [['"v1"', '"v2"']], written);
    await session.waitForEvent((event) => event.event === 'patched');
    await waitForDemoLine(session, app, (line) => line.label === 'v2');
    session.child.kill('SIGKILL');
    await new Promise((resolve) => session.child.once('exit', resolve));
  });
  after(async () => {
    await attach?.stop();
    if (isRunning(app)) process.kill(app, 'SIGKILL');
    await session.remove();
    // Removed by a session that ends normally; not if a test failed before.
    if (sessionDirectory) await rm(sessionDirectory, { recursive: true, force: true });
  });

  test('attach adopts the same process and knows the patch it runs', async () => {
    assert.ok(isRunning(app), 'the app outlived its ipbp');
    attach = new SecondRun(session.directory, 'events-attach.jsonl', 'attach', target.env);
    const adopted = await attach.waitForEvent((event) => event.event === 'adopted');
    assert.deepEqual([adopted.pid, adopted.patches], [app, [1]]);
    await attach.waitForStderr(new RegExp(`adopted pid ${app} \\(patch 1 applied\\)`));
    await attach.waitForEvent((event) => event.event === 'ready' && event.pid === app);
    assert.doesNotMatch(attach.stderr, /building with cargo/, 'attach never builds to start');
  });

  test('an edit is patched into the adopted process', async () => {
    const from = session.stdout.length;
    await editAll(session, 'src/main.rs', [['"v2"', '"v3"']], written);
    await waitForDemoLine(session, app, (line) => line.label === 'v3', from);
    const patched = await attach!.waitForEvent((event) => event.event === 'patched' && (event.pids as number[]).includes(app));
    assert.ok((patched.patch as number) > 1, 'new patch ids follow the killed session’s');
  });

  test('Ctrl-C ends the session and stops the adopted process, as for a launched one', async () => {
    await attach!.stop();
    assert.equal(attach!.exitCode, 0);
    await until(`pid ${app} to stop`, () => !isRunning(app));
  });

  test('with no app to adopt, attach fails with one clear line', async () => {
    const again = new SecondRun(session.directory, 'events-attach-again.jsonl', 'attach', target.env);
    assert.equal(await again.exit(), 1);
    assert.equal(again.stderr, 'ipbp: error: no app of this project is running under ipbp; start one with `ipbp run`\n');
  });
});
