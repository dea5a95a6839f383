import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { diffObjects } from '../../src/diff/compare.js';
import { readArchive } from '../../src/object/archive/index.js';
import { readElfImage } from '../../src/object/elf/image.js';
import { readElf } from '../../src/object/elf/index.js';
import { ObjectFormatError } from '../../src/object/errors.js';
import type { ObjectFile } from '../../src/object/model.js';
import { readObjectPath, readObjects } from '../../src/object/read.js';
import { REPOSITORY } from '../support/repository.js';
import { runInWorker } from '../support/worker-job.js';

// Issue 2: every read is bounds-checked. Corrupt, truncated, zero-length and
// random inputs to the ELF reader, the archive reader and `ipbp diff` end in
// one ObjectFormatError naming the file, the structure and the offset; never
// another exception, a hang, or an allocation sized by an unchecked field.
//
// The fuzzing jobs run in a worker thread: a parse stuck in a loop cannot be
// interrupted on its own thread, but a worker can be terminated, so a hang
// fails the test instead of stalling the run, and a worker has a heap limit,
// so an allocation sized by a claim fails it too. (Mach-O has its own tests
// in macho.test.ts.)

const AARCH64_FIXTURES = join(REPOSITORY, 'test/fixtures/diff-cross/aarch64-unknown-linux-gnu');
const JOB_LIMIT_MS = 30_000;
/** IPBP_FUZZ_SCALE=20 multiplies every property's runs, for a longer search than the default ~6 s. */
const FUZZ_SCALE = Number(process.env.IPBP_FUZZ_SCALE ?? '1');

function runs(base: number): number {
  return Math.max(1, Math.round(base * (Number.isFinite(FUZZ_SCALE) ? FUZZ_SCALE : 1)));
}

type Kind = 'object' | 'archive' | 'image';

interface Fixture {
  readonly name: string;
  readonly kind: Kind;
  readonly bytes: Uint8Array;
}

interface Fixtures {
  /** The x86_64 relocatable object from rustc. */
  readonly object: Fixture;
  /** An rlib: a GNU archive with a `//` long-name table. */
  readonly rlib: Fixture;
  /** A BSD archive (`#1/<len>` names) written by hand around the object. */
  readonly bsd: Fixture;
  /** A linked (PIE) executable, for readElfImage. */
  readonly image: Fixture;
  readonly aarch64: readonly Fixture[];
}

// ---------------------------------------------------------------------------
// Reading with the contract checked

const encoder = new TextEncoder();

/** Every input must parse or fail with ObjectFormatError; anything else fails the test. */
function readCleanly(kind: Kind | 'any', label: string, bytes: Uint8Array): 'ok' | ObjectFormatError {
  let outcome: 'ok' | ObjectFormatError;
  try {
    if (kind === 'object') checkObject(readElf(label, bytes));
    else if (kind === 'image') readElfImage(label, bytes);
    else if (kind === 'archive') readArchive(label, bytes);
    if (kind !== 'image') readObjects(label, bytes).forEach(checkObject);
    outcome = 'ok';
  } catch (error) {
    if (!(error instanceof ObjectFormatError)) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      assert.fail(`${kind} reader threw something other than ObjectFormatError on ${bytes.length} bytes: ${detail}`);
    }
    checkFormatError(error, label);
    outcome = error;
  }
  return outcome;
}

/** One message naming the file (or the archive member within it), the structure and the offset. */
function checkFormatError(error: ObjectFormatError, label: string): void {
  assert.ok(error.file.startsWith(label), `error names the file: ${error.message}`);
  assert.ok(error.structure.length > 0, 'error names the structure');
  assert.ok(Number.isSafeInteger(error.offset) && error.offset >= 0, `error offset is a file position: ${error.offset}`);
  assert.ok(error.message.startsWith(`${error.file}: invalid ${error.structure} at offset 0x`), error.message);
  assert.ok(!error.message.includes('\n'), 'the message is one line');
}

/** What a successful read promises the diff and the patch builder, whatever the input. */
function checkObject(object: ObjectFile): void {
  object.sections.forEach((section, index) => {
    assert.equal(section.index, index);
    assert.ok(section.data.length === section.size || section.data.length === 0, 'section data is all or nothing');
    for (const relocation of section.relocations) {
      assert.ok(relocation.offset >= 0 && relocation.offset + relocation.width <= section.size, 'relocated field inside its section');
      if ('symbol' in relocation.target) assert.ok(object.symbols[relocation.target.symbol] !== undefined, 'symbol target exists');
      else assert.ok(object.sections[relocation.target.section] !== undefined, 'section target exists');
    }
  });
  object.symbols.forEach((symbol, index) => {
    assert.equal(symbol.index, index);
    assert.ok(symbol.extent >= 0);
    if (symbol.section === undefined) return;
    const section = object.sections[symbol.section];
    assert.ok(section !== undefined, 'symbol section exists');
    // The patch builder allocates `extent` bytes for a zero-filled symbol.
    assert.ok(symbol.offset + symbol.extent <= section.size, `symbol ${symbol.name} lies inside its section`);
  });
}

function expectFormatError(kind: Kind | 'any', label: string, bytes: Uint8Array): ObjectFormatError {
  const outcome = readCleanly(kind, label, bytes);
  assert.ok(outcome instanceof ObjectFormatError, `${label}: expected an ObjectFormatError, the input was accepted`);
  return outcome;
}

/**
 * Reads a mutated copy of `fixture`. An object that is still accepted must
 * also be diffable against the original, as `ipbp diff` would.
 */
