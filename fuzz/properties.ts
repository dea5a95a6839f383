/**
 * The fuzzing properties, shared by the CI slice (test/fuzz/fuzz-short.test.ts)
 * and the long run (fuzz/long-run.ts). Each is a fast-check arbitrary of
 * cases plus a `check` that throws on a broken contract:
 *
 * - objects: a mutated object, archive or executable fed to `readObjects`
 *   (and `readElfImage` for executables) parses into a model that keeps its
 *   promises, or fails with one single-line `ObjectFormatError` naming the
 *   file, quickly, without writing to its input.
 * - decode: a mutated or generated payload fed to `decodeMessage` either
 *   decodes to a message that re-encodes to exactly the payload, or fails
 *   with a single-line `ProtocolError` whose offset lies inside it.
 * - frames: an arbitrary byte stream (valid frames, garbage, huge length
 *   headers) pushed into a `FrameSplitter` in arbitrary chunks, with a small
 *   size limit, yields exactly what a hand-written model of the framing says,
 *   push by push, and fails exactly when and how the model does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FrameSplitter } from '../src/deliver/frames.js';
import { decodeMessage, encodeMessage, ProtocolError } from '../src/deliver/protocol.js';
import { readTypeLayouts } from '../src/debuginfo/index.js';
import { readElfImage } from '../src/object/elf/image.js';
import { ObjectFormatError } from '../src/object/errors.js';
import type { ObjectFile } from '../src/object/model.js';
import { readObjects } from '../src/object/read.js';
import { edits, mutate, type Edit } from './mutate.js';
import { goldenPayloads, payloadRegions, type Seed } from './seeds.js';

/** One generated input: the bytes under test and how they were made. */
export interface Case {
  readonly bytes: Uint8Array;
  readonly origin: string;
}

export type Outcome = 'accepted' | 'rejected';

export interface FuzzProperty<T extends Case> {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws an Error describing the broken contract; otherwise says whether the input was accepted. */
  check(value: T): Outcome;
}

/** Printed by fast-check in place of the (possibly large) bytes. */
function described<T extends Case>(value: T): T {
  Object.defineProperty(value, fc.toStringMethod, {
    value: () => `${value.origin} (${value.bytes.length} bytes)`,
    enumerable: false,
  });
  return value;
}

