import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ObjectFormatError } from '../../src/object/errors.js';
import { isMachO, readMachO } from '../../src/object/macho/index.js';
import type { ObjectFile, ObjectSymbol, Relocation, Section } from '../../src/object/model.js';
import { repositoryUrl } from '../support/repository.js';

// The fixtures are committed; test/fixtures/macho/make.sh regenerates them
// (it needs rustc +nightly and llvm-mc, the tests do not). Expected values
// below were read off `llvm-objdump --macho -r -t -d --section-headers`.
const FIXTURES = repositoryUrl('test/fixtures/macho/');
const FIXTURE_NAMES = [
  'rust-x86_64-O0.o',
  'rust-x86_64-O2.o',
  'rust-aarch64-O0.o',
  'rust-aarch64-O2.o',
  'x86_64-cases.o',
  'arm64-cases.o',
] as const;
type FixtureName = (typeof FIXTURE_NAMES)[number];

function fixtureBytes(name: FixtureName): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES)));
}

function load(name: FixtureName): ObjectFile {
  return readMachO(name, fixtureBytes(name));
}

// rustc's v0 mangling of the fixture crate's statics. The crate hash
// (`CsjPgTc6iBrsy`) follows the compiler version: update it after make.sh.
const ANSWER = '__RNvCsjPgTc6iBrsy_7fixture6ANSWER';
const COUNTER = '__RNvCsjPgTc6iBrsy_7fixture7COUNTER';
const GREETING = '__RNvCsjPgTc6iBrsy_7fixture8GREETING';
const ANSWER_REF = '__RNvCsjPgTc6iBrsy_7fixture10ANSWER_REF';
const GREETING_REF = '__RNvCsjPgTc6iBrsy_7fixture12GREETING_REF';
const FAREWELL = '__RNvCsjPgTc6iBrsy_7fixture8FAREWELL';

function section(object: ObjectFile, segment: string, name: string): Section {
  const found = object.sections.filter((s) => s.raw.segment === segment && s.name === name);
  assert.equal(found.length, 1, `exactly one ${segment},${name}`);
  return found[0]!;
}

function symbol(object: ObjectFile, name: string): ObjectSymbol {
  const found = object.symbols.filter((s) => s.name === name);
  assert.equal(found.length, 1, `exactly one symbol ${name}`);
  return found[0]!;
}

function kindsBySection(object: ObjectFile): Record<string, string> {
  return Object.fromEntries(object.sections.map((s) => [`${s.raw.segment},${s.name}`, s.kind]));
}

function extents(object: ObjectFile, names: readonly string[]): Record<string, [number, number]> {
  return Object.fromEntries(names.map((name) => [name, [symbol(object, name).offset, symbol(object, name).extent]]));
}

/** A relocation as a line that names its target, for whole-list comparisons. */
function describeRelocation(object: ObjectFile, relocation: Relocation): string {
  const target =
    'symbol' in relocation.target
      ? object.symbols[relocation.target.symbol]!.name
      : `${object.sections[relocation.target.section]!.raw.segment},${object.sections[relocation.target.section]!.name}`;
  return `${relocation.offset.toString(16)} ${relocation.kind} ${target}${relocation.addend === 0n ? '' : ` ${relocation.addend}`} w${relocation.width} ${relocation.raw.typeName}`;
}

/** The relocations that patch bytes of a function, in offset order. */
function relocationsOf(object: ObjectFile, name: string): string[] {
  const fn = symbol(object, name);
  const text = object.sections[fn.section!]!;
  return text.relocations
    .filter((r) => r.offset >= fn.offset && r.offset < fn.offset + fn.extent)
    .map((r) => describeRelocation(object, r));
}

