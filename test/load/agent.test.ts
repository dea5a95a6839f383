/**
 * The patch channel end to end.
 *
 * First the CLI side against a scripted agent (fast, any platform). Then a
 * real Rust process with the real agent injected by LD_PRELOAD: it says
 * hello, refuses bad patches while the app keeps running, and redirects a
 * function into a hand-assembled patch while several threads call it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureAgentBuilt } from '../../src/load/agent-build.js';
import type { Refusal } from '../../src/deliver/refusals.js';
import { AgentDisconnectedError, type AgentConnection } from '../../src/deliver/agent-connection.js';
import { encodeFrame, FrameSplitter, MAX_PAYLOAD_BYTES } from '../../src/deliver/frames.js';
import { decodeMessage, encodeMessage, type HelloMessage, type Message, PROTOCOL_VERSION, type ThreadStack } from '../../src/deliver/protocol.js';
import { PatchServer } from '../../src/deliver/server.js';
import { repositoryUrl } from '../support/repository.js';

const run = promisify(execFile);

// ---------------------------------------------------------------------------
// Helpers

/** Resolves with the first emission of `event` (its arguments as a tuple). */
function nextEvent<Args extends unknown[]>(subscribe: (listener: (...args: Args) => void) => void, timeoutMs = 10_000): Promise<Args> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    subscribe((...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A protocol-speaking stand-in for the agent, driven by the test. */
class ScriptedAgent {
  private readonly splitter = new FrameSplitter();
  private readonly received: Message[] = [];
  private waiting: ((message: Message) => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const payload of this.splitter.push(chunk)) {
        const message = decodeMessage(payload);
        const waiter = this.waiting;
        this.waiting = undefined;
        if (waiter) waiter(message);
        else this.received.push(message);
      }
    });
  }

  static connect(path: string): Promise<ScriptedAgent> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new ScriptedAgent(socket)));
      socket.once('error', reject);
    });
  }

  send(message: Message): void {
    this.socket.write(encodeFrame(encodeMessage(message)));
  }

  next(): Promise<Message> {
    const queued = this.received.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

const sampleHello: HelloMessage = {
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  pid: 1234,
  buildId: Uint8Array.of(0xab, 0xcd),
  exePath: '/bin/app',
  loadBias: 0x5555_0000_0000n,
  imageStart: 0x5555_0000_0000n,
  imageEnd: 0x5555_0010_0000n,
};

const samplePatch = { patchId: 1, buildId: Uint8Array.of(0xab, 0xcd), path: '/tmp/p.so', base: 0x5554_0000_0000n, redirects: [{ from: 1n, to: 2n }] };

// ---------------------------------------------------------------------------

describe('PatchServer with a scripted agent', () => {
  let server: PatchServer;

  before(async () => {
    server = await PatchServer.start({ helloTimeoutMs: 500 });
  });
  after(async () => {
    await server.close();
  });

  it('listens in a private directory', () => {
    const info = statSync(server.directory);
    assert.equal(info.mode & 0o777, 0o700);
    assert.ok(server.socketPath.startsWith(server.directory));
    assert.ok(statSync(server.socketPath).isSocket());
  });

  it('exposes the hello, answers requests in order and forwards logs', async () => {
    const connected = nextEvent<[AgentConnection]>((f) => server.once('connected', f));
    const agent = await ScriptedAgent.connect(server.socketPath);
    agent.send(sampleHello);
    const [connection] = await connected;
    assert.equal(connection.pid, 1234);
    assert.equal(connection.buildIdHex, 'abcd');
    assert.equal(connection.imageEnd, 0x5555_0010_0000n);
    assert.deepEqual(server.connections, [connection]);

    const first = connection.loadPatch(samplePatch);
    const second = connection.loadPatch({ ...samplePatch, patchId: 2 });
    const request = await agent.next();
    // A request without a hook table goes out with hooks = 0: the app does not use the ipbp crate.
    assert.deepEqual(request, { type: 'load-patch', ...samplePatch, library: new Uint8Array(), hooks: 0n, migrations: '', tlsFixups: [] });
    assert.equal((await agent.next()).type, 'load-patch');

    const logged = nextEvent<[AgentConnection, string]>((f) => server.once('log', f));
    agent.send({ type: 'log', message: 'slow thread' });
    assert.equal((await logged)[1], 'slow thread');

    const stacks: ThreadStack[] = [
      { tid: 1235, status: 'complete', frames: [0x5555_0000_1234n, 0x5555_0000_5678n] },
      { tid: 1236, status: 'unknown', frames: [0x7fff_0000_9abcn] },
    ];
    agent.send({ type: 'patch-result', patchId: 1, ok: true, message: '', loadUs: 10n, redirectUs: 20n, needsRestart: false, stacks });
    agent.send({ type: 'patch-result', patchId: 2, ok: false, message: 'no', loadUs: 0n, redirectUs: 0n, needsRestart: false, stacks: [] });
    assert.deepEqual(await first, { patchId: 1, ok: true, message: '', loadUs: 10n, redirectUs: 20n, needsRestart: false, stacks });
    assert.equal((await second).message, 'no');

    const pending = connection.loadPatch({ ...samplePatch, patchId: 3 });
    const disconnected = nextEvent<[AgentConnection, string]>((f) => server.once('disconnected', f));
    agent.socket.end();
    await assert.rejects(pending, (error) => error instanceof AgentDisconnectedError && /before answering patch 3/.test(error.message));
    assert.match((await disconnected)[1], /the agent closed the connection/);
    assert.deepEqual(server.connections, []);
    await assert.rejects(connection.loadPatch(samplePatch), AgentDisconnectedError);
  });

  it('drops an agent that answers the wrong patch', async () => {
    const connected = nextEvent<[AgentConnection]>((f) => server.once('connected', f));
    const agent = await ScriptedAgent.connect(server.socketPath);
    agent.send(sampleHello);
    const [connection] = await connected;
    const pending = connection.loadPatch(samplePatch);
    await agent.next();
    agent.send({ type: 'patch-result', patchId: 9, ok: true, message: '', loadUs: 0n, redirectUs: 0n, needsRestart: false, stacks: [] });
    await assert.rejects(pending, /answered patch 9 but patch 1 was expected/);
  });

  const refusals: ReadonlyArray<readonly [string, Buffer, RegExp]> = [
    ['garbage', encodeFrame(Buffer.of(0xff, 1, 2, 3)), /unknown message tag 255/],
    ['a truncated hello', encodeFrame(encodeMessage(sampleHello).subarray(0, 10)), /truncated/],
    ['an oversized frame', Buffer.from([0x01, 0x00, 0x00, 0x01]), /frame announces 16777217 bytes/],
    ['a message other than hello first', encodeFrame(encodeMessage({ type: 'log', message: 'hi' })), /expected hello, got log/],
    ['another protocol version', encodeFrame(encodeMessage({ ...sampleHello, protocolVersion: PROTOCOL_VERSION + 1 })), new RegExp(`speaks protocol ${PROTOCOL_VERSION + 1}`)],
  ];
  for (const [what, bytes, reason] of refusals) {
    it(`refuses a connection that sends ${what}`, async () => {
      const refused = nextEvent<[Refusal]>((f) => server.once('refused', f));
      const agent = await ScriptedAgent.connect(server.socketPath);
      const closed = nextEvent<[]>((f) => agent.socket.once('close', f));
      agent.socket.write(bytes);
      assert.match((await refused)[0].detail, reason);
      await closed;
    });
  }

  it('drops a connected agent that later sends garbage', async () => {
    const connected = nextEvent<[AgentConnection]>((f) => server.once('connected', f));
    const agent = await ScriptedAgent.connect(server.socketPath);
    agent.send(sampleHello);
    const [connection] = await connected;
    const disconnected = nextEvent<[string]>((f) => connection.once('disconnected', f));
    agent.socket.write(Buffer.from([0x01, 0x00, 0x00, 0x01]));
    assert.match((await disconnected)[0], /dropped: frame announces 16777217 bytes/);
    assert.equal(MAX_PAYLOAD_BYTES, 0x0100_0000);
  });

  it('refuses a connection that never says hello', async () => {
    const refused = nextEvent<[Refusal]>((f) => server.once('refused', f));
    await ScriptedAgent.connect(server.socketPath);
    assert.match((await refused)[0].detail, /no hello within 500 ms/);
  });

  it('close() disconnects everyone and removes the directory', async () => {
    const other = await PatchServer.start();
    const connected = nextEvent<[AgentConnection]>((f) => other.once('connected', f));
    const agent = await ScriptedAgent.connect(other.socketPath);
    agent.send(sampleHello);
    const [connection] = await connected;
    const rejected = assert.rejects(connection.loadPatch(samplePatch), /the CLI is shutting down/);
    await other.close();
    await rejected;
    assert.equal(existsSync(other.directory), false);
  });
});

// ---------------------------------------------------------------------------

/** The app under test. `value()` is what gets patched; the extra threads
 * call it in a tight loop, so the redirect happens while it is running. */
const APP_SOURCE = `
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static CALLS: AtomicU64 = AtomicU64::new(0);

// black_box: otherwise LLVM propagates the constant into the callers and
// deletes the calls (and the function) even with inline(never).
#[inline(never)]
fn value() -> u64 {
    std::hint::black_box(1)
}

fn main() {
    // The agent must not be injected into processes the app starts.
    let child = std::process::Command::new("sh")
        .args(["-c", "echo \\"child-env: [$LD_PRELOAD] [$IPBP_SOCKET]\\""])
        .output()
        .expect("sh");
    std::io::stdout().write_all(&child.stdout).unwrap();
    for _ in 0..3 {
        std::thread::spawn(|| loop {
            CALLS.fetch_add(value(), Ordering::Relaxed);
        });
    }
    loop {
        let line = format!("value: {}\\n", value());
        if std::io::stdout().lock().write_all(line.as_bytes()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
`;

/** `value_v2`: the replacement, returning 2. */
function patchAssembly(name: string, returns: number): string {
  return `
  .text
  .globl ${name}
  .type ${name}, @function
${name}:
  mov $${returns}, %eax
  ret
  .size ${name}, . - ${name}
  .section .note.GNU-stack, "", @progbits
`;
}

/** The stdout of a child, line by line, with a way to wait for a line. */
class OutputLines {
  readonly lines: string[] = [];
  private partial = '';
  private readonly waiters = new Set<() => void>();

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const waiter of this.waiters) waiter();
    });
  }

  /** Index of the first line at or after `from` that equals `line`. */
  async waitFor(line: string, from = 0, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.lines.indexOf(line, from);
      if (index >= 0) return index;
      if (Date.now() > deadline) throw new Error(`no line ${JSON.stringify(line)} within ${timeoutMs} ms; last lines: ${this.lines.slice(-5).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
        setTimeout(wake, 50);
      });
    }
  }
}

async function symbolAddress(file: string, matches: (name: string) => boolean): Promise<bigint> {
  const { stdout } = await run('nm', ['--defined-only', file]);
  for (const line of stdout.split('\n')) {
    const [address, , name] = line.trim().split(/\s+/);
    if (address && name && matches(name)) return BigInt(`0x${address}`);
  }
  throw new Error(`no matching symbol in ${file}`);
}

/** `[start, end)` of a symbol, from its value and size. */
async function symbolRange(file: string, matches: (name: string) => boolean): Promise<{ start: bigint; end: bigint }> {
  const { stdout } = await run('nm', ['--print-size', '--defined-only', file]);
  for (const line of stdout.split('\n')) {
    const [address, size, , name] = line.trim().split(/\s+/);
    if (address && size && name && matches(name)) {
      const start = BigInt(`0x${address}`);
      return { start, end: start + BigInt(`0x${size}`) };
    }
  }
  throw new Error(`no matching sized symbol in ${file}`);
}

/** Thread id to name (`comm`) of every thread of process `pid`. */
async function threadsOf(pid: number): Promise<Map<number, string>> {
  const threads = new Map<number, string>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    threads.set(Number(tid), (await readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8')).trim());
  }
  return threads;
}

function describeStacks(stacks: readonly ThreadStack[]): string {
  return stacks.map((stack) => `${stack.tid} ${stack.status} [${stack.frames.map((f) => f.toString(16)).join(' ')}]`).join('; ');
}

async function readelfBuildId(file: string): Promise<string> {
  const { stdout } = await run('readelf', ['-n', file]);
  const match = /Build ID: ([0-9a-f]+)/.exec(stdout);
  assert.ok(match, `readelf found no build id in ${file}`);
  return match[1]!;
}

/** True when nothing is mapped in `[start, end)` of process `pid`. */
async function rangeIsFree(pid: number, start: bigint, end: bigint): Promise<boolean> {
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
  return maps
    .split('\n')
    .filter(Boolean)
    .every((line) => {
      const [low, high] = line.split(' ')[0]!.split('-').map((h) => BigInt(`0x${h}`));
      return high! <= start || low! >= end;
    });
}

const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

describe('the agent in a real process', { skip: onLinuxX64 ? false : 'Linux x86_64 only' }, () => {
  const children = new Set<ChildProcess>();
  let workDirectory: string;
  let agentLibrary: string;
  let appPath: string;
  let linker: string;
  let server: PatchServer;
  let app: ChildProcess;
  let appOutput: OutputLines;
  let appErrors: OutputLines;
  let agent: AgentConnection;

  function startApp(socketPath: string): { child: ChildProcess; stdout: OutputLines; stderr: OutputLines } {
    const child = spawn(appPath, [], {
      env: { ...process.env, LD_PRELOAD: agentLibrary, IPBP_SOCKET: socketPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return { child, stdout: new OutputLines(child.stdout!), stderr: new OutputLines(child.stderr!) };
  }

  async function assemblePatch(name: string, returns: number, base: bigint): Promise<{ path: string; entry: bigint }> {
    const source = join(workDirectory, `${name}.s`);
    const object = join(workDirectory, `${name}.o`);
    const path = join(workDirectory, `${name}-${base.toString(16)}.so`);
    await writeFile(source, patchAssembly(name, returns));
    await run('as', [source, '-o', object]);
    await run(linker, ['-flavor', 'gnu', '-shared', `--image-base=0x${base.toString(16)}`, '-o', path, object]);
    // In a shared object linked at --image-base, st_value is already the
    // absolute address (the image base is part of it).
    const entry = await symbolAddress(path, (n) => n === name);
    assert.ok(entry >= base && entry < base + 0x10_0000n, `${name} at 0x${entry.toString(16)} is not inside the patch`);
    return { path, entry };
  }

  before(
    async () => {
      agentLibrary = await ensureAgentBuilt();
      workDirectory = await mkdtemp(join(tmpdir(), 'ipbp-agent-test-'));
      appPath = join(workDirectory, 'app');
      await writeFile(`${appPath}.rs`, APP_SOURCE);
      await run('rustc', ['-C', 'opt-level=1', '-C', 'link-arg=-Wl,--build-id', '--edition', '2021', '-o', appPath, `${appPath}.rs`]);
      const { stdout: sysroot } = await run('rustc', ['--print', 'sysroot']);
      const { stdout: version } = await run('rustc', ['-vV']);
      const host = /^host: (.+)$/m.exec(version)![1]!;
      linker = join(sysroot.trim(), 'lib', 'rustlib', host, 'bin', 'rust-lld');

      server = await PatchServer.start();
      ({ child: app, stdout: appOutput, stderr: appErrors } = startApp(server.socketPath));
      agent = await server.waitForAgent((c) => c.pid === app.pid, 15_000);
    },
    { timeout: 300_000 },
  );

  after(async () => {
    for (const child of children) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await server?.close();
    if (workDirectory) await rm(workDirectory, { recursive: true, force: true });
  });

  it('reuses the cached agent build without running cargo', async () => {
    const builtAt = (await stat(agentLibrary)).mtimeMs;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', `import('${repositoryUrl('dist/src/load/agent-build.js').href}').then(async (m) => console.log(await m.ensureAgentBuilt()))`],
      { env: { ...process.env, CARGO: '/nonexistent/cargo' } },
    );
    assert.equal(stdout.trim(), agentLibrary);
    // With cargo unreachable, any build would have failed: the library is the cached one, untouched.
    assert.equal((await stat(agentLibrary)).mtimeMs, builtAt);
  });

  it('says hello with its pid, build id and where the executable is mapped', async () => {
    assert.equal(agent.pid, app.pid);
    assert.equal(agent.protocolVersion, PROTOCOL_VERSION);
    assert.equal(agent.buildIdHex, await readelfBuildId(appPath));
    assert.equal(agent.exePath, appPath);
    assert.ok(agent.imageStart <= agent.loadBias && agent.loadBias < agent.imageEnd);
    assert.equal(agent.imageStart % 4096n, 0n);
    const valueAddress = agent.loadBias + (await symbolAddress(appPath, (n) => /3app5value17h/.test(n)));
    assert.ok(valueAddress > agent.imageStart && valueAddress < agent.imageEnd);
  });

  it('is not injected into the processes the app starts', async () => {
    await appOutput.waitFor('child-env: [] []');
  });

  it('refuses a patch made for another build, and the app keeps running old code', async () => {
    const result = await agent.loadPatch({ patchId: 1, buildId: Uint8Array.of(1, 2, 3), path: '/nonexistent.so', base: 0n, redirects: [] });
    assert.equal(result.ok, false);
    assert.equal(result.message, `patch is for build 010203, this process is build ${agent.buildIdHex}`);
    const mark = appOutput.lines.length;
    await appOutput.waitFor('value: 1', mark);
  });

  it('reports the loader error for a patch that does not exist', async () => {
    const result = await agent.loadPatch({ patchId: 2, buildId: agent.buildId, path: join(workDirectory, 'missing.so'), base: 0n, redirects: [] });
    assert.equal(result.ok, false);
    assert.match(result.message, /missing\.so: cannot open shared object file: No such file or directory/);
  });

  it('refuses a patch the loader could not map where it was linked', async () => {
    // Linked over the executable itself: that range is taken, so dlopen
    // maps the patch elsewhere and its displacements would be wrong.
    const { path, entry } = await assemblePatch('value_v3', 3, agent.imageStart);
    const from = agent.loadBias + (await symbolAddress(appPath, (n) => /3app5value17h/.test(n)));
    const result = await agent.loadPatch({ patchId: 3, buildId: agent.buildId, path, base: agent.imageStart, redirects: [{ from, to: entry }] });
    assert.equal(result.ok, false);
    assert.match(result.message, /^patch was mapped at a different address \(bias 0x[0-9a-f]+\)/);
    const mark = appOutput.lines.length;
    await appOutput.waitFor('value: 1', mark);
  });

  it('redirects value() into a patch while threads call it', async (t) => {
    const pid = app.pid!;
    // Page-aligned, ~64 MiB below the executable: within rel32 reach of it.
    const base = (agent.imageStart - 64n * 1024n * 1024n) & ~0x1f_ffffn;
    assert.ok(await rangeIsFree(pid, base, base + 0x10_0000n), `0x${base.toString(16)} is in use`);
    const { path, entry } = await assemblePatch('value_v2', 2, base);
    const from = agent.loadBias + (await symbolAddress(appPath, (n) => /3app5value17h/.test(n)));

    const result = await agent.loadPatch({ patchId: 4, buildId: agent.buildId, path, base, redirects: [{ from, to: entry }] });
    assert.deepEqual({ ok: result.ok, message: result.message }, { ok: true, message: '' });
    t.diagnostic(`dlopen ${result.loadUs} µs, redirect (stop included) ${result.redirectUs} µs`);

    // Where each thread was while the jump was written: one stack per
    // thread but the agent's own, each walked to the thread's first frame.
    // The main thread sleeps in its loop, so `main` is on its stack.
    const stacks = describeStacks(result.stacks);
    t.diagnostic(`stacks: ${stacks}`);
    const threads = await threadsOf(pid);
    const agentThreads = [...threads].filter(([, name]) => name === 'ipbp-agent').map(([tid]) => tid);
    assert.equal(agentThreads.length, 1, `threads ${JSON.stringify([...threads])}`);
    assert.deepEqual(
      result.stacks.map((stack) => stack.tid),
      [...threads.keys()].filter((tid) => tid !== agentThreads[0]).sort((a, b) => a - b),
      stacks,
    );
    for (const stack of result.stacks) assert.equal(stack.status, 'complete', stacks);
    const main = await symbolRange(appPath, (n) => /3app4main17h/.test(n));
    const [mainStart, mainEnd] = [agent.loadBias + main.start, agent.loadBias + main.end];
    const mainThread = result.stacks.find((stack) => stack.tid === pid);
    assert.ok(
      mainThread?.frames.some((frame) => frame > mainStart && frame < mainEnd),
      `no frame of main (0x${mainStart.toString(16)}..0x${mainEnd.toString(16)}) on the main thread: ${stacks}`,
    );

    const switched = await appOutput.waitFor('value: 2', appOutput.lines.length);
    await delay(300);
    const after = appOutput.lines.slice(switched);
    assert.ok(after.length >= 5, `only ${after.length} lines after the patch`);
    assert.deepEqual([...new Set(after)], ['value: 2']);
    assert.equal(app.exitCode, null);
    assert.equal(app.pid, pid);
    assert.equal(agent.isClosed, false);
    assert.deepEqual(appErrors.lines, []);
  });

  it('drops a CLI that sends garbage or an oversized frame, and connects again', async () => {
    // A hostile "CLI": a raw socket server that the second app connects to.
    const directory = await mkdtemp(join(tmpdir(), 'ipbp-raw-'));
    const socketPath = join(directory, 'raw.sock');
    const connections: Socket[] = [];
    const arrivals: Array<(socket: Socket) => void> = [];
    const raw: Server = createServer((socket) => {
      const waiter = arrivals.shift();
      if (waiter) waiter(socket);
      else connections.push(socket);
    });
    await new Promise<void>((resolve) => raw.listen(socketPath, resolve));
    const nextConnection = (): Promise<Socket> => {
      const ready = connections.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => arrivals.push(resolve));
    };
    /** Every message the agent sends until the connection closes, and the first of them as soon as it is here. */
    const messagesUntilClose = (socket: Socket): Promise<Message[]> & { first: Promise<Message> } => {
      let first: (message: Message) => void = () => {};
      const firstMessage = new Promise<Message>((resolve) => (first = resolve));
      const all = new Promise<Message[]>((resolve) => {
        const splitter = new FrameSplitter();
        const messages: Message[] = [];
        socket.on('data', (chunk: Buffer) => {
          messages.push(...splitter.push(chunk).map((p) => decodeMessage(p)));
          if (messages[0]) first(messages[0]);
        });
        socket.on('close', () => resolve(messages));
      });
      return Object.assign(all, { first: firstMessage });
    };

    try {
      const { child, stdout, stderr } = startApp(socketPath);

      const first = await nextConnection();
      const firstMessages = messagesUntilClose(first);
      await delay(100);
      first.write(encodeFrame(Buffer.of(0xff, 1, 2)));
      const [hello, goodbye] = await firstMessages;
      assert.equal(hello?.type, 'hello');
      assert.deepEqual(goodbye, { type: 'log', message: 'agent dropped the connection: malformed message: unknown message tag 255' });

      const second = await nextConnection();
      const secondMessages = messagesUntilClose(second);
      await delay(100);
      second.write(Buffer.from([0x01, 0x00, 0x00, 0x01]));
      const [, secondGoodbye] = await secondMessages;
      assert.equal(secondGoodbye?.type === 'log' && secondGoodbye.message, 'agent dropped the connection: frame announces 16777217 bytes, more than the 16777216-byte limit');

      const third = await nextConnection();
      const thirdMessages = messagesUntilClose(third);
      const mark = stdout.lines.length;
      await stdout.waitFor('value: 1', mark);
      assert.equal(child.exitCode, null);
      // The agent's hello may still be on its way when the app prints: take it before hanging up.
      assert.equal((await thirdMessages.first).type, 'hello');
      third.destroy();
      await thirdMessages;

      // A CLI that dies in the middle of a frame: the agent drops the half frame and comes back.
      const fourth = await nextConnection();
      const fourthMessages = messagesUntilClose(fourth);
      assert.equal((await fourthMessages.first).type, 'hello');
      const half = encodeFrame(encodeMessage({ type: 'sample-stacks', requestId: 1 }));
      fourth.write(half.subarray(0, half.length - 2));
      await delay(50);
      fourth.destroy();
      await fourthMessages;
      const fifth = await nextConnection();
      const fifthMessages = messagesUntilClose(fifth);
      assert.equal((await fifthMessages.first).type, 'hello', 'it connected again');
      const afterDeath = stdout.lines.length;
      await stdout.waitFor('value: 1', afterDeath);
      assert.equal(child.exitCode, null, 'the app kept running');
      fifth.destroy();
      await fifthMessages;

      await stderr.waitFor('ipbp-agent: dropping the connection to ' + socketPath + ': malformed message: unknown message tag 255');
    } finally {
      raw.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
