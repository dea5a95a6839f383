import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { readElfImage } from '../../src/object/elf/image.js';
import { type Event, IpbpRun } from '../support/ipbp-run.js';
import { TEST_TARGETS } from '../support/targets.js';

const run = promisify(execFile);

/**
 * `ipbp run` on the showcase workspace: one real process, edited step by
 * step, must print the new behaviour from the same pid while its state
 * (the tick counter) carries on.
 */
for (const target of TEST_TARGETS) describe(`ipbp run patches a running program (examples/showcase, ${target.name})`, () => {
  let session: IpbpRun;
  let pid: number;

  before(async () => {
    session = await IpbpRun.start('showcase', target.args, { RUST_BACKTRACE: '1', ...target.env });
    const ready = await session.waitForEvent((event) => event.event === 'ready', 180_000);
    pid = ready.pid as number;
    await session.waitForLine(/^tick=\d+ value=1 pointer=1 same-pointer=true$/);
  });
  after(async () => session.remove());

  async function patched(patchNumber: number): Promise<Event> {
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === patchNumber);
    assert.deepEqual(event.pids, [pid], 'the same process was patched');
    return event;
  }

  function lastTick(): number {
    for (let i = session.stdout.length - 1; i >= 0; i--) {
      const match = /^tick=(\d+) /.exec(session.stdout[i]!);
      if (match) return Number(match[1]);
    }
    return -1;
  }

  test('the program is built for the target and runs as it would under `cargo run`', async () => {
    const binary = join(session.directory, 'target', 'ipbp', ...target.outputDirectory, 'showcase');
    const header = await readFile(binary);
    assert.equal(header.readUInt16LE(18), target.machine, 'e_machine');
    assert.equal(basename(await readlink(`/proc/${pid}/exe`)), target.emulator ?? 'showcase');
  });

  test('a changed body runs at the next call; a function pointer taken before still compares equal and runs the new code', async () => {
    const before = lastTick();
    const from = session.stdout.length;
    await session.edit('app/src/main.rs', 'black_box(1)', 'black_box(2)');
    const event = await patched(1);
    assert.deepEqual(event.changed, ['showcase::value']);
    const { match } = await session.waitForLine(/^tick=(\d+) value=2 pointer=2 same-pointer=true$/, from);
    assert.ok(Number(match[1]) > before, 'the static tick counter kept counting across the patch');
    const ms = event.ms as Record<string, number>;
    for (const stage of ['compile', 'diff', 'link', 'load', 'total']) assert.equal(typeof ms[stage], 'number', `timing of ${stage}`);
  });

  test('a closure held in a struct runs its new body', async () => {
    const from = session.stdout.length;
    await session.edit('app/src/main.rs', 'x + 100', 'x + 200');
    await patched(2);
    await session.waitForLine(/ closure=201 /, from);
  });

  test('a trait method of a library crate reached through dyn Trait is patched', async () => {
    const from = session.stdout.length;
    await session.edit('shapes/src/lib.rs', 'self.0 * self.0\n', 'self.0 * self.0 + 1\n');
    const event = await patched(3);
    assert.ok((event.changed as string[]).includes('<shapes::Square as shapes::Shape>::area'));
    await session.waitForLine(/ area=10 /, from);
  });

  test('a generic library function instantiated in the binary is patched', async () => {
    const from = session.stdout.length;
    await session.edit('shapes/src/lib.rs', 'format!("<{value}>")', 'format!("[{value}]")');
    await patched(4);
    await session.waitForLine(/ describe=\[\d+\]$/, from);
  });

  test('a new function, a new static, a new string literal and a std function the binary never linked', async () => {
    const binary = await readFile(join(session.directory, 'target', 'ipbp', ...target.outputDirectory, 'showcase'));
    const image = readElfImage('showcase', binary);
    assert.ok(![...image.symbols.keys()].some((name) => name.includes('3std7process2id')), 'precondition: std::process::id is not linked');
    const from = session.stdout.length;
    await session.edit(
      'app/src/main.rs',
      '    String::from("none")\n',
      '    let next = NEW_COUNTER.fetch_add(1, Ordering::Relaxed);\n    format!("fresh-{}-{}", brand_new(next), std::process::id() > 0)\n}\n\nstatic NEW_COUNTER: AtomicU64 = AtomicU64::new(40);\n\n#[inline(never)]\nfn brand_new(next: u64) -> bool {\n    next >= 40\n',
    );
    const event = await patched(5);
    assert.ok((event.added as string[]).includes('showcase::brand_new'), `added: ${event.added}`);
    await session.waitForLine(/ extra=fresh-true-true$/, from);
  });

  test('a panic in patched code unwinds into catch_unwind in unpatched code, and the backtrace names the patched function', async () => {
    const from = session.stdout.length;
    const stderrBefore = session.stderr.length;
    await session.edit('app/src/main.rs', '    std::hint::black_box(tick)\n', '    if tick % 2 == 0 {\n        panic!("boom at {tick}");\n    }\n    std::hint::black_box(tick)\n');
    await patched(6);
    await session.waitForLine(/ risky=panicked /, from);
    await session.waitForStderr(/boom at \d+\nstack backtrace:\n[\s\S]*?\nnote: /);
    const output = session.stderr.slice(stderrBefore);
    const trace = /stack backtrace:\n([\s\S]*?)\nnote: /.exec(output)?.[1] ?? '';
    const frames = trace.split('\n').filter((line) => /^\s+\d+: /.test(line));
    assert.ok(
      frames.some((frame) => /^\s+\d+: showcase::risky$/.test(frame)),
      `a frame of the panic backtrace is the patched function:\n${trace}`,
    );
  });

  // Under qemu, gdb would attach to the emulator and see x86 code.
  test('gdb attached to the process sees the patched function at the jump target', { skip: target.emulator !== undefined && 'gdb cannot attach to a program under qemu-user' }, async () => {
    const { stdout } = await run('gdb', ['-batch', '-nx', '-p', String(pid), '-ex', "x/i 'showcase::risky'"], { timeout: 60_000 }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: `${error.stdout ?? ''}${error.stderr ?? ''}` }));
    const jump = stdout.split('\n').find((line) => line.includes('jmp'));
    assert.ok(jump, `gdb shows a jump at the original entry:\n${stdout}`);
    assert.match(jump, /jmp\s+0x[0-9a-f]+ <(_ZN8showcase5risky|showcase::risky)/, 'the jump target is symbolised as the patched function');
  });

  test('a compile error prints rustc diagnostics and leaves the app running; fixing it patches normally', async () => {
    await session.edit('app/src/main.rs', 'black_box(2)', 'black_box(2) +');
    const failure = await session.waitForEvent((event) => event.event === 'compile-error');
    assert.match(String(failure.message), /error/);
    await session.waitForStderr(/error(\[E\d+\])?: /);
    const from = session.stdout.length;
    await session.waitForLine(/value=2 /, from);
    await session.edit('app/src/main.rs', 'black_box(2) +', 'black_box(3)');
    await patched(7);
    await session.waitForLine(/^tick=\d+ value=3 pointer=3 same-pointer=true$/, from);
  });

  test('the heap, threads and a socket opened before the patches are still there', async () => {
    const { match } = await session.waitForLine(/^tick=\d+ port=(\d+)$/, session.stdout.length);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(match[1]), '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.equal(reply, 'still listening\n');
    // The boxed closure and trait object built before the first patch still answer.
    await session.waitForLine(/ area=10 closure=201 describe=\[\d+\]$/, session.stdout.length);
  });

  test('Ctrl-C stops the app and ipbp and leaves no process and no temporary file behind', async () => {
    const info = await session.waitForEvent((event) => event.event === 'session');
    const code = await session.stop();
    assert.equal(code, 0);
    assert.throws(() => process.kill(pid, 0), 'the app process is gone');
    assert.equal(existsSync(dirname(String(info.socket))), false, 'the private session directory is removed');
  });
});