describe('Mach-O reader: rustc x86_64, opt-level=0', () => {
  const object = load('rust-x86_64-O0.o');

  test('header and section kinds', () => {
    assert.equal(object.format, 'macho');
    assert.equal(object.architecture, 'x86_64');
    assert.deepEqual(kindsBySection(object), {
      '__TEXT,__text': 'code',
      '__DATA,__const': 'data',
      '__TEXT,__const': 'read-only',
      '__DATA,__data': 'data',
      '__TEXT,__cstring': 'read-only',
    });
    const text = section(object, '__TEXT', '__text');
    assert.equal(text.size, 0x88);
    assert.equal(text.alignment, 16);
    assert.equal(text.raw.flags, 0x80000400n); // PURE_INSTRUCTIONS | SOME_INSTRUCTIONS
  });

  test('functions and their extents', () => {
    assert.deepEqual(extents(object, ['_answer_address', '_bump', '_entry', '_leaf', '_middle', '_read_through']), {
      _answer_address: [0x0, 0x10],
      _bump: [0x10, 0x20],
      _entry: [0x30, 0x30],
      _leaf: [0x60, 0x10],
      _middle: [0x70, 0x10],
      _read_through: [0x80, 0x8], // last in __text: runs to the section end
    });
    for (const name of ['_entry', '_leaf']) {
      const fn = symbol(object, name);
      assert.equal(fn.kind, 'function');
      assert.equal(fn.binding, 'global');
      assert.equal(fn.size, 0);
      assert.equal(fn.undefined, false);
    }
    assert.equal(symbol(object, ANSWER).kind, 'data');
    assert.equal(symbol(object, COUNTER).section, section(object, '__DATA', '__data').index);
  });

  test('relocations of a known function: calls and RIP-relative loads with the -4 of the field end', () => {
    assert.deepEqual(relocationsOf(object, '_entry'), [
      '35 pc-relative _bump -4 w4 X86_64_RELOC_BRANCH',
      `3c pc-relative ${ANSWER} -4 w4 X86_64_RELOC_SIGNED`,
      '41 pc-relative _read_through -4 w4 X86_64_RELOC_BRANCH',
      `48 pc-relative ${COUNTER} -4 w4 X86_64_RELOC_SIGNED`,
      '4d pc-relative _read_through -4 w4 X86_64_RELOC_BRANCH',
    ]);
    assert.equal(section(object, '__TEXT', '__text').relocations.length, 11);
  });

  test('pointers between statics relocate data, one of them section-relative', () => {
    const consts = section(object, '__DATA', '__const');
    assert.deepEqual(
      consts.relocations.map((r) => describeRelocation(object, r)),
      [`0 absolute ${ANSWER} w8 X86_64_RELOC_UNSIGNED`, `8 absolute ${GREETING} w8 X86_64_RELOC_UNSIGNED`, '10 absolute __TEXT,__cstring w8 X86_64_RELOC_UNSIGNED'],
    );
    assert.deepEqual(extents(object, [ANSWER_REF, GREETING_REF, FAREWELL]), {
      [ANSWER_REF]: [0, 8],
      [GREETING_REF]: [8, 8],
      [FAREWELL]: [0x10, 8],
    });
  });

  test('contents are zero-copy views of the file', () => {
    const greeting = symbol(object, GREETING);
    const data = object.sections[greeting.section!]!.data;
    assert.equal(Buffer.from(data.subarray(greeting.offset, greeting.offset + 14)).toString('latin1'), 'hello, mach-o\0');
    assert.equal(Buffer.from(section(object, '__TEXT', '__cstring').data).toString('latin1'), 'goodbye\0');
  });
});