function describeEdits(list: readonly Edit[]): string {
  return JSON.stringify(list, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** "… at offset 12: …" must point inside the input. */
function checkOffset(message: string, length: number): void {
  const match = / at offset (\d+)/.exec(message);
  if (!match) return;
  const offset = Number(match[1]);
  if (!(offset <= length)) throw new Error(`error offset ${offset} lies past the ${length}-byte input: ${message}`);
}

// ---------------------------------------------------------------------------
// Object readers

export interface ObjectCase extends Case {
  readonly seed: Seed;
}

/** What a successful read promises the diff and the patch builder, whatever the input. */
export function checkObject(object: ObjectFile): void {
  const fail = (what: string): never => {
    throw new Error(`${object.path}: accepted, but ${what}`);
  };
  object.sections.forEach((section, index) => {
    if (section.index !== index) fail(`section ${index} says it is ${section.index}`);
    if (!Number.isSafeInteger(section.size) || section.size < 0) fail(`section ${index} has size ${section.size}`);
    if (section.data.length !== section.size && section.data.length !== 0) fail(`section ${index} has ${section.data.length} of ${section.size} bytes`);
    for (const relocation of section.relocations) {
      if (!(relocation.offset >= 0 && relocation.width >= 0 && relocation.offset + relocation.width <= section.size)) {
        fail(`a relocation at 0x${relocation.offset.toString(16)} (${relocation.width} bytes) lies outside section ${index} of ${section.size} bytes`);
      }
      if ('symbol' in relocation.target) {
        if (object.symbols[relocation.target.symbol] === undefined) fail(`a relocation targets missing symbol ${relocation.target.symbol}`);
      } else if (object.sections[relocation.target.section] === undefined) {
        fail(`a relocation targets missing section ${relocation.target.section}`);
      }
    }
  });
  object.symbols.forEach((symbol, index) => {
    if (symbol.index !== index) fail(`symbol ${index} says it is ${symbol.index}`);
    if (!Number.isSafeInteger(symbol.extent) || symbol.extent < 0) fail(`symbol ${index} has extent ${symbol.extent}`);
    if (symbol.section === undefined) return;
    const section = object.sections[symbol.section];
    if (section === undefined) fail(`symbol ${index} is in missing section ${symbol.section}`);
    // The patch builder copies (or allocates) `extent` bytes of the symbol.
    else if (!(symbol.offset >= 0 && symbol.offset + symbol.extent <= section.size)) fail(`symbol ${index} (${symbol.name}) runs past its section`);
  });
}

function checkFormatError(error: ObjectFormatError, label: string): void {
  if (!error.file.startsWith(label)) throw new Error(`the error names ${error.file}, not ${label}: ${error.message}`);
  if (error.structure.length === 0) throw new Error(`the error names no structure: ${error.message}`);
  if (!Number.isSafeInteger(error.offset) || error.offset < 0) throw new Error(`the error offset ${error.offset} is not a file position`);
  if (!error.message.startsWith(`${error.file}: invalid ${error.structure} at offset 0x`)) throw new Error(`malformed message: ${error.message}`);
  if (error.message.includes('\n')) throw new Error(`the message spans lines: ${JSON.stringify(error.message)}`);
  // The offset may lie past the end: it is where a field said a table starts.
}

/** One read under the contract: the parse result, or undefined after a well-formed ObjectFormatError; anything else throws. */
function readUnderContract<T>(label: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ObjectFormatError)) throw new Error(`threw something other than ObjectFormatError: ${errorText(error)}`);
    checkFormatError(error, label);
    return undefined;
  }
}

export interface ObjectLimits {
  /** A single parse taking longer than this fails the property. */
  readonly slowMs: number;
}

export function checkObjectCase(value: ObjectCase, limits: ObjectLimits): Outcome {
  const { bytes, seed } = value;
  const before = Buffer.from(bytes);
  const label = seed.name;
  let objects: ObjectFile[] | undefined;
  let image: unknown;
  const parse = (): number => {
    const started = performance.now();
    objects = readUnderContract(label, () => readObjects(label, bytes));
    // The layout check reads the DWARF of accepted objects: a malformed one must be a DebugInfoError (an ObjectFormatError).
    if (objects) readUnderContract(label, () => readTypeLayouts(objects!));
    image = seed.kind === 'image' ? readUnderContract(label, () => readElfImage(label, bytes)) : undefined;
    return performance.now() - started;
  };
  let elapsed = parse();
  // A garbage collection or a busy machine can stall one parse: slow twice is slow.
  if (elapsed > limits.slowMs) elapsed = Math.min(elapsed, parse());
  if (elapsed > limits.slowMs) throw new Error(`the parse of ${bytes.length} bytes took ${Math.round(elapsed)} ms (limit ${limits.slowMs} ms)`);
  objects?.forEach(checkObject);
  if (!before.equals(bytes)) throw new Error('the reader wrote to its input');
  return (seed.kind === 'image' ? image : objects) === undefined ? 'rejected' : 'accepted';
}

const MAGICS: readonly Uint8Array[] = [
  Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0),
  Uint8Array.of(0xcf, 0xfa, 0xed, 0xfe),
  new TextEncoder().encode('!<arch>\n'),
  new Uint8Array(0),
];

