import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fuzzTransport } from '../../fuzz/transport.js';
import { encodeFrame } from '../../src/deliver/frames.js';
import { IpbpRun } from '../support/ipbp-run.js';

type Endpoint = { readonly port: number; readonly host: string } | { readonly path: string };

/** Opens a connection and resolves once it is established (or failed: a refused flood connection is no error here). */
function open(endpoint: Endpoint): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = 'port' in endpoint ? connect(endpoint.port, endpoint.host) : connect(endpoint.path);
    socket.on('error', () => resolve(socket));
    socket.once('connect', () => resolve(socket));
    // Reading (and dropping) what ipbp sends: a paused socket would never see ipbp close it.
    socket.resume();
  });
}

/** A reset where the transport has one (TCP); a Unix socket can only be closed. */
function reset(socket: Socket, endpoint: Endpoint): void {
  if ('port' in endpoint) socket.resetAndDestroy();
  else socket.destroy();
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The transport fuzz's slice in the tests (`fuzz/transport-long.ts` runs 10⁵); `IPBP_FUZZ_SEED` replays a seed. */
const FUZZ_CONNECTIONS = 1500;
const FUZZ_SEED = Number(process.env.IPBP_FUZZ_SEED ?? 20261202);

/** Each hostile client, as a function of where it connects. */
const CLIENTS: ReadonlyArray<readonly [string, (endpoint: Endpoint) => Promise<void>]> = [
  ['resets at once', async (endpoint) => reset(await open(endpoint), endpoint)],
  [
    // What a port scanner does: the CLI's challenge is never read, so closing makes the kernel answer with a reset.
    'closes without reading what it was sent',
    async (endpoint) => {
      const socket = await open(endpoint);
      socket.pause();
      await sleep(50);
      socket.destroy();
    },
  ],
  [
    'half-closes and waits',
    async (endpoint) => {
      const socket = await open(endpoint);
      socket.end();
      await closed(socket);
    },
  ],
  [
    'sends garbage, then resets',
    async (endpoint) => {
      const socket = await open(endpoint);
      socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await sleep(20);
      reset(socket, endpoint);
    },
  ],
  [
    'announces an oversized frame',
    async (endpoint) => {
      const socket = await open(endpoint);
      socket.write(Buffer.from([0xff, 0xff, 0xff, 0x7f]));
      await closed(socket);
    },
  ],
  [
    'sends a valid frame of nonsense',
    async (endpoint) => {
      const socket = await open(endpoint);
      socket.write(encodeFrame(new Uint8Array([0xde, 0xad, 0xbe, 0xef])));
      await closed(socket);
    },
  ],
  [
    'announces a small frame, then dribbles it one byte every 200 ms until it is dropped',
    async (endpoint) => {
      const socket = await open(endpoint);
      socket.write(Buffer.from([100, 0, 0, 0]));
      while (!socket.destroyed && socket.writable) {
        socket.write(Buffer.from([0x01]));
        await Promise.race([sleep(200), closed(socket)]);
      }
    },
  ],
];

/**
 * `ipbp run --listen` facing what any local process (or, listening beyond
 * loopback, anyone on the network) can send to its two listeners: resets,
 * half-open connections, garbage, oversized frames, a slow client and a
 * flood of a thousand connections. The session, its app and the next edit
 * must not notice, and ipbp says one line per kind of refused client.
 */
describe('hostile clients on both listeners (examples/ticker)', () => {
  let session: IpbpRun;
  let pid: number;
  const endpoints: Array<readonly [string, Endpoint]> = [];

  before(async () => {
    session = await IpbpRun.start('ticker', ['--listen', '127.0.0.1:0']);
    pid = await session.untilRunning(/^hello from tick \d+$/);
    const [, port] = await session.waitForStderr(/listening on tcp 127\.0\.0\.1:(\d+);/);
    const info = await session.waitForEvent((event) => event.event === 'session');
    endpoints.push(['tcp', { host: '127.0.0.1', port: Number(port) }], ['unix socket', { path: String(info.socket) }]);
  });
  after(async () => session?.remove());

  for (const [what, client] of CLIENTS) {
    test(`a client that ${what}, on each listener, leaves the session running`, async () => {
      await Promise.all(endpoints.flatMap(([, endpoint]) => Array.from({ length: 5 }, () => client(endpoint))));
      assert.equal(session.exited, false, 'ipbp is still running');
    });
  }

  test('a flood of 1000 connections held open is capped, and drained', async () => {
    for (const [, endpoint] of endpoints) {
      const sockets = await Promise.all(Array.from({ length: 500 }, () => open(endpoint)));
      await sleep(200);
      for (const socket of sockets) socket.destroy();
    }
    await session.waitForStderr(/refused a client \(too many waiting\)/);
    assert.equal(session.exited, false);
  });

  test(`a seeded transport fuzz (${FUZZ_CONNECTIONS} connections doing random things) leaves the session running`, async () => {
    const result = await fuzzTransport(
      endpoints.map(([label, endpoint]) => ({ label, ...endpoint })),
      { connections: FUZZ_CONNECTIONS, seed: FUZZ_SEED, concurrency: 16 },
    );
    assert.equal(result.connections, FUZZ_CONNECTIONS, `seed ${FUZZ_SEED}`);
    for (const step of ['bytes', 'frame header', 'message', 'partial message', 'reset', 'half-close', 'go away unread']) {
      assert.ok((result.steps[step] ?? 0) > 0, `the fuzz took the step ${step} (seed ${FUZZ_SEED}): ${JSON.stringify(result.steps)}`);
    }
    assert.equal(session.exited, false, `ipbp is still running (seed ${FUZZ_SEED})`);
  });

  test('the next edit is patched into the same process, and each kind of refusal was said once', async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("still here at tick {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.pids, [pid]);
    await session.waitForLine(/^still here at tick \d+$/, from);
    const refusalLines = session.stderr.split('\n').filter((line) => line.includes('refused a client ('));
    const kinds = refusalLines.map((line) => /refused a client \(([^)]+)\)/.exec(line)![1]);
    assert.deepEqual(kinds, [...new Set(kinds)], `one line per kind: ${refusalLines.join('\n')}`);
    for (const kind of ['reset', 'closed early', 'not the protocol', 'too slow', 'too many waiting']) assert.ok(kinds.includes(kind), `${kind} among ${kinds}`);
    assert.ok(refusalLines.length <= 7, 'not one line per connection');
  });
});