describe('Mach-O reader: rustc aarch64, opt-level=0', () => {
  const object = load('rust-aarch64-O0.o');

  test('section kinds match x86_64', () => {
    assert.equal(object.architecture, 'aarch64');
    assert.deepEqual(kindsBySection(object), kindsBySection(load('rust-x86_64-O0.o')));
  });

  test('ltmp and l_ symbols are labels that share extents with what they sit on', () => {
    const labels = object.symbols.filter((s) => s.kind === 'label').map((s) => s.name);
    assert.deepEqual(labels.filter((name) => name.startsWith('ltmp')), ['ltmp0', 'ltmp1', 'ltmp2', 'ltmp3', 'ltmp4']);
    assert.equal(labels.filter((name) => name.startsWith('l_anon.')).length, 1);
    assert.equal(symbol(object, 'ltmp0').binding, 'local');
    assert.deepEqual(extents(object, ['ltmp0', '_answer_address']), { ltmp0: [0, 0xc], _answer_address: [0, 0xc] });
  });

  test('functions and their extents', () => {
    assert.deepEqual(extents(object, ['_answer_address', '_bump', '_entry', '_leaf', '_middle', '_read_through']), {
      _answer_address: [0x0, 0xc],
      _bump: [0xc, 0x34],
      _entry: [0x40, 0x2c],
      _leaf: [0x6c, 0x4],
      _middle: [0x70, 0x14],
      _read_through: [0x84, 0x8],
    });
  });

  test('relocations of a known function: BRANCH26 and ADRP/ADD page pairs', () => {
    assert.deepEqual(relocationsOf(object, '_entry'), [
      '48 branch _bump w4 ARM64_RELOC_BRANCH26',
      `4c page-pc-relative ${ANSWER} w4 ARM64_RELOC_PAGE21`,
      `50 page-offset ${ANSWER} w4 ARM64_RELOC_PAGEOFF12`,
      '54 branch _read_through w4 ARM64_RELOC_BRANCH26',
      `58 page-pc-relative ${COUNTER} w4 ARM64_RELOC_PAGE21`,
      `5c page-offset ${COUNTER} w4 ARM64_RELOC_PAGEOFF12`,
      '60 branch _read_through w4 ARM64_RELOC_BRANCH26',
    ]);
    assert.equal(section(object, '__TEXT', '__text').relocations.length, 15);
    const pointers = section(object, '__DATA', '__const').relocations;
    assert.equal(pointers.length, 3);
    assert.ok(pointers.every((r) => r.kind === 'absolute' && r.width === 8 && 'symbol' in r.target));
  });
});

describe('Mach-O reader: rustc opt-level=2', () => {
  test('x86_64: merged functions share an address and an extent; the tail call is one BRANCH', () => {
    const object = load('rust-x86_64-O2.o');
    assert.deepEqual(extents(object, ['_leaf', '_middle', '_read_through']), {
      _leaf: [0x40, 0x10],
      _middle: [0x40, 0x10],
      _read_through: [0x50, 0x8],
    });
    assert.deepEqual(relocationsOf(object, '_entry'), [
      `27 pc-relative ${COUNTER} -4 w4 X86_64_RELOC_SIGNED`,
      '2d pc-relative _read_through -4 w4 X86_64_RELOC_BRANCH',
    ]);
  });

  test('aarch64: merged functions share an address and an extent', () => {
    const object = load('rust-aarch64-O2.o');
    assert.deepEqual(extents(object, ['_leaf', '_middle', '_entry']), {
      _leaf: [0x24, 0x4],
      _middle: [0x24, 0x4],
      _entry: [0x18, 0xc],
    });
    assert.deepEqual(relocationsOf(object, '_entry'), [
      `18 page-pc-relative ${COUNTER} w4 ARM64_RELOC_PAGE21`,
      `1c page-offset ${COUNTER} w4 ARM64_RELOC_PAGEOFF12`,
      '20 branch _read_through w4 ARM64_RELOC_BRANCH26',
    ]);
  });
});

