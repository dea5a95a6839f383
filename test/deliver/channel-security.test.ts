import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ensureAgentBuilt } from '../../src/load/agent-build.js';
import { encodeFrame, FrameSplitter } from '../../src/deliver/frames.js';
import { decodeMessage, encodeMessage } from '../../src/deliver/protocol.js';
import { PatchServer } from '../../src/deliver/server.js';
import { authenticateAgent, newSessionToken } from '../../src/deliver/token-auth.js';

const run = promisify(execFile);

const APP = `fn main() {
    let mut tick = 0u64;
    loop {
        println!("alive {tick}");
        tick += 1;
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
}
`;

interface App {
  readonly child: ChildProcess;
  readonly stdout: string[];
  stderr: string;
}

/**
 * Who may talk to whom: over TCP both the CLI and the agent must prove they
 * know the session token, and every refusal leaves the app running.
 */
describe('the patch channel refuses everyone but the user', () => {
  let work: string;
  let binary: string;
  let agent: string;
  const apps: App[] = [];
  const servers: Array<PatchServer | Server> = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ipbp-channel-'));
    binary = join(work, 'alive');
    await writeFile(`${binary}.rs`, APP);
    [agent] = await Promise.all([ensureAgentBuilt(), run('rustc', ['-C', 'link-arg=-Wl,--build-id', '-o', binary, `${binary}.rs`])]);
  });
  after(async () => {
    for (const app of apps) app.child.kill('SIGKILL');
    for (const server of servers) {
      if (server instanceof PatchServer) await server.close();
      else server.close();
    }
    await rm(work, { recursive: true, force: true });
  });

  function startApp(env: Record<string, string>): App {
    const child = spawn(binary, [], { env: { ...process.env, LD_PRELOAD: agent, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const app: App = { child, stdout: [], stderr: '' };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => app.stdout.push(...chunk.split('\n').filter(Boolean)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (app.stderr += chunk));
    apps.push(app);
    return app;
  }

  async function stillRunning(app: App): Promise<void> {
    const before = app.stdout.length;
    await waitFor(() => app.stdout.length > before + 2, 'the app keeps printing');
    assert.equal(app.child.exitCode, null);
  }

  async function tcpServer(): Promise<{ server: PatchServer; token: Buffer; port: number }> {
    const token = newSessionToken();
    const server = await PatchServer.start({ tcp: { host: '127.0.0.1', port: 0, token }, helloTimeoutMs: 2000 });
    servers.push(server);
    return { server, token, port: server.tcpAddress!.port };
  }

  test('the local socket lives in a directory only this user can enter', async () => {
    const server = await PatchServer.start();
    servers.push(server);
    const mode = (await stat(dirname(server.socketPath))).mode & 0o777;
    assert.equal(mode, 0o700);
  });

  test('an agent with the token connects over TCP, and the CLI proves itself to it', async () => {
    const { server, token, port } = await tcpServer();
    const app = startApp({ IPBP_CONNECT: `127.0.0.1:${port}`, IPBP_TOKEN: token.toString('hex') });
    const connection = await server.waitForAgent((candidate) => candidate.pid === app.child.pid, 10_000);
    assert.equal(connection.pid, app.child.pid);
  });

  test('an agent with a wrong token is refused and its app keeps running', async () => {
    const { server, port } = await tcpServer();
    const refusals: string[] = [];
    server.on('refused', (refusal) => refusals.push(refusal.detail));
    const app = startApp({ IPBP_CONNECT: `127.0.0.1:${port}`, IPBP_TOKEN: newSessionToken().toString('hex') });
    await waitFor(() => refusals.some((reason) => reason.includes('does not know the session token')), 'the CLI refuses the peer');
    assert.equal(server.connections.length, 0);
    await stillRunning(app);
  });

  test('an agent told to use TCP without a token does not start, and its app runs normally', async () => {
    const app = startApp({ IPBP_CONNECT: '127.0.0.1:9' });
    await waitFor(() => app.stderr.includes('never used without the session token'), 'the agent explains why');
    await stillRunning(app);
  });

  test('hostile TCP clients are dropped: garbage, an oversized frame, a hello without authentication, a wrong proof', async () => {
    const { server, port } = await tcpServer();
    const refusals: string[] = [];
    server.on('refused', (refusal) => refusals.push(refusal.detail));
    const oversized = Buffer.alloc(4);
    oversized.writeUInt32LE(0xffff_fff0);
    const hello = encodeFrame(
      encodeMessage({ type: 'hello', protocolVersion: 1, pid: 1, buildId: new Uint8Array(), exePath: '/x', loadBias: 0n, imageStart: 0n, imageEnd: 0n }),
    );
    const wrongProof = encodeFrame(encodeMessage({ type: 'auth', nonce: new Uint8Array(32), mac: new Uint8Array(32) }));
    for (const payload of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), oversized, hello, wrongProof]) {
      const closed = await sendAndWaitForClose(port, payload);
      assert.ok(closed, 'the server hung up');
    }
    await waitFor(() => refusals.length >= 4, 'four refusals');
    assert.equal(server.connections.length, 0);
  });

  test('an impostor CLI that does not know the token never gets the agent hello, and the app keeps running', async () => {
    const token = newSessionToken();
    const seen: string[] = [];
    const impostor = createServer((socket) => {
      const splitter = new FrameSplitter();
      socket.on('data', (chunk) => {
        for (const payload of splitter.push(chunk)) {
          const message = decodeMessage(payload);
          seen.push(message.type);
          // Pretend to accept the agent's proof without knowing the token.
          if (message.type === 'auth') socket.write(encodeFrame(encodeMessage({ type: 'auth-ok', mac: new Uint8Array(32) })));
        }
      });
      socket.on('error', () => {});
      socket.write(encodeFrame(encodeMessage({ type: 'challenge', nonce: new Uint8Array(32).fill(7) })));
    });
    servers.push(impostor);
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const port = (impostor.address() as { port: number }).port;
    const app = startApp({ IPBP_CONNECT: `127.0.0.1:${port}`, IPBP_TOKEN: token.toString('hex') });
    await waitFor(() => app.stderr.includes('does not know the session token'), 'the agent refuses the impostor');
    assert.ok(seen.includes('auth'), 'the agent answered the challenge');
    assert.ok(!seen.includes('hello'), 'but never said hello to the impostor');
    await stillRunning(app);
  });

  test('a CLI that authenticates and then sends garbage is dropped by the agent, which connects again; the app keeps running', async () => {
    const token = newSessionToken();
    let connections = 0;
    const garbled = createServer((socket) => {
      connections++;
      socket.on('error', () => {});
      // The real CLI's half of the handshake, then nonsense where messages belong.
      authenticateAgent(socket, token, 5000).then(
        () => {
          socket.resume();
          socket.write(Buffer.from([0x05, 0x00, 0x00, 0x00, 0xee, 1, 2, 3, 4]));
        },
        () => socket.destroy(),
      );
    });
    servers.push(garbled);
    await new Promise<void>((resolve) => garbled.listen(0, '127.0.0.1', resolve));
    const port = (garbled.address() as { port: number }).port;
    const app = startApp({ IPBP_CONNECT: `127.0.0.1:${port}`, IPBP_TOKEN: token.toString('hex') });
    await waitFor(() => app.stderr.includes('unknown message tag 238'), 'the agent drops the CLI, saying why');
    await waitFor(() => connections >= 2, 'the agent connects again', 20_000);
    await stillRunning(app);
  });
});

function sendAndWaitForClose(port: number, payload: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(payload));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 5000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
