import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IpbpRun, SHARED_TARGET_DIRECTORY } from '../support/ipbp-run.js';

/** The request number of a log line, if it is one. */
function requestOf(line: string): number | undefined {
  const match = /request=(\d+)/.exec(line);
  return match ? Number(match[1]) : undefined;
}

/**
 * A tokio service instrumented with `tracing` (examples/tracing-service, on
 * crates.io's tokio, tracing and tracing-subscriber). Every `info!` is a
 * callsite static holding its line number: ordinary edits move them, and
 * must patch in place, keeping the service's state (its request counter).
 */
describe('a tracing-instrumented tokio service (examples/tracing-service)', () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('tracing-service', [], { CARGO_TARGET_DIR: SHARED_TARGET_DIRECTORY });
    pid = await session.untilRunning(/INFO serve\{request=\d+\}: handled request=\d+ answer=\d+$/, 600_000);
  });
  after(async () => session?.remove());

  /** The last request the service handled before output line `from`. */
  function lastRequestBefore(from: number): number {
    return session.stdout.slice(0, from).map(requestOf).filter((request) => request !== undefined).at(-1)!;
  }

  test('a line inserted above an `info!` patches in place, and the moved callsite still logs', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', '    let answer = handle(request);', '    // A comment that moves every line below it.\n    let answer = handle(request);');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    const before = lastRequestBefore(from);
    // A line logged after the patch was delivered: the counter went on from where it was.
    const { line } = await session.waitForLine(/handled request=\d+/, session.stdout.length);
    assert.ok(requestOf(line)! > before, `the request counter went on (${before} -> ${requestOf(line)})`);
    assert.equal((await session.events()).filter((event) => event.event === 'restart').length, 0, 'no restart');
  });

  test('a new `warn!` patches in place, and the subscriber sees the new callsite', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', '    request * 2', '    if request % 3 == 0 {\n        tracing::warn!(request, "a multiple of three");\n    }\n    request * 2');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 2);
    assert.deepEqual(patched.pids, [pid]);
    const { line } = await session.waitForLine(/WARN serve\{request=\d+\}: a multiple of three request=\d+$/, from);
    assert.equal(requestOf(line)! % 3, 0);
    assert.ok(requestOf(line)! > lastRequestBefore(from), 'same process, same counter');
    assert.equal((await session.events()).filter((event) => event.event === 'restart').length, 0, 'no restart');
  });

  test('an edit of the message of an `info!` patches in place', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', '"handled"', '"served"');
    await session.waitForEvent((event) => event.event === 'patched' && event.patch === 3);
    const { line } = await session.waitForLine(/INFO serve\{request=\d+\}: served request=\d+ answer=\d+$/, from);
    assert.ok(requestOf(line)! > lastRequestBefore(from));
  });

  test("the program's first `println!` patches in place: the patch reaches std's thread-locals", async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', '    request * 2', '    println!("plain line for request {request}");\n    request * 2');
    const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === 4);
    assert.deepEqual(patched.pids, [pid]);
    const { line } = await session.waitForLine(/^plain line for request \d+$/, from);
    assert.ok(Number(/\d+/.exec(line)![0]) > lastRequestBefore(from), 'same process, same counter');
    assert.equal((await session.events()).filter((event) => event.event === 'restart').length, 0, 'no restart');
  });

  test('a new local held across an `.await` restarts: the future suspended before the edit has the old layout', async () => {
    await session.edit('src/main.rs', '        serve(request).await;', '        let served_at = request;\n        serve(request).await;\n        std::hint::black_box(served_at);');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /^state of an async block in `tracing_service::main` changed \(size \d+ -> \d+; …\) \(src\/main\.rs:\d+\)$/);
    assert.ok(String(restart.reason).length < 200, 'one short line');
    const details = (restart.details as string[]).join('\n');
    assert.match(details, /field `served_at: u64` added/, 'the details say what changed');
    assert.match(details, /closures and futures made before the edit may still be live/);
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid);
    assert.notEqual(ready.pid, pid);
  });
});