function readerOf(fixture: Fixture): (bytes: Uint8Array) => 'ok' | ObjectFormatError {
  return (bytes) => {
    const outcome = readCleanly(fixture.kind, fixture.name, bytes);
    if (outcome === 'ok' && fixture.kind === 'object' && bytes.length === fixture.bytes.length) {
      const original = [readElf(fixture.name, fixture.bytes)];
      const mutated = [readElf(fixture.name, bytes)];
      diffObjects(original, mutated);
      diffObjects(mutated, original);
    }
    return outcome;
  };
}

// ---------------------------------------------------------------------------
// Where the header fields are, found independently of the reader under test

type Width = 1 | 2 | 4 | 8 | 'text';

interface Field {
  readonly name: string;
  readonly at: number;
  readonly width: Width;
  readonly size?: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOTE = 7;

interface SectionHeader {
  readonly at: number;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
}

function sectionHeaders(bytes: Uint8Array): SectionHeader[] {
  const v = view(bytes);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  return Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * 64;
    return { at, type: v.getUint32(at + 4, true), offset: Number(v.getBigUint64(at + 24, true)), size: Number(v.getBigUint64(at + 32, true)), link: v.getUint32(at + 40, true) };
  });
}

/** The header, section header, symbol, relocation and note fields of an ELF file, by field name. */
function elfFields(bytes: Uint8Array): Map<string, Field[]> {
  const fields = new Map<string, Field[]>();
  const add = (name: string, at: number, width: Width): void => {
    const list = fields.get(name) ?? [];
    list.push({ name, at, width });
    fields.set(name, list);
  };
  for (const [name, at, width] of [
    ['e_type', 16, 2],
    ['e_machine', 18, 2],
    ['e_phoff', 32, 8],
    ['e_shoff', 40, 8],
    ['e_phnum', 56, 2],
    ['e_shentsize', 58, 2],
    ['e_shnum', 60, 2],
    ['e_shstrndx', 62, 2],
  ] as const) {
    add(name, at, width);
  }
  const v = view(bytes);
  for (const header of sectionHeaders(bytes)) {
    for (const [name, delta, width] of [
      ['sh_name', 0, 4],
      ['sh_type', 4, 4],
      ['sh_flags', 8, 8],
      ['sh_offset', 24, 8],
      ['sh_size', 32, 8],
      ['sh_link', 40, 4],
      ['sh_info', 44, 4],
      ['sh_entsize', 56, 8],
    ] as const) {
      add(name, header.at + delta, width);
    }
    if (header.type === SHT_SYMTAB) {
      for (let at = header.offset; at + 24 <= header.offset + header.size; at += 24) {
        add('st_name', at, 4);
        add('st_info', at + 4, 1);
        add('st_shndx', at + 6, 2);
        add('st_value', at + 8, 8);
        add('st_size', at + 16, 8);
      }
    }
    if (header.type === SHT_RELA) {
      for (let at = header.offset; at + 24 <= header.offset + header.size; at += 24) {
        add('r_offset', at, 8);
        add('r_info', at + 8, 8);
        add('r_addend', at + 16, 8);
      }
    }
    if (header.type === SHT_NOTE) {
      for (let at = header.offset; at + 12 <= header.offset + header.size; ) {
        add('n_namesz', at, 4);
        add('n_descsz', at + 4, 4);
        add('n_type', at + 8, 4);
        at += 12 + align4(v.getUint32(at, true)) + align4(v.getUint32(at + 4, true));
      }
    }
  }
  return fields;
}

function align4(value: number): number {
  return Math.ceil(value / 4) * 4;
}

/** The member header fields of a GNU or BSD archive, by field name. */
function archiveFields(bytes: Uint8Array): Map<string, Field[]> {
  const fields = new Map<string, Field[]>([
    ['ar_name', []],
    ['ar_size', []],
    ['ar_fmag', []],
  ]);
  let at = 8;
  while (at + 60 <= bytes.length) {
    fields.get('ar_name')!.push({ name: 'ar_name', at, width: 'text', size: 16 });
    fields.get('ar_size')!.push({ name: 'ar_size', at: at + 48, width: 'text', size: 10 });
    fields.get('ar_fmag')!.push({ name: 'ar_fmag', at: at + 58, width: 'text', size: 2 });
    const size = Number(latin1(bytes, at + 48, 10).trim());
    at += 60 + size + (size % 2);
  }
  return fields;
}

function latin1(bytes: Uint8Array, start: number, length: number): string {
  return Buffer.from(bytes.subarray(start, start + length)).toString('latin1');
}

function writeNumber(bytes: Uint8Array, field: Field, value: bigint): void {
  const v = view(bytes);
  if (field.at + (field.width as number) > bytes.length) return;
  switch (field.width) {
    case 1:
      v.setUint8(field.at, Number(BigInt.asUintN(8, value)));
      break;
    case 2:
      v.setUint16(field.at, Number(BigInt.asUintN(16, value)), true);
      break;
    case 4:
      v.setUint32(field.at, Number(BigInt.asUintN(32, value)), true);
      break;
    case 8:
      v.setBigUint64(field.at, BigInt.asUintN(64, value), true);
      break;
    case 'text':
      throw new Error('not a binary field');
  }
}

function readNumber(bytes: Uint8Array, field: Field): bigint {
  const v = view(bytes);
  switch (field.width) {
    case 1:
      return BigInt(v.getUint8(field.at));
    case 2:
      return BigInt(v.getUint16(field.at, true));
    case 4:
      return BigInt(v.getUint32(field.at, true));
    case 8:
      return v.getBigUint64(field.at, true);
    case 'text':
      throw new Error('not a binary field');
  }
}

