/**
 * The transport fuzzer: connections to a live session's listeners (the Unix
 * socket, and TCP when it listens there) that do random things in random
 * order: send random bytes, frame headers announcing anything from nothing
 * to gigabytes, well-formed messages with random fields (a hello, an
 * authentication with a made-up proof, a patch result nobody asked for),
 * pause, and end with a reset, a close, a half-close or by simply going away
 * without reading what they were sent. The contract is checked by the
 * caller: the session, its app and the next edit notice none of it.
 *
 * Seeded: the same seed gives the same connections, so a failure replays.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrame } from '../src/deliver/frames.js';
import { encodeMessage, type Message, PROTOCOL_VERSION } from '../src/deliver/protocol.js';

export type TransportEndpoint = { readonly label: string } & ({ readonly host: string; readonly port: number } | { readonly path: string });

export interface TransportFuzzOptions {
  readonly connections: number;
  readonly seed: number;
  /** Connections open at once. */
  readonly concurrency: number;
  /** Called every `progressEvery` connections, for long runs. */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
}

export interface TransportFuzzResult {
  readonly connections: number;
  /** How many times each step and each ending was taken. */
  readonly steps: Readonly<Record<string, number>>;
  readonly milliseconds: number;
}

const STEPS = ['bytes', 'frame header', 'message', 'partial message', 'pause'] as const;
const ENDINGS = ['reset', 'close', 'half-close', 'go away unread'] as const;
/** The longest a connection is kept: the session's own limit for a silent client is seconds, the fuzzer does not wait for it. */
const CONNECTION_LIMIT_MS = 300;

/** A small seeded generator (mulberry32): enough randomness for choosing actions and bytes, and repeatable. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(limit: number): number {
    return Math.floor(this.next() * limit);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.below(256)));
  }
}

export async function fuzzTransport(endpoints: readonly TransportEndpoint[], options: TransportFuzzOptions): Promise<TransportFuzzResult> {
  const random = new Random(options.seed);
  const steps: Record<string, number> = {};
  const count = (name: string): void => void (steps[name] = (steps[name] ?? 0) + 1);
  const started = performance.now();
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < options.connections) {
      next++;
      // Each connection draws its script from its own generator, so the interleaving of workers does not change it.
      await oneConnection(random.pick(endpoints), new Random(random.below(2 ** 32)), count);
      done++;
      if (options.onProgress && done % (options.progressEvery ?? 1000) === 0) options.onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { connections: done, steps, milliseconds: performance.now() - started };
}

async function oneConnection(endpoint: TransportEndpoint, random: Random, count: (name: string) => void): Promise<void> {
  const socket = await open(endpoint);
  if (!socket) {
    count('refused at connect');
    return;
  }
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const deadline = sleep(CONNECTION_LIMIT_MS);
  for (let i = random.below(6); i > 0 && !socket.destroyed; i--) {
    const step = random.pick(STEPS);
    count(step);
    await takeStep(socket, step, random);
  }
  const ending = 'port' in endpoint ? random.pick(ENDINGS) : random.pick(ENDINGS.filter((name) => name !== 'reset'));
  count(ending);
  if (ending === 'reset') socket.resetAndDestroy();
  else if (ending === 'close') socket.destroy();
  else if (ending === 'go away unread') {
    socket.pause();
    await sleep(random.below(20));
    socket.destroy();
  } else {
    socket.end();
    await Promise.race([closed, deadline]);
    socket.destroy();
  }
  await closed;
}

function open(endpoint: TransportEndpoint): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = 'port' in endpoint ? connect(endpoint.port, endpoint.host) : connect(endpoint.path);
    socket.once('connect', () => resolve(socket));
    socket.on('error', () => resolve(undefined));
    socket.resume();
  });
}

async function takeStep(socket: Socket, step: (typeof STEPS)[number], random: Random): Promise<void> {
  switch (step) {
    case 'bytes':
      socket.write(random.bytes(1 + random.below(64)));
      return;
    case 'frame header': {
      const header = Buffer.alloc(4);
      header.writeUInt32LE(random.pick([0, 1, 5, 64, 4096, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1, 0xffff_ffff]));
      socket.write(Buffer.concat([header, random.bytes(random.below(32))]));
      return;
    }
    case 'message':
      socket.write(encodeFrame(encodeMessage(randomMessage(random))));
      return;
    case 'partial message': {
      const frame = encodeFrame(encodeMessage(randomMessage(random)));
      socket.write(frame.subarray(0, random.below(frame.length)));
      return;
    }
    case 'pause':
      await sleep(random.below(30));
      return;
  }
}

/** A well-formed message of a random kind with random fields: what a confused or hostile peer could send. */
function randomMessage(random: Random): Message {
  const address = (): bigint => BigInt(random.below(2 ** 32)) << 12n;
  switch (random.below(6)) {
    case 0:
      return {
        type: 'hello',
        protocolVersion: random.pick([PROTOCOL_VERSION, PROTOCOL_VERSION + 1, 0]),
        pid: random.below(2 ** 31),
        buildId: random.bytes(random.below(24)),
        exePath: `/nowhere/${random.below(1000)}`,
        loadBias: address(),
        imageStart: address(),
        imageEnd: address(),
      };
    case 1:
      return { type: 'auth', nonce: random.bytes(random.pick([0, 16, 32])), mac: random.bytes(random.pick([0, 32])) };
    case 2:
      return { type: 'log', message: `fuzz ${random.below(1e6)}` };
    case 3:
      return { type: 'patch-result', patchId: random.below(10), ok: random.below(2) === 1, message: '', loadUs: 0n, redirectUs: 0n, needsRestart: false, stacks: [] };
    case 4:
      return { type: 'stacks', requestId: random.below(10), message: '', stacks: [{ tid: random.below(1e5), status: 'complete', frames: [address()] }] };
    default:
      return { type: 'challenge', nonce: random.bytes(32) };
  }
}