describe('Mach-O reader: x86_64 assembler cases', () => {
  const object = load('x86_64-cases.o');

  test('section kinds from type and attributes', () => {
    assert.deepEqual(kindsBySection(object), {
      '__TEXT,__text': 'code',
      '__DATA,__data': 'data',
      '__DATA,__bss': 'bss',
      '__TEXT,__cstring': 'read-only',
      '__TEXT,__literal8': 'read-only',
      '__DATA,__thread_data': 'tls-data',
      '__DATA,__thread_vars': 'tls-data',
      '__DATA,__thread_bss': 'tls-bss',
      '__DWARF,__debug_str': 'metadata',
      '__LD,__compact_unwind': 'unwind',
      '__TEXT,__eh_frame': 'unwind',
    });
    const bss = section(object, '__DATA', '__bss');
    assert.equal(bss.size, 64);
    assert.equal(bss.data.length, 0);
  });

  test('every relocation type of __text, SIGNED_1/2/4 keeping their bias', () => {
    assert.deepEqual(
      section(object, '__TEXT', '__text').relocations.map((r) => describeRelocation(object, r)),
      [
        '5 pc-relative _external_fn -4 w4 X86_64_RELOC_BRANCH',
        'a pc-relative _helper -4 w4 X86_64_RELOC_BRANCH',
        '10 pc-relative _flag -5 w4 X86_64_RELOC_SIGNED_1', // stored -1: movb has one immediate byte
        '18 pc-relative _flag -6 w4 X86_64_RELOC_SIGNED_2',
        '20 pc-relative _flag -8 w4 X86_64_RELOC_SIGNED_4',
        '2b pc-relative _table 4 w4 X86_64_RELOC_SIGNED', // _table+8
        '32 pc-relative __TEXT,__literal8 -4 w4 X86_64_RELOC_SIGNED', // L_lit, non-extern
        '39 got-pc-relative _external_data -4 w4 X86_64_RELOC_GOT_LOAD',
        '40 tls _tls_var -4 w4 X86_64_RELOC_TLV',
        '47 pc-relative _weak_ref -4 w4 X86_64_RELOC_BRANCH',
      ],
    );
  });

  test('SUBTRACTOR+UNSIGNED becomes one subtractor relocation naming the subtrahend', () => {
    const data = section(object, '__DATA', '__data');
    assert.deepEqual(
      data.relocations.map((r) => describeRelocation(object, r)),
      [
        '8 absolute _helper w8 X86_64_RELOC_UNSIGNED',
        '10 absolute _caller 16 w8 X86_64_RELOC_UNSIGNED',
        '18 subtractor _helper 3 w4 X86_64_RELOC_SUBTRACTOR(-_table)', // .long _helper - _table + 3
        '1c got-pc-relative _external_data -4 w4 X86_64_RELOC_GOT',
      ],
    );
    assert.equal(data.relocations[2]!.raw.type, 5);
    assert.equal(data.relocations[2]!.raw.pcRelative, false);
  });

  test('unwind relocations: compact unwind points at __text', () => {
    assert.deepEqual(
      section(object, '__LD', '__compact_unwind').relocations.map((r) => describeRelocation(object, r)),
      ['0 absolute __TEXT,__text w8 X86_64_RELOC_UNSIGNED'],
    );
  });

  test('bindings, symbol kinds and special symbols', () => {
    const summary = (name: string) => {
      const s = symbol(object, name);
      return [s.binding, s.kind, s.undefined, s.section === undefined ? null : object.sections[s.section]!.name];
    };
    assert.deepEqual(summary('_caller'), ['global', 'function', false, '__text']);
    assert.deepEqual(summary('_weak_fn'), ['weak', 'function', false, '__text']);
    assert.deepEqual(summary('_hidden_fn'), ['global', 'function', false, '__text']); // private extern
    assert.deepEqual(summary('_table'), ['local', 'data', false, '__data']);
    assert.deepEqual(summary('_zeroed'), ['local', 'data', false, '__bss']);
    assert.deepEqual(summary('l_.str'), ['local', 'label', false, '__cstring']);
    assert.deepEqual(summary('_tls_var'), ['global', 'tls', false, '__thread_vars']);
    assert.deepEqual(summary('_tls_zero$tlv$init'), ['local', 'tls', false, '__thread_bss']);
    assert.deepEqual(summary('_external_fn'), ['global', 'unknown', true, null]);
    assert.deepEqual(summary('_weak_ref'), ['weak', 'unknown', true, null]);
    assert.deepEqual(summary('_abs_sym'), ['global', 'unknown', false, null]);
    assert.equal(symbol(object, '_abs_sym').raw.value, 0x1234n);
    const common = symbol(object, '_common_sym');
    assert.deepEqual([common.undefined, common.section, common.size, common.kind], [false, undefined, 16, 'data']);
    assert.deepEqual(extents(object, ['_caller', '_helper', '_weak_fn', '_hidden_fn', '_flag', '_table']), {
      _caller: [0, 0x4d],
      _helper: [0x4d, 1],
      _weak_fn: [0x4e, 1],
      _hidden_fn: [0x4f, 1],
      _flag: [0, 8],
      _table: [8, 0x18],
    });
  });
});