function writeText(bytes: Uint8Array, field: Field, text: string): void {
  const width = field.size ?? 0;
  const padded = text.padEnd(width, ' ').slice(0, width);
  for (let i = 0; i < width; i++) bytes[field.at + i] = padded.charCodeAt(i) & 0xff;
}

/** A new value for a field: set outright, relative to the file length, or relative to the old value. */
type NumberEdit = { readonly set: bigint } | { readonly fileLengthPlus: number } | { readonly oldPlus: number };
type TextEdit = { readonly set: string } | { readonly oldPlus: number };

/** Boundary values, values near the file size or the old value, or anything. */
function numberEdit(): fc.Arbitrary<NumberEdit> {
  const interesting = [0n, 1n, 2n, 3n, 24n, 64n, 0x7fn, 0xffn, 0xff00n, 0xfff1n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xfffffffcn, 0xffffffffn, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
  return fc.oneof(
    fc.constantFrom(...interesting).map((set): NumberEdit => ({ set })),
    fc.integer({ min: -16, max: 16 }).map((fileLengthPlus): NumberEdit => ({ fileLengthPlus })),
    fc.integer({ min: -64, max: 64 }).map((oldPlus): NumberEdit => ({ oldPlus })),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((set): NumberEdit => ({ set })),
  );
}

function applyNumberEdit(edit: NumberEdit, old: bigint, fileLength: number): bigint {
  if ('set' in edit) return edit.set;
  if ('fileLengthPlus' in edit) return BigInt(fileLength + edit.fileLengthPlus);
  return old + BigInt(edit.oldPlus);
}

/** A new value for an archive header text field. */
function textEdit(): fc.Arbitrary<TextEdit> {
  const interesting = ['', '0', '1', '-1', '9999999999', '4294967296', '0x10', '1e9', '12 34', '/', '//', '/0', '/99999', '/SYM64/', '#1/', '#1/0', '#1/99999', '#1/4294967295', '__.SYMDEF', '`\n', '\n`'];
  return fc.oneof(
    fc.constantFrom(...interesting).map((set): TextEdit => ({ set })),
    fc.stringMatching(/^[0-9]{1,10}$/).map((set): TextEdit => ({ set })),
    fc.integer({ min: -40, max: 40 }).map((oldPlus): TextEdit => ({ oldPlus })),
    fc.uint8Array({ maxLength: 16 }).map((random): TextEdit => ({ set: Buffer.from(random).toString('latin1') })),
  );
}

function applyTextEdit(edit: TextEdit, old: string): string {
  if ('set' in edit) return edit.set;
  return String(Number(old.trim()) + edit.oldPlus);
}

// ---------------------------------------------------------------------------
// Hand-made inputs

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function arHeader(name: string, size: number): Uint8Array {
  const text = name.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(size).padEnd(10) + '`\n';
  assert.equal(text.length, 60);
  return encoder.encode(text);
}

/** A BSD archive: names longer than 16 bytes, or with spaces, go as `#1/<len>` before the data. */
function bsdArchive(members: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode('!<arch>\n')];
  for (const { name, data } of members) {
    let body = data;
    let field = name;
    if (name.length > 15 || name.includes(' ')) {
      // The name is NUL-padded to a multiple of 8, as Apple's ar writes it.
      const padded = new Uint8Array(Math.ceil((name.length + 1) / 8) * 8);
      padded.set(encoder.encode(name));
      body = concat([padded, data]);
      field = `#1/${padded.length}`;
    }
    parts.push(arHeader(field, body.length), body);
    if (body.length % 2 === 1) parts.push(encoder.encode('\n'));
  }
  return concat(parts);
}

interface SynthSection {
  readonly name: string;
  readonly type: number;
  readonly flags?: bigint;
  readonly link?: number;
  readonly info?: number;
  readonly entsize?: number;
  readonly data: Uint8Array;
}

/** A minimal ELF64 little-endian x86_64 file: header, section contents, .shstrtab, section headers. */
function synthElf(sections: readonly SynthSection[], type = 1): Uint8Array {
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  const shstrtab: number[] = [];
  const seen = new Map<string, number>();
  for (const name of names) {
    if (!seen.has(name)) {
      seen.set(name, shstrtab.length);
      for (const byte of encoder.encode(name)) shstrtab.push(byte);
      shstrtab.push(0);
    }
    nameOffsets.push(seen.get(name)!);
  }
  const all: SynthSection[] = [...sections, { name: '.shstrtab', type: 3, data: Uint8Array.from(shstrtab) }];
  const offsets: number[] = [];
  let at = 64;
  for (const section of all) {
    at = Math.ceil(at / 8) * 8;
    offsets.push(at);
    at += section.data.length;
  }
  const shoff = Math.ceil(at / 8) * 8;
  const bytes = new Uint8Array(shoff + (all.length + 1) * 64);
  const v = view(bytes);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, type, true);
  v.setUint16(18, 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, all.length + 1, true);
  v.setUint16(62, all.length, true);
  all.forEach((section, i) => {
    bytes.set(section.data, offsets[i]!);
    const h = shoff + (i + 1) * 64;
    v.setUint32(h, nameOffsets[i + 1]!, true);
    v.setUint32(h + 4, section.type, true);
    v.setBigUint64(h + 8, section.flags ?? 0n, true);
    v.setBigUint64(h + 24, BigInt(offsets[i]!), true);
    v.setBigUint64(h + 32, BigInt(section.data.length), true);
    v.setUint32(h + 40, section.link ?? 0, true);
    v.setUint32(h + 44, section.info ?? 0, true);
    v.setBigUint64(h + 48, 1n, true);
    v.setBigUint64(h + 56, BigInt(section.entsize ?? 0), true);
  });
  return bytes;
}

