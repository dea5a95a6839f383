/**
 * The TypeScript half of the agent protocol: the golden fixtures shared
 * with the Rust agent's tests, strict decoding, framing, and properties.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, FrameSplitter, MAX_PAYLOAD_BYTES } from '../../src/deliver/frames.js';
import { decodeMessage, encodeMessage, ProtocolError, type Message } from '../../src/deliver/protocol.js';
import { repositoryUrl } from '../support/repository.js';

// Compiled to dist/test/, the fixtures stay in the source tree.
const fixturesDirectory = repositoryUrl('test/fixtures/protocol/');

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, fixturesDirectory));
}

const buildId = Uint8Array.from({ length: 20 }, (_, i) => i);

/** The same values as generate.py and the Rust tests. */
const golden: ReadonlyArray<readonly [string, Message]> = [
  [
    'hello.bin',
    {
      type: 'hello',
      protocolVersion: 1,
      pid: 4242,
      buildId,
      exePath: '/home/dev/app/target/debug/démo',
      loadBias: 0x5555_5555_4000n,
      imageStart: 0x5555_5555_4000n,
      imageEnd: 0x5555_5559_b000n,
    },
  ],
  [
    'load-patch.bin',
    {
      type: 'load-patch',
      patchId: 7,
      buildId,
      path: '/tmp/ipbp-x/patch-7.so',
      library: Uint8Array.from(Buffer.from('\x7fELF', 'latin1')),
      base: 0x5555_5155_4000n,
      redirects: [
        { from: 0x5555_5555_5130n, to: 0x5555_5155_5000n },
        { from: 0xfedc_ba98_7654_3210n, to: 0x0123_4567_89ab_cdefn },
      ],
      hooks: 0x5555_5558_1230n,
      migrations: 'app::Counter\napp::Shape',
      tlsFixups: [
        { address: 0x5555_5155_5013n, value: 0x10n, form: 'u32' },
        { address: 0x5555_5155_6000n, value: 0xffff_ffff_ffff_fff8n, form: 'u64' },
      ],
    },
  ],
  [
    'patch-result.bin',
    {
      type: 'patch-result',
      patchId: 7,
      ok: false,
      message: 'patch is for build aa, this process is build bb',
      loadUs: 1234n,
      redirectUs: 0x1_0000_0001n,
      needsRestart: true,
      stacks: [],
    },
  ],
  [
    'patch-result-stacks.bin',
    {
      type: 'patch-result',
      patchId: 8,
      ok: true,
      message: '',
      loadUs: 812n,
      redirectUs: 97n,
      needsRestart: false,
      stacks: [
        { tid: 4242, status: 'complete', frames: [0x5555_5555_5142n, 0x5555_5555_6a1dn, 0x7fff_f7c2_7d8fn] },
        { tid: 4243, status: 'truncated', frames: [0x5555_5155_5004n, 0xffff_ffff_ffff_ffffn] },
        { tid: 4244, status: 'unknown', frames: [0x7fff_f7c9_4ac3n] },
        { tid: 0xffff_fffe, status: 'unknown', frames: [] },
      ],
    },
  ],
  ['log.bin', { type: 'log', message: 'thread 17 was slow to stop ✓' }],
  ['sample-stacks.bin', { type: 'sample-stacks', requestId: 3 }],
  [
    'stacks.bin',
    {
      type: 'stacks',
      requestId: 3,
      message: '',
      stacks: [
        { tid: 4242, status: 'complete', frames: [0x5555_5555_5142n, 0x7fff_f7c2_7d8fn] },
        { tid: 4245, status: 'truncated', frames: [0x5555_5155_5004n] },
      ],
    },
  ],
  ['challenge.bin', { type: 'challenge', nonce: byteRange(0, 32) }],
  ['auth.bin', { type: 'auth', nonce: byteRange(32, 64), mac: byteRange(64, 96) }],
  ['auth-ok.bin', { type: 'auth-ok', mac: byteRange(96, 128) }],
];

function byteRange(from: number, to: number): Uint8Array {
  return Uint8Array.from({ length: to - from }, (_, i) => from + i);
}

function onlyPayload(frame: Uint8Array): Buffer {
  const payloads = new FrameSplitter().push(frame);
  assert.equal(payloads.length, 1);
  return payloads[0]!;
}

function assertThrowsProtocolError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => error instanceof ProtocolError && pattern.test(error.message));
}