describe('Mach-O reader: arm64 assembler cases', () => {
  const object = load('arm64-cases.o');

  test('ARM64_RELOC_ADDEND entries are folded into the relocation they precede', () => {
    const text = section(object, '__TEXT', '__text');
    assert.equal(text.relocations.length, 11); // 14 entries, 3 of them ADDEND
    assert.ok(object.sections.every((s) => s.relocations.every((r) => !r.raw.typeName.includes('ADDEND'))));
    assert.deepEqual(
      text.relocations.map((r) => describeRelocation(object, r)),
      [
        '8 branch _arm_helper w4 ARM64_RELOC_BRANCH26',
        'c branch _arm_helper 8 w4 ARM64_RELOC_BRANCH26',
        '10 page-pc-relative _arm_table w4 ARM64_RELOC_PAGE21',
        '14 page-offset _arm_table w4 ARM64_RELOC_PAGEOFF12',
        '18 page-pc-relative _arm_table 16 w4 ARM64_RELOC_PAGE21',
        '1c page-offset _arm_table 16 w4 ARM64_RELOC_PAGEOFF12',
        '20 got-page _ext_data w4 ARM64_RELOC_GOT_LOAD_PAGE21',
        '24 got-page-offset _ext_data w4 ARM64_RELOC_GOT_LOAD_PAGEOFF12',
        '28 tls _arm_tls w4 ARM64_RELOC_TLVP_LOAD_PAGE21',
        '2c tls _arm_tls w4 ARM64_RELOC_TLVP_LOAD_PAGEOFF12',
        '30 branch _ext_fn w4 ARM64_RELOC_BRANCH26',
      ],
    );
  });

  test('SUBTRACTOR pairs in data and __eh_frame are merged', () => {
    assert.deepEqual(
      section(object, '__DATA', '__data').relocations.map((r) => describeRelocation(object, r)),
      [
        '0 absolute _arm_helper w8 ARM64_RELOC_UNSIGNED',
        '8 absolute _arm_caller 4 w8 ARM64_RELOC_UNSIGNED',
        '10 subtractor _arm_helper w8 ARM64_RELOC_SUBTRACTOR(-_arm_table)',
        '18 subtractor _arm_helper 2 w4 ARM64_RELOC_SUBTRACTOR(-_arm_table)',
        '1c got-pc-relative _ext_data w4 ARM64_RELOC_POINTER_TO_GOT',
      ],
    );
    // FDE pc_begin = function - (eh_frame start + field offset): the field's own offset is the addend.
    assert.deepEqual(
      section(object, '__TEXT', '__eh_frame').relocations.map((r) => describeRelocation(object, r)),
      ['1c subtractor _arm_caller -28 w8 ARM64_RELOC_SUBTRACTOR(-ltmp5)', '40 subtractor _arm_helper -64 w8 ARM64_RELOC_SUBTRACTOR(-ltmp5)'],
    );
  });

  test('section-relative compact unwind entries become offsets into __text', () => {
    assert.deepEqual(
      section(object, '__LD', '__compact_unwind').relocations.map((r) => describeRelocation(object, r)),
      ['0 absolute __TEXT,__text w8 ARM64_RELOC_UNSIGNED', '20 absolute __TEXT,__text 60 w8 ARM64_RELOC_UNSIGNED'],
    );
    assert.equal(symbol(object, '_arm_helper').offset, 60);
  });

  test('kinds and extents', () => {
    assert.deepEqual(kindsBySection(object), {
      '__TEXT,__text': 'code',
      '__DATA,__data': 'data',
      '__DATA,__thread_vars': 'tls-data',
      '__DATA,__thread_bss': 'tls-bss',
      '__LD,__compact_unwind': 'unwind',
      '__TEXT,__eh_frame': 'unwind',
    });
    assert.deepEqual(extents(object, ['_arm_caller', '_arm_helper', 'ltmp0', '_arm_table']), {
      _arm_caller: [0, 0x3c],
      _arm_helper: [0x3c, 0xc],
      ltmp0: [0, 0x3c],
      _arm_table: [0, 0x28],
    });
    assert.equal(symbol(object, 'ltmp5').kind, 'label');
    assert.equal(symbol(object, '_arm_tls').kind, 'tls');
  });
});

// ---------------------------------------------------------------------------
// Structure offsets for the tests that edit fixtures in place.

function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset, true);
}

function setU32(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, value >>> 0, true);
}

/** File offset of the first load command with this `cmd`. */
function commandOffset(bytes: Uint8Array, cmd: number): number {
  let offset = 32;
  for (let i = 0; i < u32(bytes, 16); i++) {
    if (u32(bytes, offset) === cmd) return offset;
    offset += u32(bytes, offset + 4);
  }
  throw new Error(`no load command 0x${cmd.toString(16)}`);
}

const LC_SEGMENT_64 = 0x19;
const LC_SYMTAB = 0x2;