export function objectsProperty(seeds: readonly Seed[], limits: ObjectLimits = { slowMs: 2_000 }): FuzzProperty<ObjectCase> {
  const donors = seeds.map((seed) => seed.bytes);
  const mutated = fc.tuple(fc.nat({ max: seeds.length - 1 }), edits()).map(([which, list]) => {
    const seed = seeds[which]!;
    return described<ObjectCase>({ seed, bytes: mutate(seed.bytes, seed.regions, list, donors), origin: `${seed.name} with edits ${describeEdits(list)}` });
  });
  // A valid magic (or a header) followed by noise; the noise is given a seed's kind.
  const noise = fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.nat({ max: MAGICS.length }), fc.uint8Array({ maxLength: 512 }))
    .map(([which, magic, random]) => {
      const seed = seeds[which]!;
      const prefix = magic < MAGICS.length ? MAGICS[magic]! : seed.bytes.subarray(0, 64);
      const bytes = new Uint8Array(prefix.length + random.length);
      bytes.set(prefix);
      bytes.set(random, prefix.length);
      return described<ObjectCase>({ seed, bytes, origin: `${Buffer.from(prefix).toString('hex')} then ${Buffer.from(random).toString('hex')}` });
    });
  return {
    name: 'objects',
    arbitrary: fc.oneof({ weight: 19, arbitrary: mutated }, { weight: 1, arbitrary: noise }),
    check: (value) => checkObjectCase(value, limits),
  };
}

/**
 * Inputs that once broke a property, kept under fuzz/regressions/objects/ and
 * replayed by the CI slice. The kind follows the file name: `*.o` objects,
 * `*.a` archives, anything else executables.
 */
export function regressionCases(directory: string): ObjectCase[] {
  return readdirSync(directory)
    .sort()
    .map((name) => {
      const bytes = new Uint8Array(readFileSync(join(directory, name)));
      const kind = name.endsWith('.o') ? 'object' : name.endsWith('.a') ? 'archive' : 'image';
      return { bytes, seed: { name, kind, bytes, regions: [] }, origin: `regression ${name}` };
    });
}

// ---------------------------------------------------------------------------
// Message decoder

/** What each tag's fields are, for generating valid payloads; see also LAYOUTS in seeds.ts. */
const SCHEMA: Readonly<Record<number, readonly ('u8bool' | 'u32' | 'u64' | 'bytes' | 'string' | 'redirects' | 'stacks' | 'tlsFixups')[]>> = {
  1: ['u32', 'u32', 'bytes', 'string', 'u64', 'u64', 'u64'],
  2: ['u32', 'bytes', 'string', 'u64', 'redirects', 'u64', 'string', 'tlsFixups'],
  3: ['u32', 'u8bool', 'string', 'u64', 'u64', 'u8bool', 'stacks'],
  4: ['string'],
  5: ['bytes'],
  6: ['bytes', 'bytes'],
  7: ['bytes'],
};

const u32Bytes = fc.nat({ max: 0xffff_ffff }).map((v) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, true);
  return out;
});
const u64Bytes = fc.uint8Array({ minLength: 8, maxLength: 8 });
function lengthPrefixed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, 4);
  return out;
}
const fieldArbitraries = {
  u8bool: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 255 }) }).map((v) => Uint8Array.of(v)),
  u32: u32Bytes,
  u64: u64Bytes,
  bytes: fc.uint8Array({ maxLength: 40 }).map(lengthPrefixed),
  string: fc
    .oneof({ weight: 9, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) })
    .map(lengthPrefixed),
  redirects: fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 6 }).map((list) => {
    const out = new Uint8Array(4 + 16 * list.length);
    new DataView(out.buffer).setUint32(0, list.length, true);
    list.forEach((r, i) => out.set(r, 4 + 16 * i));
    return out;
  }),
  // TLS fixups: address, value, width (4 or 8 valid).
  tlsFixups: fc
    .array(
      fc.tuple(u64Bytes, u64Bytes, fc.oneof({ weight: 9, arbitrary: fc.constantFrom(4, 8) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) })),
      { maxLength: 4 },
    )
    .map((fixups) => {
      const count = new Uint8Array(4);
      new DataView(count.buffer).setUint32(0, fixups.length, true);
      return joinAll([count, ...fixups.flatMap(([address, value, width]) => [address, value, Uint8Array.of(width)])]);
    }),
  // Thread stacks: tid, status (0-2 valid), frame count, frames.
  stacks: fc
    .array(
      fc.tuple(
        u32Bytes,
        fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 255 }) }),
        fc.array(u64Bytes, { maxLength: 5 }),
      ),
      { maxLength: 4 },
    )
    .map((stacks) => {
      const u32 = (value: number): Uint8Array => {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, value, true);
        return out;
      };
      const parts: Uint8Array[] = [u32(stacks.length)];
      for (const [tid, status, frames] of stacks) parts.push(tid, Uint8Array.of(status), u32(frames.length), ...frames);
      return joinAll(parts);
    }),
} as const;