function symbolEntries(entries: ReadonlyArray<{ name: number; info?: number; shndx: number; value?: bigint; size?: bigint }>): Uint8Array {
  const bytes = new Uint8Array(entries.length * 24);
  const v = view(bytes);
  entries.forEach((entry, i) => {
    v.setUint32(i * 24, entry.name, true);
    v.setUint8(i * 24 + 4, entry.info ?? 0x12);
    v.setUint16(i * 24 + 6, entry.shndx, true);
    v.setBigUint64(i * 24 + 8, entry.value ?? 0n, true);
    v.setBigUint64(i * 24 + 16, entry.size ?? 0n, true);
  });
  return bytes;
}

// ---------------------------------------------------------------------------
// The fuzzing jobs (run in a worker)

function fixtureList(fx: Fixtures): Fixture[] {
  return [fx.object, fx.rlib, fx.bsd, fx.image, ...fx.aarch64];
}

function everyPrefix(fixture: Fixture, limit = fixture.bytes.length): void {
  const read = readerOf(fixture);
  for (let length = 0; length < Math.min(limit, fixture.bytes.length); length++) read(fixture.bytes.subarray(0, length));
}

function sampledPrefixes(fixtures: readonly Fixture[], numRuns: number): void {
  fc.assert(
    fc.property(fc.constantFrom(...fixtures.keys()), fc.double({ min: 0, max: 1, noNaN: true }), (which, fraction) => {
      const fixture = fixtures[which]!;
      const length = Math.min(fixture.bytes.length - 1, Math.floor(fraction * fixture.bytes.length));
      readerOf(fixture)(fixture.bytes.subarray(0, length));
    }),
    { numRuns: runs(numRuns) },
  );
}