function expectFormatError(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => readMachO('edited.o', bytes), (error: unknown) => error instanceof ObjectFormatError && pattern.test(error.message));
}

describe('Mach-O reader: edited fixtures', () => {
  test('N_STAB entries are skipped and relocation targets are renumbered around them', () => {
    const bytes = fixtureBytes('x86_64-cases.o');
    const symoff = u32(bytes, commandOffset(bytes, LC_SYMTAB) + 8);
    // nlist entry 1 is _zeroed, which no relocation names; make it an N_SO stab.
    bytes[symoff + 16 + 4] = 0x64;
    const edited = readMachO('edited.o', bytes);
    const original = load('x86_64-cases.o');
    assert.equal(edited.symbols.length, original.symbols.length - 1);
    assert.ok(!edited.symbols.some((s) => s.name === '_zeroed'));
    assert.deepEqual(
      edited.symbols.map((s) => s.index),
      edited.symbols.map((_, i) => i),
    );
    const all = (object: ObjectFile) => object.sections.flatMap((s) => s.relocations.map((r) => describeRelocation(object, r)));
    assert.deepEqual(all(edited), all(original));
  });

  test('a scattered relocation is rejected', () => {
    const bytes = fixtureBytes('rust-x86_64-O0.o');
    const reloff = u32(bytes, commandOffset(bytes, LC_SEGMENT_64) + 72 + 56); // first section_64's reloff
    setU32(bytes, reloff, u32(bytes, reloff) | 0x80000000);
    expectFormatError(bytes, /scattered/);
  });

  test('count fields larger than the file fail before allocating', () => {
    const ncmds = fixtureBytes('arm64-cases.o');
    setU32(ncmds, 16, 0xffffffff);
    expectFormatError(ncmds, /load commands cannot fit/);

    const nsects = fixtureBytes('arm64-cases.o');
    setU32(nsects, commandOffset(nsects, LC_SEGMENT_64) + 64, 0xffffffff);
    expectFormatError(nsects, /sections do not fit/);

    const nsyms = fixtureBytes('arm64-cases.o');
    setU32(nsyms, commandOffset(nsyms, LC_SYMTAB) + 12, 0xffffffff);
    expectFormatError(nsyms, /symbol table/);

    const nreloc = fixtureBytes('arm64-cases.o');
    setU32(nreloc, commandOffset(nreloc, LC_SEGMENT_64) + 72 + 60, 0xffffffff);
    expectFormatError(nreloc, /relocation/);
  });

  test('foreign headers are refused by name', () => {
    const bigEndian = fixtureBytes('arm64-cases.o');
    setU32(bigEndian, 0, 0xcffaedfe);
    expectFormatError(bigEndian, /big-endian/);

    const thirtyTwo = fixtureBytes('arm64-cases.o');
    setU32(thirtyTwo, 0, 0xfeedface);
    expectFormatError(thirtyTwo, /32-bit/);

    const executable = fixtureBytes('arm64-cases.o');
    setU32(executable, 12, 2); // MH_EXECUTE
    expectFormatError(executable, /MH_OBJECT/);

    const powerpc = fixtureBytes('arm64-cases.o');
    setU32(powerpc, 4, 0x01000012); // CPU_TYPE_POWERPC64
    expectFormatError(powerpc, /CPU type/);
  });

  test('an ADDEND without its partner and an unpaired SUBTRACTOR are rejected', () => {
    // The last __text entry of arm64-cases.o is `bl _arm_helper`: turn it into
    // an ADDEND, which then has nothing after it to carry an addend for.
    const bytes = fixtureBytes('arm64-cases.o');
    const text = commandOffset(bytes, LC_SEGMENT_64) + 72;
    const last = u32(bytes, text + 56) + (u32(bytes, text + 60) - 1) * 8;
    setU32(bytes, last + 4, (u32(bytes, last + 4) & 0x0fffffff) | (10 << 28));
    expectFormatError(bytes, /ADDEND/);

    // __data's entries are GOT, SUBTRACTOR, UNSIGNED, ...: make the UNSIGNED half a SUBTRACTOR too.
    const pair = fixtureBytes('x86_64-cases.o');
    const data = commandOffset(pair, LC_SEGMENT_64) + 72 + 80;
    const third = u32(pair, data + 56) + 16;
    setU32(pair, third + 4, (u32(pair, third + 4) & 0x0fffffff) | (5 << 28));
    expectFormatError(pair, /SUBTRACTOR/);
  });

  test('isMachO recognises thin Mach-O magics only', () => {
    for (const name of FIXTURE_NAMES) assert.ok(isMachO(fixtureBytes(name)), name);
    assert.equal(isMachO(new Uint8Array(0)), false);
    assert.equal(isMachO(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0)), false); // ELF
    assert.equal(isMachO(Uint8Array.of(0xca, 0xfe, 0xba, 0xbe)), false); // fat / Java
  });
});

