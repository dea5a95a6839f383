/**
 * Mutations as data: a fast-check arbitrary draws a list of edits, `mutate`
 * applies them to a copy of a seed. Being data, a failing list is printed
 * with the failure and shrinks (fewer, smaller edits) like any other value.
 *
 * The edits are the classic ones (bit flips, boundary values, arithmetic on
 * fields, cuts, inserts, copies, splices from another seed) plus a few
 * archive-header texts. Positions are drawn inside a seed's regions (see
 * seeds.ts) so that most edits land on header and table fields.
 */
import fc from 'fast-check';
import type { Region } from './seeds.js';

/** Where an edit lands: a region of the seed, and an offset inside it. */
export interface Position {
  readonly region: number;
  readonly offset: number;
}

/** A value for a field: a fixed one, or one relative to the input's length. */
export type Value = { readonly set: bigint } | { readonly lengthPlus: number };

export type Width = 1 | 2 | 4 | 8;

export type Edit =
  | { readonly op: 'flip'; readonly at: Position; readonly bit: number }
  | { readonly op: 'byte'; readonly at: Position; readonly value: number }
  | { readonly op: 'set'; readonly at: Position; readonly width: Width; readonly value: Value }
  | { readonly op: 'add'; readonly at: Position; readonly width: Width; readonly delta: number }
  | { readonly op: 'text'; readonly at: Position; readonly text: string }
  | { readonly op: 'cut'; readonly keep: number }
  | { readonly op: 'delete'; readonly at: Position; readonly length: number }
  | { readonly op: 'insert'; readonly at: Position; readonly bytes: Uint8Array }
  | { readonly op: 'copy'; readonly from: Position; readonly to: Position; readonly length: number }
  | { readonly op: 'splice'; readonly donor: number; readonly from: number; readonly to: Position; readonly length: number };

const INTERESTING: readonly bigint[] = [
  0n, 1n, 2n, 3n, 4n, 7n, 8n, 12n, 15n, 16n, 20n, 24n, 32n, 56n, 60n, 63n, 64n, 72n, 80n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x3ffn, 0x1000n,
  0x7fffn, 0x8000n, 0xfff1n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xfffffff0n, 0xfffffffen, 0xffffffffn, 1n << 32n,
  (1n << 53n) - 1n, 1n << 53n, 1n << 63n, (1n << 64n) - 1n,
];

const TEXTS: readonly string[] = [
  '0', '1', '-1', '+1', ' 1', '1e3', '0x10', '9999999999', '4294967296', '', '/', '//', '/0', '/1', '/99999', '/SYM64/', '#1/', '#1/0', '#1/8',
  '#1/99999', '#1/4294967295', '__.SYMDEF', '`\n', '\n`', '!<arch>\n', '\x7fELF', '\xcf\xfa\xed\xfe',
];

const position = fc.record({ region: fc.nat(), offset: fc.nat() });
const width = fc.constantFrom<Width>(1, 2, 4, 8);
const value: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INTERESTING).map((set): Value => ({ set })) },
  { weight: 1, arbitrary: fc.integer({ min: -16, max: 16 }).map((lengthPlus): Value => ({ lengthPlus })) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((set): Value => ({ set })) },
);

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('byte' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), at: position, width, value }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), at: position, width, delta: fc.integer({ min: -35, max: 35 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('text' as const), at: position, text: fc.constantFrom(...TEXTS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy' as const), from: position, to: position, length: fc.integer({ min: 1, max: 128 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), donor: fc.nat(), from: fc.nat(), to: position, length: fc.integer({ min: 1, max: 256 }) }) },
);

/** One to `max` edits, a single one most often (it keeps more inputs acceptable), as in havoc stacking. */
export function edits(max = 8): fc.Arbitrary<Edit[]> {
  return fc.oneof({ weight: 2, arbitrary: edit.map((e) => [e]) }, { weight: 3, arbitrary: fc.array(edit, { minLength: 1, maxLength: max }) });
}

/** An absolute offset inside `length` bytes, or undefined for an empty input. */
function resolve(at: Position, regions: readonly Region[], length: number, align = 1): number | undefined {
  if (length === 0) return undefined;
  const region = regions[at.region % regions.length]!;
  let offset = at.offset % region.length;
  offset -= offset % align;
  return Math.min(region.start + offset, length - 1);
}

function writeInteger(bytes: Uint8Array, at: number, width: Width, value: bigint): void {
  let rest = BigInt.asUintN(64, value);
  for (let i = 0; i < width && at + i < bytes.length; i++) {
    bytes[at + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

function readInteger(bytes: Uint8Array, at: number, width: Width): bigint {
  let value = 0n;
  for (let i = width - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i] ?? 0);
  return value;
}

function joined(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * `seed` with `list` applied, in order, to a copy. Regions keep their seed
 * offsets after a length change; positions past the end are clamped.
 * `donors` supplies the bytes of splices.
 */
export function mutate(seed: Uint8Array, regions: readonly Region[], list: readonly Edit[], donors: readonly Uint8Array[] = []): Uint8Array {
  let bytes: Uint8Array = seed.slice();
  for (const e of list) {
    switch (e.op) {
      case 'flip': {
        const at = resolve(e.at, regions, bytes.length);
        if (at !== undefined) bytes[at]! ^= 1 << e.bit;
        break;
      }
      case 'byte': {
        const at = resolve(e.at, regions, bytes.length);
        if (at !== undefined) bytes[at] = e.value;
        break;
      }
      case 'set': {
        const at = resolve(e.at, regions, bytes.length, e.width);
        const v = 'set' in e.value ? e.value.set : BigInt(bytes.length + e.value.lengthPlus);
        if (at !== undefined) writeInteger(bytes, at, e.width, v);
        break;
      }
      case 'add': {
        const at = resolve(e.at, regions, bytes.length, e.width);
        if (at !== undefined) writeInteger(bytes, at, e.width, readInteger(bytes, at, e.width) + BigInt(e.delta));
        break;
      }
      case 'text': {
        const at = resolve(e.at, regions, bytes.length);
        if (at !== undefined) for (let i = 0; i < e.text.length && at + i < bytes.length; i++) bytes[at + i] = e.text.charCodeAt(i) & 0xff;
        break;
      }
      case 'cut':
        bytes = bytes.slice(0, e.keep % (bytes.length + 1));
        break;
      case 'delete': {
        const at = resolve(e.at, regions, bytes.length);
        if (at !== undefined) bytes = joined(bytes.subarray(0, at), bytes.subarray(at + e.length));
        break;
      }
      case 'insert': {
        const at = resolve(e.at, regions, bytes.length) ?? 0;
        bytes = joined(bytes.subarray(0, at), e.bytes, bytes.subarray(at));
        break;
      }
      case 'copy': {
        const from = resolve(e.from, regions, bytes.length);
        const to = resolve(e.to, regions, bytes.length);
        if (from !== undefined && to !== undefined) bytes.set(bytes.slice(from, from + Math.min(e.length, bytes.length - to)), to);
        break;
      }
      case 'splice': {
        const donor = donors.length > 0 ? donors[e.donor % donors.length]! : seed;
        const to = resolve(e.to, regions, bytes.length);
        if (to !== undefined && donor.length > 0) {
          const from = e.from % donor.length;
          bytes.set(donor.subarray(from, from + Math.min(e.length, bytes.length - to)), to);
        }
        break;
      }
    }
  }
  return bytes;
}