const JOBS = {
  /** Every proper prefix of the objects and archives; of the image, its headers and a sample. */
  truncation(fx: Fixtures): void {
    for (const fixture of [fx.object, fx.rlib, fx.bsd, ...fx.aarch64]) {
      everyPrefix(fixture);
      // The section header table (or the archive's last member) is at the end: nothing shorter is whole.
      assert.ok(readerOf(fixture)(fixture.bytes.subarray(0, fixture.bytes.length - 1)) instanceof ObjectFormatError, `${fixture.name} minus one byte`);
    }
    // The image is big: every prefix of its headers, and a sample of the rest.
    everyPrefix(fx.image, 4096);
    sampledPrefixes([fx.image], 300);
  },

  bitFlips(fx: Fixtures): void {
    const fixtures = fixtureList(fx);
    fc.assert(
      fc.property(fc.constantFrom(...fixtures.keys()), fc.nat(), fc.integer({ min: 0, max: 7 }), (which, position, bit) => {
        const fixture = fixtures[which]!;
        const bytes = fixture.bytes.slice();
        bytes[position % bytes.length]! ^= 1 << bit;
        readerOf(fixture)(bytes);
      }),
      { numRuns: runs(1000) },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures.keys()),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 2, maxLength: 32 }),
        (which, flips) => {
          const fixture = fixtures[which]!;
          const bytes = fixture.bytes.slice();
          for (const [position, bit] of flips) bytes[position % bytes.length]! ^= 1 << bit;
          readerOf(fixture)(bytes);
        },
      ),
      { numRuns: runs(600) },
    );
    // Flips concentrated on the ELF header and the section header table, where one bit matters most.
    const objects = [fx.object, ...fx.aarch64];
    fc.assert(
      fc.property(fc.constantFrom(...objects.keys()), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }), (which, flips) => {
        const fixture = objects[which]!;
        const bytes = fixture.bytes.slice();
        const headers = sectionHeaders(bytes);
        const tableStart = headers[0]!.at;
        const tableLength = headers.length * 64;
        for (const [position, bit] of flips) {
          const at = position % 2 === 0 ? (position >> 1) % 64 : tableStart + ((position >> 1) % tableLength);
          bytes[at]! ^= 1 << bit;
        }
        readerOf(fixture)(bytes);
      }),
      { numRuns: runs(600) },
    );
  },

  elfFieldOverwrites(fx: Fixtures): void {
    const targets = [fx.object, fx.image, ...fx.aarch64].map((fixture) => ({ fixture, fields: [...elfFields(fixture.bytes).values()] }));
    fc.assert(
      fc.property(
        fc.constantFrom(...targets.keys()),
        fc.array(fc.tuple(fc.nat(), fc.nat(), numberEdit()), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const { fixture, fields } = targets[which]!;
          const bytes = fixture.bytes.slice();
          for (const [which, instance, value] of edits) {
            const group = fields[which % fields.length]!;
            const field = group[instance % group.length]!;
            writeNumber(bytes, field, applyNumberEdit(value, readNumber(bytes, field), bytes.length));
          }
          readerOf(fixture)(bytes);
        },
      ),
      { numRuns: runs(1500) },
    );
  },

  archiveFieldOverwrites(fx: Fixtures): void {
    const targets = [fx.rlib, fx.bsd].map((fixture) => ({ fixture, fields: [...archiveFields(fixture.bytes).values()] }));
    fc.assert(
      fc.property(
        fc.constantFrom(...targets.keys()),
        fc.array(fc.tuple(fc.nat(), fc.nat(), textEdit()), { minLength: 1, maxLength: 3 }),
        (which, edits) => {
          const { fixture, fields } = targets[which]!;
          const bytes = fixture.bytes.slice();
          for (const [which, instance, value] of edits) {
            const group = fields[which % fields.length]!;
            const field = group[instance % group.length]!;
            writeText(bytes, field, applyTextEdit(value, latin1(bytes, field.at, field.size ?? 0)));
          }
          readerOf(fixture)(bytes);
        },
      ),
      { numRuns: runs(1000) },
    );
  },

  randomInputs(fx: Fixtures): void {
    const elfHeader = fx.object.bytes.subarray(0, 64);
    const imageHeader = fx.image.bytes.subarray(0, 64);
    const prefixes = [new Uint8Array(0), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46), elfHeader, imageHeader, encoder.encode('!<arch>\n')];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes.keys()), fc.uint8Array({ maxLength: 4096 }), (which, random) => {
        const bytes = concat([prefixes[which]!, random]);
        for (const kind of ['any', 'object', 'image', 'archive'] as const) readCleanly(kind, 'random.o', bytes);
      }),
      { numRuns: runs(800) },
    );
    // A valid ELF header whose section header table points into random bytes.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 8192 }), fc.integer({ min: 1, max: 64 }), fc.nat(), (random, count, where) => {
        const bytes = concat([elfHeader, random]);
        const v = view(bytes);
        v.setBigUint64(40, BigInt(64 + (where % Math.max(1, random.length - 63))), true);
        v.setUint16(60, count, true);
        v.setUint16(62, where % count, true);
        for (const kind of ['object', 'image'] as const) readCleanly(kind, 'random.o', bytes);
      }),
      { numRuns: runs(400) },
    );
  },

  /** Headers that claim 2^32 of something must be refused before anything is allocated. */
  hugeClaims(fx: Fixtures): void {
    const object = fx.object.bytes;
    const headers = sectionHeaders(object);
    const symtab = headers.find((h) => h.type === SHT_SYMTAB)!;
    const rela = headers.find((h) => h.type === SHT_RELA)!;
    const edited = (edit: (v: DataView, bytes: Uint8Array) => void, source = object): Uint8Array => {
      const bytes = source.slice();
      edit(view(bytes), bytes);
      return bytes;
    };
    // Each is refused where the claim is made: the error names the claiming structure, not one read after it.
    const cases: Array<[string, Kind, RegExp, Uint8Array]> = [
      // e_shnum = 0 sends the reader to section 0's sh_size for the real count.
      ['2^32 sections (extended count)', 'object', /^ELF section header table$/, edited((v) => (v.setUint16(60, 0, true), v.setBigUint64(headers[0]!.at + 32, 2n ** 32n, true)))],
      ['2^64-1 sections (extended count)', 'object', /^ELF extended section count$/, edited((v) => (v.setUint16(60, 0, true), v.setBigUint64(headers[0]!.at + 32, 2n ** 64n - 1n, true)))],
      ['65535 sections', 'object', /^ELF section header table$/, edited((v) => v.setUint16(60, 0xffff, true))],
      ['section header table at 2^63', 'object', /^ELF section header offset$/, edited((v) => v.setBigUint64(40, 2n ** 63n, true))],
      ['section header table at 2^53-1', 'object', /^ELF section header table$/, edited((v) => v.setBigUint64(40, 2n ** 53n - 1n, true))],
      ['2^32 symbols', 'object', /^ELF section \d+ contents$/, edited((v) => v.setBigUint64(symtab.at + 32, 2n ** 32n * 24n, true))],
      ['2^32 relocations', 'object', /^ELF section \d+ contents$/, edited((v) => v.setBigUint64(rela.at + 32, 2n ** 32n * 24n, true))],
      ['a section at offset 2^53', 'object', /^ELF section offset$/, edited((v) => v.setBigUint64(symtab.at + 24, 2n ** 53n, true))],
      ['65535 program headers', 'image', /^ELF program header table$/, edited((v) => v.setUint16(56, 0xffff, true), fx.image.bytes)],
      ['program headers at 2^53-1', 'image', /^ELF program header table$/, edited((v) => v.setBigUint64(32, 2n ** 53n - 1n, true), fx.image.bytes)],
      ['2^32 sections in the image', 'image', /^ELF section header table$/, edited((v) => (v.setUint16(60, 0, true), v.setBigUint64(sectionHeaders(fx.image.bytes)[0]!.at + 32, 2n ** 32n, true)), fx.image.bytes)],
    ];
    // Section 0 is exempt from the contents check (its sh_size is the extended count);
    // used as the symbol table it must still not make the reader loop 2^32 times.
    cases.push([
      'section 0 posing as a 2^32-entry symbol table',
      'object',
      /^ELF symbol name$/,
      edited((v) => {
        v.setUint32(headers[0]!.at + 4, SHT_SYMTAB, true);
        v.setBigUint64(headers[0]!.at + 32, 2n ** 32n * 24n, true);
        v.setBigUint64(headers[0]!.at + 56, 24n, true);
        v.setUint32(headers[0]!.at + 40, symtab.link, true);
      }),
    ]);
    // A zero-filled (.bss) symbol claiming 2^40 bytes would size the patch builder's allocation.
    const bss = synthElf([
      { name: '.bss', type: 8, flags: 3n, data: new Uint8Array(0) },
      { name: '.strtab', type: 3, data: encoder.encode('\0big\0') },
      { name: '.symtab', type: SHT_SYMTAB, link: 2, info: 1, entsize: 24, data: symbolEntries([{ name: 0, info: 0, shndx: 0 }, { name: 1, info: 0x11, shndx: 1, size: 2n ** 40n }]) },
    ]);
    cases.push(['a .bss symbol of 2^40 bytes', 'object', /^ELF symbol$/, bss]);
    // An archive member of 9999999999 bytes, and a BSD name as long.
    const member = concat([encoder.encode('!<arch>\n'), arHeader('big.o/', 9_999_999_999), object.subarray(0, 64)]);
    cases.push(['an archive member of 9999999999 bytes', 'archive', /^archive member contents$/, member]);
    cases.push(['a BSD member name of 9999999999 bytes', 'archive', /^BSD archive member name$/, concat([encoder.encode('!<arch>\n'), arHeader('#1/9999999999', 64), object.subarray(0, 64)])]);
    cases.push(['a GNU long name at offset 9999999999', 'archive', /^GNU archive long name$/, concat([encoder.encode('!<arch>\n'), arHeader('//', 4), encoder.encode('a/\n\n'), arHeader('/999999999999999', 64), object.subarray(0, 64)])]);

    for (const [what, kind, structure, bytes] of cases) {
      const outcome = readCleanly(kind, `${kind}.o`, bytes);
      assert.ok(outcome instanceof ObjectFormatError, `${what}: expected an ObjectFormatError`);
      assert.match(outcome.structure, structure, `${what}: refused at the claim`);
    }
  },

  /** Inputs built to make a careless reader loop forever or blow up its memory. */
  craftedLoops(fx: Fixtures): void {
    // Note sizes near 2^32 once made the build-id walk step backwards (32-bit rounding).
    const image = fx.image.bytes.slice();
    const v = view(image);
    const note = sectionHeaders(image).find((h) => h.type === SHT_NOTE)!;
    v.setUint32(note.offset, 0xfffffffc, true);
    v.setUint32(note.offset + 4, 0xfffffff8, true);
    v.setUint32(note.offset + 8, 0x1234, true);
    readCleanly('image', 'note.so', image);
    for (const [nameSize, descriptionSize] of [
      [0xffffffff, 0xffffffff],
      [0x80000000, 0],
      [0, 0xfffffff4],
      [0xfffffff0, 0xc],
    ] as const) {
      const bytes = fx.image.bytes.slice();
      view(bytes).setUint32(note.offset, nameSize, true);
      view(bytes).setUint32(note.offset + 4, descriptionSize, true);
      readCleanly('image', 'note.so', bytes);
    }

    // Many symbol names pointing into one long unterminated run of the string
    // table: decoding each in full would hold gigabytes of strings.
    const run = new Uint8Array(256 * 1024 + 2).fill(0x61);
    run[0] = 0;
    run[run.length - 1] = 0;
    const count = 10_000;
    const entries = Array.from({ length: count }, (_, i) => ({ name: 1 + i, shndx: 1, info: 0x10 }));
    const amplified = synthElf([
      { name: '.text', type: 1, flags: 6n, data: new Uint8Array(16) },
      { name: '.strtab', type: 3, data: run },
      { name: '.symtab', type: SHT_SYMTAB, link: 2, info: 0, entsize: 24, data: symbolEntries([{ name: 0, info: 0, shndx: 0 }, ...entries]) },
    ]);
    readCleanly('object', 'strings.o', amplified);

    // The same for section names: thousands of sections named by successive offsets into one long run of .shstrtab.
    const sectionCount = 4000;
    const longName = 'x'.repeat(128 * 1024);
    const many = synthElf([{ name: longName, type: 1, data: new Uint8Array(0) }, ...Array.from({ length: sectionCount }, () => ({ name: '', type: 1, data: new Uint8Array(0) }))]);
    const headers = sectionHeaders(many);
    const longNameAt = view(many).getUint32(headers[1]!.at, true);
    for (let i = 1; i <= sectionCount; i++) view(many).setUint32(headers[1 + i]!.at, longNameAt + i, true);
    readCleanly('object', 'sections.o', many);
  },
} satisfies Record<string, (fx: Fixtures) => void>;