// ---------------------------------------------------------------------------
// Corrupt input: the reader returns a consistent ObjectFile or throws
// ObjectFormatError; never another exception, never a hang.

/** Reads `bytes`, failing the test on any exception other than ObjectFormatError. */
function readOrFormatError(bytes: Uint8Array): ObjectFile | ObjectFormatError {
  try {
    const object = readMachO('corrupt.o', bytes);
    checkConsistent(object);
    return object;
  } catch (error) {
    if (error instanceof ObjectFormatError) return error;
    throw error;
  }
}

/** What a successful read promises its consumers, whatever the input. */
function checkConsistent(object: ObjectFile): void {
  object.sections.forEach((s, index) => {
    assert.equal(s.index, index);
    assert.ok(s.data.length === s.size || s.data.length === 0);
    for (const r of s.relocations) {
      assert.ok(r.offset >= 0 && r.offset + r.width <= s.size, 'relocated field inside its section');
      if ('symbol' in r.target) assert.ok(object.symbols[r.target.symbol] !== undefined, 'symbol target exists');
      else assert.ok(object.sections[r.target.section] !== undefined, 'section target exists');
    }
  });
  object.symbols.forEach((s, index) => {
    assert.equal(s.index, index);
    assert.ok(s.extent >= 0);
    if (s.section !== undefined) assert.ok(s.offset + s.extent <= object.sections[s.section]!.size);
  });
}

describe('Mach-O reader: corrupt input', () => {
  test('zero length and short inputs', () => {
    assert.ok(readOrFormatError(new Uint8Array(0)) instanceof ObjectFormatError);
    assert.ok(readOrFormatError(Uint8Array.of(0xcf, 0xfa, 0xed, 0xfe)) instanceof ObjectFormatError);
  });

  for (const name of ['arm64-cases.o', 'rust-x86_64-O0.o'] as const) {
    test(`every truncation of ${name}`, () => {
      const bytes = fixtureBytes(name);
      for (let length = 0; length < bytes.length; length++) {
        const result = readOrFormatError(bytes.subarray(0, length));
        // The string table is the last thing in the file, so every proper prefix is incomplete.
        assert.ok(result instanceof ObjectFormatError, `prefix of ${length} bytes`);
      }
    });
  }

  test('a single bit flipped at every byte of one fixture', () => {
    const original = fixtureBytes('x86_64-cases.o');
    for (let offset = 0; offset < original.length; offset++) {
      const bytes = original.slice();
      bytes[offset]! ^= 1 << (offset % 8);
      readOrFormatError(bytes);
    }
  });

  test('random single bit flips in every fixture', { timeout: 60_000 }, () => {
    const fixtures = FIXTURE_NAMES.map(fixtureBytes);
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures.keys()),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (which, position, bit) => {
          const bytes = fixtures[which]!.slice();
          bytes[position % bytes.length]! ^= 1 << bit;
          readOrFormatError(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('several random byte overwrites, weighted to the header and load commands', { timeout: 60_000 }, () => {
    const fixtures = FIXTURE_NAMES.map(fixtureBytes);
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures.keys()),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (which, edits) => {
          const bytes = fixtures[which]!.slice();
          for (const [position, value] of edits) bytes[position % bytes.length] = value;
          readOrFormatError(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('random bytes, bare and behind a valid header', { timeout: 60_000 }, () => {
    const header = fixtureBytes('arm64-cases.o').subarray(0, 32);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (random, withHeader) => {
        const bytes = withHeader ? Uint8Array.from([...header, ...random]) : random;
        readOrFormatError(bytes);
      }),
      { numRuns: 300 },
    );
  });
});