describe('golden fixtures (shared with the Rust agent)', () => {
  for (const [name, expected] of golden) {
    it(`${name} decodes to the expected fields and re-encodes byte for byte`, () => {
      const frame = fixture(name);
      assert.deepEqual(decodeMessage(onlyPayload(frame)), expected);
      assert.deepEqual(encodeFrame(encodeMessage(expected)), frame);
    });
  }

  it('every truncation of every fixture is a ProtocolError', () => {
    for (const [name] of golden) {
      const payload = onlyPayload(fixture(name));
      for (let cut = 0; cut < payload.length; cut++) {
        assertThrowsProtocolError(() => decodeMessage(payload.subarray(0, cut)), /truncated|redirects need|stacks need|frames need|TLS fixups need/);
      }
    }
  });
});

describe('decodeMessage', () => {
  it('refuses a trailing byte', () => {
    const payload = Buffer.concat([encodeMessage({ type: 'log', message: 'x' }), Buffer.of(0)]);
    assertThrowsProtocolError(() => decodeMessage(payload), /1 trailing bytes after a log message/);
  });

  it('refuses unknown tags, bad booleans and invalid UTF-8', () => {
    assertThrowsProtocolError(() => decodeMessage(Buffer.of(0)), /unknown message tag 0/);
    assertThrowsProtocolError(() => decodeMessage(Buffer.of(99, 1, 2)), /unknown message tag 99/);
    assertThrowsProtocolError(() => decodeMessage(Buffer.alloc(0)), /tag at offset 0: needs 1 bytes/);
    const result = encodeMessage({
      type: 'patch-result',
      patchId: 1,
      ok: true,
      message: '',
      loadUs: 0n,
      redirectUs: 0n,
      needsRestart: false,
      stacks: [{ tid: 1, status: 'complete', frames: [2n] }],
    });
    result[5] = 2;
    assertThrowsProtocolError(() => decodeMessage(result), /patch-result\.ok at offset 5: expected 0 or 1, got 2/);
    // The first stack's status: after tag, id, ok, message, the timings, needs_restart, the count and the tid.
    const statusAt = 1 + 4 + 1 + 4 + 8 + 8 + 1 + 4 + 4;
    result[5] = 1;
    result[statusAt] = 3;
    assertThrowsProtocolError(() => decodeMessage(result), new RegExp(`^stack\\.status at offset ${statusAt}: expected 0, 1 or 2, got 3$`));
    assertThrowsProtocolError(() => decodeMessage(Buffer.of(4, 2, 0, 0, 0, 0xc3, 0x28)), /log\.message at offset 1: not valid UTF-8/);
  });

  it('refuses stack and frame counts larger than the payload, as the Rust decoder words it', () => {
    const head = encodeMessage({ type: 'patch-result', patchId: 1, ok: true, message: '', loadUs: 0n, redirectUs: 0n, needsRestart: false, stacks: [] });
    const countAt = head.length - 4;
    const stacks = Buffer.from(head);
    stacks.writeUInt32LE(0xffff_ffff, countAt);
    assertThrowsProtocolError(() => decodeMessage(stacks), new RegExp(`^stacks at offset ${head.length}: 4294967295 stacks need at least 38654705655 bytes$`));
    const frames = Buffer.concat([head, Buffer.from([7, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])]);
    frames.writeUInt32LE(1, countAt);
    assertThrowsProtocolError(() => decodeMessage(frames), new RegExp(`^stack\\.frames at offset ${frames.length}: 4294967295 frames need 34359738360 bytes$`));
  });

  it('refuses a redirect count larger than the payload', () => {
    // tag, patch id, empty build id, empty path, empty library, base, redirect count.
    const payload = Buffer.alloc(1 + 4 + 4 + 4 + 4 + 8 + 4);
    payload[0] = 2;
    payload.writeUInt32LE(0xffff_ffff, payload.length - 4);
    assertThrowsProtocolError(() => decodeMessage(payload), /4294967295 redirects need/);
  });

  it('refuses a TLS fixup count larger than the payload, and an unknown form, as the Rust decoder words them', () => {
    const head = encodeMessage({ type: 'load-patch', patchId: 1, buildId, path: '', library: new Uint8Array(), base: 0n, redirects: [], hooks: 0n, migrations: '', tlsFixups: [] });
    const countAt = head.length - 4;
    const counted = Buffer.from(head);
    counted.writeUInt32LE(0xffff_ffff, countAt);
    assertThrowsProtocolError(() => decodeMessage(counted), new RegExp(`^load-patch\\.tls_fixups at offset ${head.length}: 4294967295 TLS fixups need 73014444015 bytes$`));
    const one = encodeMessage({ type: 'load-patch', patchId: 1, buildId, path: '', library: new Uint8Array(), base: 0n, redirects: [], hooks: 0n, migrations: '', tlsFixups: [{ address: 1n, value: 2n, form: 'u64' }] });
    one[one.length - 1] = 2;
    assertThrowsProtocolError(() => decodeMessage(one), new RegExp(`^load-patch\\.tls_fixup\\.form at offset ${one.length - 1}: expected 4, 8, 12 or 24, got 2$`));
  });
});