function joinAll(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A payload laid out by SCHEMA: valid for every tag both sides know, fields random. */
const schemaPayload: fc.Arbitrary<Uint8Array> = fc.constantFrom(...Object.keys(SCHEMA).map(Number)).chain((tag) =>
  fc.tuple(...SCHEMA[tag]!.map((field) => fieldArbitraries[field] as fc.Arbitrary<Uint8Array>)).map((fields) => joinAll([Uint8Array.of(tag), ...fields])),
);

export function decodeProperty(): FuzzProperty<Case> {
  const golden = goldenPayloads();
  const fromSeed = (bytes: Uint8Array, list: readonly Edit[], origin: string): Case =>
    described({ bytes: mutate(bytes, payloadRegions(bytes), list, golden), origin: `${origin} with edits ${describeEdits(list)}` });
  const goldenCase = fc.tuple(fc.nat({ max: golden.length - 1 }), edits(4)).map(([which, list]) => fromSeed(golden[which]!, list, `golden payload ${which}`));
  const generatedCase = fc
    .tuple(schemaPayload, fc.oneof({ weight: 1, arbitrary: fc.constant<Edit[]>([]) }, { weight: 3, arbitrary: edits(4) }))
    .map(([payload, list]) => fromSeed(payload, list, `payload ${Buffer.from(payload).toString('hex')}`));
  const rawCase = fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 64 }))
    .map(([tag, rest]) => described({ bytes: joinAll([Uint8Array.of(tag), rest]), origin: `tag ${tag} then ${Buffer.from(rest).toString('hex')}` }));
  return {
    name: 'decode',
    arbitrary: fc.oneof({ weight: 4, arbitrary: goldenCase }, { weight: 4, arbitrary: generatedCase }, { weight: 1, arbitrary: rawCase }),
    check: ({ bytes }) => (checkDecode(bytes).ok ? 'accepted' : 'rejected'),
  };
}

/** The verdict of the TypeScript decoder, as the long run compares it with the Rust one. */
export type Verdict = { readonly ok: true; readonly kind: string } | { readonly ok: false; readonly message: string };

export function checkDecode(bytes: Uint8Array): Verdict {
  let message;
  try {
    message = decodeMessage(bytes);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw new Error(`threw something other than ProtocolError: ${errorText(error)}`);
    if (error.message.length === 0 || error.message.includes('\n')) throw new Error(`bad error message ${JSON.stringify(error.message)}`);
    checkOffset(error.message, bytes.length);
    return { ok: false, message: error.message };
  }
  let encoded: Uint8Array;
  try {
    encoded = encodeMessage(message);
  } catch (error) {
    throw new Error(`decoded a ${message.type} message that does not encode: ${errorText(error)}`);
  }
  if (!Buffer.from(encoded).equals(bytes)) {
    throw new Error(`a ${message.type} message re-encodes to ${Buffer.from(encoded).toString('hex')}, not the ${Buffer.from(bytes).toString('hex')} it was decoded from`);
  }
  return { ok: true, kind: message.type };
}

// ---------------------------------------------------------------------------
// Frame splitter

export interface FramesCase extends Case {
  readonly limit: number | undefined;
  /** Ascending cut points: the chunks pushed are bytes[cuts[i-1], cuts[i]). */
  readonly cuts: readonly number[];
  /** Where each chunk sits inside the ArrayBuffer it is pushed as a view of. */
  readonly padding: number;
}