type JobName = keyof typeof JOBS;

interface JobRequest {
  readonly objectCorruptJob: JobName;
  readonly fixtures: Fixtures;
}

if (!isMainThread && (workerData as Partial<JobRequest> | undefined)?.objectCorruptJob) {
  const { objectCorruptJob, fixtures } = workerData as JobRequest;
  try {
    JOBS[objectCorruptJob](fixtures);
    parentPort!.postMessage({ ok: true });
  } catch (error) {
    parentPort!.postMessage({ ok: false, message: describeError(error) });
  }
}

/** The error with its causes (fast-check keeps the property's own failure in `cause`). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const text = error.stack ?? error.message;
  return error.cause === undefined ? text : `${text}\nCaused by: ${describeError(error.cause)}`;
}

/** Run one job in a worker; fail if it does not answer in time (a hang) or runs out of memory. */
function runJob(job: JobName, fixtures: Fixtures): Promise<void> {
  const request: JobRequest = { objectCorruptJob: job, fixtures };
  return runInWorker(new URL(import.meta.url), request, job, JOB_LIMIT_MS * Math.max(1, FUZZ_SCALE), 'a parse hangs');
}

// ---------------------------------------------------------------------------
// Fixtures, built at test time

const LIB_RS = `pub static GREETING: &str = "hello";
pub static mut COUNTER: u64 = 0;
pub static TABLE: [u32; 4] = [1, 2, 3, 4];
#[inline(never)] pub fn add(a: u64, b: u64) -> u64 { a.wrapping_add(b) }
pub fn greet(name: &str) -> String { format!("{GREETING}, {name}") }
#[allow(static_mut_refs)] pub fn bump() -> u64 { unsafe { COUNTER += 1; COUNTER } }
pub fn pick(i: usize) -> u32 { TABLE[i % 4] }
`;
const MAIN_RS = `fn main() { println!("{}", std::env::args().count()); }\n`;