describe('encodeMessage', () => {
  it('refuses values that do not fit their wire type', () => {
    const result = { type: 'patch-result', patchId: 1, ok: true, message: '', loadUs: 0n, redirectUs: 0n, needsRestart: false } as const;
    assertThrowsProtocolError(() => encodeMessage({ ...result, stacks: [{ tid: -1, status: 'complete', frames: [] }] }), /stack\.tid: -1 is not a u32/);
    assertThrowsProtocolError(
      () => encodeMessage({ ...result, stacks: [{ tid: 1, status: 'running' as unknown as 'complete', frames: [] }] }),
      /stack\.status: running is not a stack status/,
    );
    assertThrowsProtocolError(
      () => encodeMessage({ type: 'load-patch', patchId: -1, buildId, path: '', library: new Uint8Array(), base: 0n, redirects: [], hooks: 0n, migrations: '', tlsFixups: [] }),
      /patch_id: -1 is not a u32/,
    );
    assertThrowsProtocolError(
      () => encodeMessage({ type: 'load-patch', patchId: 1, buildId, path: '', library: new Uint8Array(), base: 1n << 64n, redirects: [], hooks: 0n, migrations: '', tlsFixups: [] }),
      /base: 18446744073709551616 is not a u64/,
    );
    assertThrowsProtocolError(
      () => encodeMessage({ type: 'load-patch', patchId: 1, buildId, path: '', library: new Uint8Array(), base: 0n, redirects: [], hooks: 0n, migrations: '', tlsFixups: [{ address: 0n, value: 0n, form: 'u16' as 'u32' }] }),
      /tls_fixup\.form: u16 is not a fixup form/,
    );
  });
});

describe('FrameSplitter', () => {
  it('reassembles frames split at every possible byte', () => {
    const frames = Buffer.concat(golden.map(([name]) => fixture(name)));
    for (let cut = 0; cut <= frames.length; cut++) {
      const splitter = new FrameSplitter();
      const payloads = [...splitter.push(frames.subarray(0, cut)), ...splitter.push(frames.subarray(cut))];
      assert.deepEqual(
        payloads.map((p) => decodeMessage(p)),
        golden.map(([, message]) => message),
      );
      assert.equal(splitter.bufferedBytes, 0);
    }
  });

  it('refuses an oversized frame as soon as its header arrives, and stays failed', () => {
    const splitter = new FrameSplitter();
    const header = Buffer.alloc(4);
    header.writeUInt32LE(MAX_PAYLOAD_BYTES + 1);
    assert.deepEqual(splitter.push(header.subarray(0, 3)), []);
    assertThrowsProtocolError(() => splitter.push(header.subarray(3)), /frame announces 16777217 bytes, more than the 16777216-byte limit/);
    assertThrowsProtocolError(() => splitter.push(Buffer.of(0)), /frame announces/);
  });

  it('accepts a frame of exactly the limit', () => {
    const payload = Buffer.alloc(MAX_PAYLOAD_BYTES, 7);
    const frame = encodeFrame(payload);
    const splitter = new FrameSplitter();
    const received = [...splitter.push(frame.subarray(0, 1000)), ...splitter.push(frame.subarray(1000))];
    assert.equal(received.length, 1);
    assert.ok(received[0]!.equals(payload));
    assertThrowsProtocolError(() => encodeFrame(Buffer.alloc(MAX_PAYLOAD_BYTES + 1)), /over the 16777216-byte frame limit/);
  });
});

