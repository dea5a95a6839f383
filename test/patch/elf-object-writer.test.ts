import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { readElfImage } from '../../src/object/elf/image.js';
import { SHT_RELA, SHT_STRTAB, SHT_SYMTAB } from '../../src/object/elf/section-header.js';
import type { ObjectFile, Section } from '../../src/object/model.js';
import { readObjects } from '../../src/object/read.js';
import { type OutputSection, type OutputSymbol, SHT_NOBITS, SHT_PROGBITS, writeElfObject } from '../../src/patch/elf-object-writer.js';
import { findRustLld } from '../../src/patch/toolchain.js';
import { bytesAtAddress, pcRelativeTarget, rawSectionHeaders, symbolVisibility } from '../support/elf-inspect.js';

const run = promisify(execFile);

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const SHF_WRITE = 0x1n;
const SHF_ALLOC = 0x2n;
const SHF_EXECINSTR = 0x4n;
const SHF_INFO_LINK = 0x40n;
const R_X86_64_64 = 1;
const R_X86_64_PC32 = 2;
const R_X86_64_PLT32 = 4;

/** Far outside the small-addend cache of the reader, and negative: it must survive as a signed 64-bit value. */
const LARGE_NEGATIVE_ADDEND = -0x123456789n;

/**
 * One object with every kind of section the patch writes, symbols given with
 * locals and globals interleaved (the writer must reorder them), defined and
 * undefined, hidden and default, and relocations with negative, positive and
 * large addends.
 */
function sampleObject(): { sections: OutputSection[]; symbols: OutputSymbol[]; bytes: Buffer } {
  const text: OutputSection = {
    name: '.text.entry',
    type: SHT_PROGBITS,
    flags: SHF_ALLOC | SHF_EXECINSTR,
    alignment: 16,
    // call external_fn; lea rax, [rip + bound_static]; lea rcx, [rip + zeroes + 32]; ret
    data: Uint8Array.from([0xe8, 0, 0, 0, 0, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0xc3]),
    relocations: [],
  };
  const data: OutputSection = { name: '.data.counter', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, alignment: 8, data: new Uint8Array(16), relocations: [] };
  const rodata: OutputSection = { name: '.rodata.msg', type: SHT_PROGBITS, flags: SHF_ALLOC, alignment: 1, data: Buffer.from('hello\0'), relocations: [] };
  const bss: OutputSection = { name: '.bss.zeroes', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, alignment: 32, data: new Uint8Array(64), relocations: [] };

  const entry: OutputSymbol = { name: 'entry', binding: 'global', visibility: 'hidden', type: 'function', section: text, value: 0, size: 20 };
  const counter: OutputSymbol = { name: 'counter', binding: 'global', visibility: 'default', type: 'object', section: data, value: 0, size: 16 };
  const externalFn: OutputSymbol = { name: 'external_fn', binding: 'global', visibility: 'default', type: 'notype', section: undefined, value: 0, size: 0 };
  const message: OutputSymbol = { name: '__local_msg', binding: 'local', visibility: 'default', type: 'object', section: rodata, value: 0, size: 6 };
  const zeroes: OutputSymbol = { name: 'zeroes', binding: 'global', visibility: 'hidden', type: 'object', section: bss, value: 0, size: 64 };
  const boundStatic: OutputSymbol = { name: 'bound_static', binding: 'global', visibility: 'hidden', type: 'notype', section: undefined, value: 0, size: 0 };
  const ret: OutputSymbol = { name: '__local_ret', binding: 'local', visibility: 'default', type: 'function', section: text, value: 19, size: 1 };

  text.relocations.push(
    { offset: 1, type: R_X86_64_PLT32, symbol: externalFn, addend: -4n },
    { offset: 8, type: R_X86_64_PC32, symbol: boundStatic, addend: -4n },
    { offset: 15, type: R_X86_64_PC32, symbol: zeroes, addend: 28n },
  );
  data.relocations.push({ offset: 0, type: R_X86_64_64, symbol: message, addend: 3n }, { offset: 8, type: R_X86_64_64, symbol: entry, addend: LARGE_NEGATIVE_ADDEND });

  const sections = [text, data, rodata, bss];
  const symbols = [entry, counter, externalFn, message, zeroes, boundStatic, ret];
  return { sections, symbols, bytes: writeElfObject(EM_X86_64, sections, symbols) };
}

function sectionNamed(object: ObjectFile, name: string): Section {
  const section = object.sections.find((candidate) => candidate.name === name);
  assert.ok(section, `section ${name} is present`);
  return section;
}

function symbolNamed(object: ObjectFile, name: string): ObjectFile['symbols'][number] {
  const symbol = object.symbols.find((candidate) => candidate.name === name);
  assert.ok(symbol, `symbol ${name} is present`);
  return symbol;
}