/** A length header with an arbitrary (often too large) value, then maybe some bytes. */
const piece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }).map(lengthPrefixed) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(fc.nat({ max: 80 }), fc.constantFrom(0xffff_ffff, 0x0100_0000, 0x0100_0001)), fc.uint8Array({ maxLength: 8 }))
      .map(([length, rest]) => {
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, length, true);
        return joinAll([header, rest]);
      }),
  },
);

export function framesProperty(): FuzzProperty<FramesCase> {
  const arbitrary = fc
    .tuple(fc.array(piece, { maxLength: 8 }), fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 40 })), fc.array(fc.nat(), { maxLength: 8 }), fc.nat({ max: 7 }))
    .map(([pieces, limit, rawCuts, padding]) => {
      const bytes = joinAll(pieces);
      const cuts = [...rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
      return described<FramesCase>({ bytes, limit, cuts, padding, origin: `stream ${Buffer.from(bytes).toString('hex')} limit ${limit} cuts ${cuts.join(',')}` });
    });
  return { name: 'frames', arbitrary, check: checkFrames };
}

const DEFAULT_LIMIT = 16 * 1024 * 1024;

/** The framing, by hand: what a splitter holding `bytes[0, end)` has handed out, holds back, or refuses. */
function modelFrames(bytes: Uint8Array, end: number, limit: number): { frames: Uint8Array[]; consumed: number; refused: number | undefined } {
  const frames: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    if (end - at < 4) return { frames, consumed: at, refused: undefined };
    const length = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
    if (length > limit) return { frames, consumed: at, refused: length };
    if (end - at - 4 < length) return { frames, consumed: at, refused: undefined };
    frames.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
}

export function checkFrames(value: FramesCase): Outcome {
  const { bytes, limit, cuts, padding } = value;
  const max = limit ?? DEFAULT_LIMIT;
  const splitter = limit === undefined ? new FrameSplitter() : new FrameSplitter(limit);
  let start = 0;
  let delivered = 0;
  let failed = false;
  for (const cut of cuts) {
    // Each chunk is a view into a larger buffer, as socket chunks from a pool can be.
    const backing = new Uint8Array(padding + (cut - start) + 3);
    backing.set(bytes.subarray(start, cut), padding);
    const chunk = backing.subarray(padding, padding + (cut - start));
    const model = modelFrames(bytes, cut, max);
    let payloads: Buffer[];
    try {
      payloads = splitter.push(chunk);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw new Error(`push threw something other than ProtocolError: ${errorText(error)}`);
      if (model.refused === undefined) throw new Error(`push up to byte ${cut} threw "${error.message}", the model has no oversized header`);
      if (!error.message.includes(`frame announces ${model.refused} bytes`)) throw new Error(`wrong refusal "${error.message}", the model refuses ${model.refused}`);
      failed = true;
      start = cut;
      continue;
    }
    if (failed) throw new Error(`push up to byte ${cut} succeeded after the splitter had failed`);
    if (model.refused !== undefined) throw new Error(`push up to byte ${cut} accepted a header announcing ${model.refused} bytes over the ${max}-byte limit`);
    const expected = model.frames.slice(delivered);
    if (payloads.length !== expected.length) throw new Error(`push up to byte ${cut} gave ${payloads.length} payloads, the model ${expected.length}`);
    payloads.forEach((payload, i) => {
      if (!payload.equals(expected[i]!)) throw new Error(`payload ${delivered + i} differs from the model`);
    });
    delivered += payloads.length;
    if (splitter.bufferedBytes !== cut - model.consumed) throw new Error(`after byte ${cut}: ${splitter.bufferedBytes} bytes buffered, the model ${cut - model.consumed}`);
    start = cut;
  }
  if (failed) {
    // Stays failed: no resynchronising on a byte stream.
    try {
      splitter.push(Uint8Array.of(0, 0, 0, 0));
    } catch (error) {
      if (error instanceof ProtocolError) return 'rejected';
      throw error;
    }
    throw new Error('the splitter accepted more bytes after refusing a frame');
  }
  return 'accepted';
}