const u32 = fc.nat({ max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const text = fc.string({ unit: 'binary', maxLength: 40 });
const blob = fc.uint8Array({ maxLength: 40 });

const anyMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    protocolVersion: u32,
    pid: u32,
    buildId: blob,
    exePath: text,
    loadBias: u64,
    imageStart: u64,
    imageEnd: u64,
  }),
  fc.record({
    type: fc.constant('load-patch' as const),
    patchId: u32,
    buildId: blob,
    path: text,
    library: blob,
    base: u64,
    redirects: fc.array(fc.record({ from: u64, to: u64 }), { maxLength: 8 }),
    hooks: u64,
    migrations: text,
    tlsFixups: fc.array(fc.record({ address: u64, value: u64, form: fc.constantFrom('u32' as const, 'u64' as const, 'add-lo12' as const, 'add-hi12' as const) }), { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant('patch-result' as const),
    patchId: u32,
    ok: fc.boolean(),
    message: text,
    loadUs: u64,
    redirectUs: u64,
    needsRestart: fc.boolean(),
    stacks: fc.array(
      fc.record({ tid: u32, status: fc.constantFrom('complete' as const, 'truncated' as const, 'unknown' as const), frames: fc.array(u64, { maxLength: 6 }) }),
      { maxLength: 4 },
    ),
  }),
  fc.record({ type: fc.constant('log' as const), message: text }),
  fc.record({ type: fc.constant('challenge' as const), nonce: blob }),
  fc.record({ type: fc.constant('auth' as const), nonce: blob, mac: blob }),
  fc.record({ type: fc.constant('auth-ok' as const), mac: blob }),
);

describe('properties', () => {
  it('decode(encode(m)) is m, and framing round-trips in arbitrary chunks', () => {
    fc.assert(
      fc.property(fc.array(anyMessage, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((m) => encodeFrame(encodeMessage(m))));
        const splitter = new FrameSplitter();
        const received: Message[] = [];
        let start = 0;
        for (const cut of [...cuts.map((c) => c % (stream.length + 1)).sort((a, b) => a - b), stream.length]) {
          for (const payload of splitter.push(stream.subarray(start, Math.max(start, cut)))) received.push(decodeMessage(payload));
          start = Math.max(start, cut);
        }
        // structuredClone: fast-check builds records without a prototype.
        assert.deepEqual(received, structuredClone(messages));
      }),
    );
  });

  it('decoding arbitrary bytes either succeeds and re-encodes identically, or throws ProtocolError', () => {
    const tagThenAnything = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 80 })).map(([tag, rest]) => Uint8Array.of(tag, ...rest));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), tagThenAnything), (bytes) => {
        let message: Message;
        try {
          message = decodeMessage(bytes);
        } catch (error) {
          assert.ok(error instanceof ProtocolError, `threw ${String(error)}`);
          return;
        }
        assert.deepEqual(new Uint8Array(encodeMessage(message)), bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('a frame splitter fed arbitrary bytes, in arbitrary chunks, yields exactly the frames a one-pass reading finds', () => {
    // A small limit, so that random headers both fit and overflow it.
    const limit = 24;
    const frame = fc.uint8Array({ maxLength: 32 }).map((payload) => Buffer.concat([lengthPrefix(payload.length), payload]));
    const stream = fc.tuple(fc.array(fc.oneof(frame, fc.uint8Array({ maxLength: 6 })), { maxLength: 6 })).map(([parts]) => Buffer.concat(parts));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const expected = readFramesAtOnce(bytes, limit);
        const splitter = new FrameSplitter(limit);
        const received: Buffer[] = [];
        let failure: unknown;
        try {
          for (const chunk of chunked(bytes, cuts)) received.push(...splitter.push(chunk));
        } catch (error) {
          failure = error;
        }
        assert.equal(failure !== undefined, expected.overflows, `overflow ${expected.overflows ? 'not ' : ''}reported`);
        if (failure !== undefined) {
          assert.ok(failure instanceof ProtocolError, `threw ${String(failure)}`);
          // Frames that came in the same chunk as the overflowing header are dropped with the connection.
          assert.deepEqual(received, expected.payloads.slice(0, received.length));
          // The stream cannot be resynchronised: the splitter stays failed.
          assert.throws(() => splitter.push(Uint8Array.of(0, 0, 0, 0)), ProtocolError);
        } else {
          assert.deepEqual(received, expected.payloads);
          assert.equal(splitter.bufferedBytes, expected.leftover);
        }
      }),
    );
  });
});

function lengthPrefix(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
}

/** `bytes` cut at the given points (taken modulo its length), in order. */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** The reference reading: whole frames in order until one is incomplete or announces more than `limit` bytes. */
function readFramesAtOnce(bytes: Buffer, limit: number): { payloads: Buffer[]; overflows: boolean; leftover: number } {
  const payloads: Buffer[] = [];
  let at = 0;
  while (at + 4 <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (length > limit) return { payloads, overflows: true, leftover: bytes.length - at };
    if (at + 4 + length > bytes.length) break;
    payloads.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { payloads, overflows: false, leftover: bytes.length - at };
}