describe('writeElfObject read back by the object reader', () => {
  const { sections, bytes } = sampleObject();
  const object = readObjects('sample.o', bytes)[0]!;

  test('is an x86_64 relocatable object; the machine is the one asked for', () => {
    assert.equal(object.format, 'elf');
    assert.equal(object.architecture, 'x86_64');
    // e_type ET_REL: readElf refuses anything else, and the linker needs it.
    assert.equal(bytes.readUInt16LE(16), 1);
    const aarch64 = readObjects('aarch64.o', writeElfObject(EM_AARCH64, [], []))[0]!;
    assert.equal(aarch64.architecture, 'aarch64');
  });

  test('sections keep their names, kinds, flags, alignment and contents', () => {
    const text = sectionNamed(object, '.text.entry');
    assert.equal(text.kind, 'code');
    assert.equal(text.raw.type, SHT_PROGBITS);
    assert.equal(text.raw.flags, SHF_ALLOC | SHF_EXECINSTR);
    assert.equal(text.alignment, 16);
    assert.deepEqual([...text.data], [...sections[0]!.data]);

    const data = sectionNamed(object, '.data.counter');
    assert.equal(data.kind, 'data');
    assert.equal(data.raw.flags, SHF_ALLOC | SHF_WRITE);
    assert.equal(data.alignment, 8);
    assert.equal(data.size, 16);

    const rodata = sectionNamed(object, '.rodata.msg');
    assert.equal(rodata.kind, 'read-only');
    assert.equal(rodata.alignment, 1);
    assert.equal(Buffer.from(rodata.data).toString('latin1'), 'hello\0');

    const bss = sectionNamed(object, '.bss.zeroes');
    assert.equal(bss.kind, 'bss');
    assert.equal(bss.raw.type, SHT_NOBITS);
    assert.equal(bss.alignment, 32);
    // NOBITS: the size is kept, the contents take no room in the file.
    assert.equal(bss.size, 64);
    assert.equal(bss.data.length, 0);
  });

  test('the output sections come first, in order, after the null section', () => {
    assert.deepEqual(
      object.sections.slice(0, 5).map((section) => section.name),
      ['', '.text.entry', '.data.counter', '.rodata.msg', '.bss.zeroes'],
    );
  });

  test('each section starts in the file at a multiple of its alignment', () => {
    for (const header of rawSectionHeaders(bytes)) {
      if (header.index === 0 || header.type === SHT_NOBITS) continue;
      assert.equal(header.offset % header.alignment, 0, `section ${header.index} at 0x${header.offset.toString(16)}, alignment ${header.alignment}`);
    }
  });

  test('locals precede globals in the symbol table, and sh_info names the first global', () => {
    const named = object.symbols.slice(1).map((symbol) => `${symbol.binding} ${symbol.name}`);
    // Each group keeps the order it was given in.
    assert.deepEqual(named, [
      'local __local_msg',
      'local __local_ret',
      'global entry',
      'global counter',
      'global external_fn',
      'global zeroes',
      'global bound_static',
    ]);
    assert.equal(object.symbols[0]!.name, '', 'index 0 is the null symbol');
    const symtab = rawSectionHeaders(bytes).find((header) => header.type === SHT_SYMTAB)!;
    assert.equal(symtab.info, 3);
    assert.equal(symtab.entrySize, 24);
    assert.equal(rawSectionHeaders(bytes)[symtab.link]!.type, SHT_STRTAB);
  });

  test('symbols keep their type, section, value, size and visibility', () => {
    const entry = symbolNamed(object, 'entry');
    assert.equal(entry.kind, 'function');
    assert.equal(object.sections[entry.section!]!.name, '.text.entry');
    assert.equal(entry.offset, 0);
    assert.equal(entry.size, 20);
    assert.equal(symbolVisibility(bytes, entry.index), 'hidden');

    const ret = symbolNamed(object, '__local_ret');
    assert.equal(ret.kind, 'function');
    assert.equal(ret.offset, 19);
    assert.equal(ret.size, 1);

    const counter = symbolNamed(object, 'counter');
    assert.equal(counter.kind, 'data');
    assert.equal(object.sections[counter.section!]!.name, '.data.counter');
    assert.equal(counter.size, 16);
    assert.equal(symbolVisibility(bytes, counter.index), 'default');

    const zeroes = symbolNamed(object, 'zeroes');
    assert.equal(object.sections[zeroes.section!]!.kind, 'bss');
    assert.equal(zeroes.size, 64);
    assert.equal(symbolVisibility(bytes, zeroes.index), 'hidden');
  });

  test('undefined symbols have no section, no type, and the visibility asked for', () => {
    const externalFn = symbolNamed(object, 'external_fn');
    assert.equal(externalFn.undefined, true);
    assert.equal(externalFn.section, undefined);
    assert.equal(externalFn.kind, 'unknown');
    assert.equal(symbolVisibility(bytes, externalFn.index), 'default');

    const boundStatic = symbolNamed(object, 'bound_static');
    assert.equal(boundStatic.undefined, true);
    assert.equal(symbolVisibility(bytes, boundStatic.index), 'hidden');
  });

  test('relocations keep their offset, raw type, symbol and signed addend', () => {
    const listed = (section: Section): string[] =>
      section.relocations.map((r) => `${r.offset} ${r.raw.typeName} ${'symbol' in r.target ? object.symbols[r.target.symbol]!.name : '?'} ${r.addend}`);
    assert.deepEqual(listed(sectionNamed(object, '.text.entry')), [
      '1 R_X86_64_PLT32 external_fn -4',
      '8 R_X86_64_PC32 bound_static -4',
      '15 R_X86_64_PC32 zeroes 28',
    ]);
    assert.deepEqual(listed(sectionNamed(object, '.data.counter')), ['0 R_X86_64_64 __local_msg 3', `8 R_X86_64_64 entry ${LARGE_NEGATIVE_ADDEND}`]);
    assert.deepEqual(sectionNamed(object, '.rodata.msg').relocations, []);
  });

  test('one .rela section per section with relocations, linked to .symtab and to its section', () => {
    const headers = rawSectionHeaders(bytes);
    const rela = object.sections.filter((section) => section.raw.type === SHT_RELA);
    assert.deepEqual(
      rela.map((section) => section.name),
      ['.rela.text.entry', '.rela.data.counter'],
    );
    const symtabIndex = headers.find((header) => header.type === SHT_SYMTAB)!.index;
    for (const section of rela) {
      const header = headers[section.index]!;
      assert.equal(header.flags, SHF_INFO_LINK);
      assert.equal(header.entrySize, 24);
      assert.equal(header.link, symtabIndex, `${section.name} sh_link`);
      assert.equal(object.sections[header.info]!.name, section.name.slice('.rela'.length), `${section.name} sh_info`);
      assert.equal(section.kind, 'metadata', 'relocation tables are not loaded');
    }
  });

  test('a relocation against a symbol not in the list is refused', () => {
    // A fresh copy: this test adds a relocation to it.
    const { sections, symbols } = sampleObject();
    const stray: OutputSymbol = { name: 'stray', binding: 'global', visibility: 'default', type: 'notype', section: undefined, value: 0, size: 0 };
    sections[0]!.relocations.push({ offset: 1, type: R_X86_64_PLT32, symbol: stray, addend: -4n });
    assert.throws(() => writeElfObject(EM_X86_64, sections, symbols), /missing from the patch: stray/);
  });
});