function rustc(directory: string, args: readonly string[]): void {
  execFileSync('rustc', ['--edition', '2021', '-C', 'opt-level=0', ...args], { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
}

function buildFixtures(directory: string): Fixtures & { paths: { object: string; edited: string } } {
  writeFileSync(join(directory, 'lib.rs'), LIB_RS);
  writeFileSync(join(directory, 'edited.rs'), LIB_RS.replace('a.wrapping_add(b)', 'a.wrapping_add(b).wrapping_mul(3)'));
  writeFileSync(join(directory, 'main.rs'), MAIN_RS);
  const common = ['--crate-type=lib', '--crate-name', 'small', '-C', 'codegen-units=1'];
  rustc(directory, [...common, '--emit=obj', '-o', 'small.o', 'lib.rs']);
  rustc(directory, [...common, '--emit=obj', '-o', 'edited.o', 'edited.rs']);
  rustc(directory, ['--crate-type=rlib', '--crate-name', 'small', '--emit=link', '-o', 'libsmall.rlib', 'lib.rs']);
  rustc(directory, ['-C', 'strip=debuginfo', '-o', 'tiny', 'main.rs']);
  const objectBytes = new Uint8Array(readFileSync(join(directory, 'small.o')));
  const bsd = bsdArchive([
    { name: '__.SYMDEF SORTED', data: new Uint8Array(12) },
    { name: 'small-0123456789abcdef.small.cgu.0.rcgu.o', data: objectBytes },
    { name: 'notes.txt', data: encoder.encode('odd length') },
  ]);
  const aarch64 = readdirSync(AARCH64_FIXTURES)
    .filter((name) => name.endsWith('.o'))
    .sort()
    .map((name): Fixture => ({ name, kind: 'object', bytes: new Uint8Array(readFileSync(join(AARCH64_FIXTURES, name))) }));
  return {
    object: { name: 'small.o', kind: 'object', bytes: objectBytes },
    rlib: { name: 'libsmall.rlib', kind: 'archive', bytes: new Uint8Array(readFileSync(join(directory, 'libsmall.rlib'))) },
    bsd: { name: 'bsd.a', kind: 'archive', bytes: bsd },
    image: { name: 'tiny', kind: 'image', bytes: new Uint8Array(readFileSync(join(directory, 'tiny'))) },
    aarch64,
    paths: { object: join(directory, 'small.o'), edited: join(directory, 'edited.o') },
  };
}

function ipbp(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPOSITORY, 'bin/ipbp.js'), ...args], { cwd: REPOSITORY, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

if (isMainThread) {
  describe('corrupt input to the ELF and archive readers', () => {
    let directory: string;
    let fixtures: Fixtures & { paths: { object: string; edited: string } };

    before(() => {
      directory = mkdtempSync(join(tmpdir(), 'ipbp-corrupt-'));
      fixtures = buildFixtures(directory);
    });
    after(() => rmSync(directory, { recursive: true, force: true }));

    test('the fixtures are what the properties assume', () => {
      const object = readElf('small.o', fixtures.object.bytes);
      assert.equal(object.architecture, 'x86_64');
      assert.ok(object.symbols.some((s) => s.name.includes('greet')));
      assert.ok(object.sections.some((s) => s.relocations.length > 0));
      checkObject(object);
      // The rlib is a GNU archive with a `//` long-name table naming its object.
      const rlibMembers = readArchive('libsmall.rlib', fixtures.rlib.bytes);
      const rlibNames = archiveFields(fixtures.rlib.bytes).get('ar_name')!.map((field) => latin1(fixtures.rlib.bytes, field.at, 16).trimEnd());
      assert.ok(rlibNames.includes('//'), `rlib has a // member: ${rlibNames}`);
      assert.ok(rlibMembers.some((m) => m.name.endsWith('.rcgu.o') && m.name.length > 16));
      assert.ok(readObjects('libsmall.rlib', fixtures.rlib.bytes).length >= 1, 'the rlib holds objects (lib.rmeta is skipped)');
      const bsdMembers = readArchive('bsd.a', fixtures.bsd.bytes);
      assert.deepEqual(
        bsdMembers.map((m) => m.name),
        ['__.SYMDEF SORTED', 'small-0123456789abcdef.small.cgu.0.rcgu.o', 'notes.txt'],
      );
      assert.deepEqual(bsdMembers[1]!.data, fixtures.object.bytes);
      const fromBsd = readObjects('bsd.a', fixtures.bsd.bytes);
      assert.deepEqual(fromBsd.map((o) => o.path), ['bsd.a(small-0123456789abcdef.small.cgu.0.rcgu.o)']);
      const image = readElfImage('tiny', fixtures.image.bytes);
      assert.ok(image.symbols.has('main'));
      assert.match(image.buildId, /^[0-9a-f]+$/);
      assert.ok(fixtures.aarch64.length > 0);
      for (const fixture of fixtures.aarch64) {
        const aarch64 = readElf(fixture.name, fixture.bytes);
        assert.equal(aarch64.architecture, 'aarch64');
        checkObject(aarch64);
      }
      // The field tables found what they should.
      const fields = elfFields(fixtures.object.bytes);
      for (const name of ['e_shoff', 'e_shnum', 'e_shstrndx', 'sh_offset', 'sh_size', 'sh_link', 'sh_info', 'sh_entsize', 'st_name', 'st_shndx', 'r_info']) {
        assert.ok((fields.get(name)?.length ?? 0) > 0, `found ${name}`);
      }
      assert.ok((elfFields(fixtures.image.bytes).get('n_namesz')?.length ?? 0) > 0, 'found the image notes');
      assert.equal(archiveFields(fixtures.bsd.bytes).get('ar_size')!.length, bsdMembers.length);
    });

    test('zero-length input', () => {
      for (const kind of ['any', 'object', 'image', 'archive'] as const) {
        expectFormatError(kind, 'empty.o', new Uint8Array(0));
      }
      assert.match(expectFormatError('any', 'empty.o', new Uint8Array(0)).message, /empty/);
    });

    test('truncation: every prefix of the objects and archives', () => runJob('truncation', fixtures));
    test('single and multiple bit flips', () => runJob('bitFlips', fixtures));
    test('random overwrites of ELF header, section, symbol, relocation and note fields', () => runJob('elfFieldOverwrites', fixtures));
    test('random overwrites of archive member names, sizes and terminators', () => runJob('archiveFieldOverwrites', fixtures));
    test('random bytes, bare and after a valid ELF or archive magic', () => runJob('randomInputs', fixtures));
    test('headers claiming 2^32 sections, symbols or bytes are refused before allocating', () => runJob('hugeClaims', fixtures));
    test('inputs crafted to loop or to amplify memory finish within the heap limit', () => runJob('craftedLoops', fixtures));

    test('readObjectPath names the file of a corrupt member inside an archive', async () => {
      const bytes = fixtures.bsd.bytes.slice();
      const at = latin1(bytes, 0, bytes.length).indexOf('\x7fELF');
      view(bytes).setUint16(at + 60, 0xffff, true); // e_shnum of the member
      const path = join(directory, 'corrupt-member.a');
      writeFileSync(path, bytes);
      await assert.rejects(readObjectPath(path), (error: unknown) => {
        assert.ok(error instanceof ObjectFormatError);
        assert.equal(error.file, `${path}(small-0123456789abcdef.small.cgu.0.rcgu.o)`);
        assert.match(error.message, /invalid ELF section header table at offset 0x/);
        return true;
      });
    });
  });

  describe('ipbp diff on corrupt input', () => {
    let directory: string;
    let fixtures: Fixtures & { paths: { object: string; edited: string } };

    before(() => {
      directory = mkdtempSync(join(tmpdir(), 'ipbp-corrupt-cli-'));
      fixtures = buildFixtures(directory);
    });
    after(() => rmSync(directory, { recursive: true, force: true }));

    function expectCleanFailure(args: readonly string[], names: string): void {
      const { status, stdout, stderr } = ipbp(args);
      assert.notEqual(status, 0, 'exits non-zero');
      assert.ok(status !== null, 'exits on its own (no timeout, no signal)');
      assert.equal(stdout, '');
      // A failed system call adds one line of what to do (`help: …`).
      const lines = stderr.split('\n').filter((line) => line !== '' && !/^help: /.test(line));
      assert.equal(lines.length, 1, `exactly one error line on stderr:\n${stderr}`);
      assert.match(lines[0]!, /^ipbp: error: /);
      assert.ok(lines[0]!.includes(names), `the error names ${names}: ${lines[0]}`);
      assert.doesNotMatch(stderr, /^\s+at /m, 'no JavaScript stack trace');
    }

    test('a truncated object', () => {
      const path = join(directory, 'truncated.o');
      writeFileSync(path, fixtures.object.bytes.subarray(0, Math.floor(fixtures.object.bytes.length / 2)));
      expectCleanFailure(['diff', path, fixtures.paths.object], path);
      expectCleanFailure(['diff', fixtures.paths.object, path, '--json'], path);
    });

    test('a zero-length file', () => {
      const path = join(directory, 'empty.o');
      writeFileSync(path, new Uint8Array(0));
      expectCleanFailure(['diff', path, fixtures.paths.object], path);
    });

    test('a file of random bytes', () => {
      const random = new Uint8Array(4096);
      for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
      random[0] = 0; // not any magic
      const path = join(directory, 'random.o');
      writeFileSync(path, random);
      expectCleanFailure(['diff', path, fixtures.paths.object], path);
    });

    test('random bytes after a valid ELF header', () => {
      const path = join(directory, 'garbled.o');
      const bytes = fixtures.object.bytes.slice();
      bytes.fill(0xa5, 64);
      writeFileSync(path, bytes);
      expectCleanFailure(['diff', path, fixtures.paths.object], path);
    });

    test('a missing path, and a path through a regular file', () => {
      const path = join(directory, 'does-not-exist.o');
      expectCleanFailure(['diff', path, fixtures.paths.object], path);
      const through = join(fixtures.paths.object, 'member.o');
      expectCleanFailure(['diff', fixtures.paths.object, through], through);
    });

    test('a corrupt object inside an rlib names the archive and the member', () => {
      const bytes = fixtures.rlib.bytes.slice();
      const at = latin1(bytes, 0, bytes.length).indexOf('\x7fELF');
      view(bytes).setUint16(at + 62, 0x7fff, true); // e_shstrndx of the first object member
      const path = join(directory, 'libcorrupt.rlib');
      writeFileSync(path, bytes);
      expectCleanFailure(['diff', path, fixtures.paths.object], `${path}(`);
    });

    test('--json on two good objects prints exactly one JSON object', () => {
      const { status, stdout, stderr } = ipbp(['diff', fixtures.paths.object, fixtures.paths.edited, '--json']);
      assert.equal(status, 0, stderr);
      assert.equal(stderr, '');
      assert.ok(stdout.endsWith('\n'));
      assert.equal(stdout.trimEnd().split('\n').length, 1, 'one line');
      const report = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(report).sort(), ['data', 'functions']);
      for (const group of ['functions', 'data']) {
        assert.deepEqual(Object.keys(report[group]!).sort(), ['added', 'changed', 'removed']);
        for (const list of ['changed', 'added', 'removed']) assert.ok(Array.isArray(report[group]![list]), `${group}.${list} is a list`);
      }
      const changed = report.functions!.changed as Array<{ name: string }>;
      assert.ok(changed.some((entry) => entry.name === 'small::add'), JSON.stringify(changed));
    });
  });
}