describe('writeElfObject linked by rust-lld', () => {
  const BOUND_OFFSET = 0x3000n;
  let directory: string;
  let objectPath: string;
  let linker: string;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ipbp-elf-writer-'));
    objectPath = join(directory, 'sample.o');
    await writeFile(objectPath, sampleObject().bytes);
    linker = await findRustLld();
  });
  after(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  /** Link as `linkPatch` does: a shared object, bindings as symbols at a fixed distance from the image's header. */
  async function link(name: string, script: string): Promise<string> {
    const scriptPath = join(directory, `${name}.ld`);
    const output = join(directory, `${name}.so`);
    await writeFile(scriptPath, script);
    // --apply-dynamic-relocs: the absolute data relocations are also written in place, where the test can read them.
    await run(linker, ['-flavor', 'gnu', '-shared', '-Bsymbolic', '--apply-dynamic-relocs', '--image-base=0x200000', '-o', output, objectPath, scriptPath]);
    return output;
  }

  test('resolves every relocation to the symbol and addend written', async () => {
    const output = await link('bound', `"bound_static" = __ehdr_start + 0x${BOUND_OFFSET.toString(16)};\n`);
    const bytes = await readFile(output);
    const image = readElfImage(output, bytes);
    const address = (name: string): bigint => {
      const symbol = image.symbols.get(name);
      assert.ok(symbol, `${name} is defined in the linked image`);
      return symbol.address;
    };
    const imageBase = image.loadSegments.reduce((low, segment) => (segment.address < low ? segment.address : low), image.loadSegments[0]!.address);
    assert.equal(imageBase, 0x200000n);

    assert.equal(address('bound_static'), imageBase + BOUND_OFFSET);
    assert.equal(image.symbols.get('entry')!.kind, 'function');
    assert.equal(image.symbols.get('zeroes')!.size, 64);

    const entry = address('entry');
    assert.equal(pcRelativeTarget(bytes, entry + 8n, -4n), address('bound_static'), 'lea reaches the bound symbol');
    assert.equal(pcRelativeTarget(bytes, entry + 15n, 28n), address('zeroes'), 'a positive addend is kept');

    const counter = bytesAtAddress(bytes, address('counter'), 16);
    assert.equal(counter.readBigUInt64LE(0), address('__local_msg') + 3n, 'an absolute pointer to a local, plus its addend');
    assert.equal(counter.readBigUInt64LE(8), BigInt.asUintN(64, entry + LARGE_NEGATIVE_ADDEND), 'a large negative addend is kept');

    // A default-visibility undefined symbol is left to the dynamic loader.
    assert.ok(image.imports.has('external_fn'), 'external_fn stays undefined for the loader');
  });

  test('an undefined hidden symbol must be bound: the link fails without its binding', async () => {
    // Proves the visibility reached the linker: a default symbol would have been left for the loader.
    await assert.rejects(link('unbound', '/* no bindings */\n'), (error: { stderr?: string }) => {
      assert.match(error.stderr ?? '', /undefined hidden symbol: bound_static/);
      assert.doesNotMatch(error.stderr ?? '', /external_fn/);
      return true;
    });
  });
});
