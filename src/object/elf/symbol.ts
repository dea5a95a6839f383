import type { ByteReader } from '../byte-reader.js';
import type { ObjectSymbol, Section, SymbolBinding, SymbolKind } from '../model.js';
import { safeU64, u64Big, viewOf } from './fields.js';
import { type ElfSectionHeader, SHT_SYMTAB_SHNDX } from './section-header.js';

const SYM_SIZE = 24;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_SECTION = 3;
const STT_FILE = 4;
const STT_COMMON = 5;
const STT_TLS = 6;

const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STB_GNU_UNIQUE = 10;

export function readElfSymbols(
  reader: ByteReader,
  symtab: ElfSectionHeader,
  headers: readonly ElfSectionHeader[],
  sections: readonly Section[],
): ObjectSymbol[] {
  if (symtab.entrySize !== SYM_SIZE) reader.fail('ELF symbol table entry size', symtab.offset, `expected ${SYM_SIZE}, found ${symtab.entrySize}`);
  const strtab = headers[symtab.link];
  if (!strtab) reader.fail('ELF symbol string table index', symtab.offset, `section ${symtab.link} does not exist`);
  const stringsEnd = strtab.offset + strtab.size;
  const extendedIndices = headers.find((h) => h.type === SHT_SYMTAB_SHNDX && h.link === symtab.index);
  const count = Math.floor(symtab.size / SYM_SIZE);
  const view = viewOf(reader.bytes);
  const length = reader.length;
  const symbols: ObjectSymbol[] = [];
  for (let index = 0; index < count; index++) {
    const at = symtab.offset + index * SYM_SIZE;
    // Entries inside the file (all of them, unless the table's header lies) are read unchecked.
    const inside = at + SYM_SIZE <= length;
    const nameOffset = inside ? view.getUint32(at, true) : reader.u32('ELF symbol name', at);
    const info = inside ? view.getUint8(at + 4) : reader.u8('ELF symbol info', at + 4);
    let shndx = inside ? view.getUint16(at + 6, true) : reader.u16('ELF symbol section index', at + 6);
    if (shndx === SHN_XINDEX && extendedIndices) {
      shndx = reader.u32('ELF extended symbol section index', extendedIndices.offset + index * 4);
    }
    const value = inside ? u64Big(view, at + 8) : reader.u64('ELF symbol value', at + 8);
    const safeValue = inside ? safeU64(view, at + 8) : undefined;
    const size = (inside ? safeU64(view, at + 16) : undefined) ?? reader.u64AsNumber('ELF symbol size', at + 16);
    const type = info & 0xf;
    const defined = shndx !== SHN_UNDEF && (shndx < SHN_LORESERVE || shndx > SHN_XINDEX);
    if (defined && !sections[shndx]) reader.fail('ELF symbol section index', at + 6, `section ${shndx} does not exist`);
    let name = nameOffset === 0 ? '' : readName(reader, strtab.offset + nameOffset, stringsEnd, at);
    // Section symbols are nameless in the string table; give them their section's name.
    if (type === STT_SECTION && defined) name = sections[shndx]!.name;
    const offset = defined ? (safeValue ?? toOffset(reader, value, at)) : 0;
    symbols.push({
      index,
      name,
      kind: symbolKind(type, defined ? sections[shndx]!.kind : undefined),
      binding: symbolBinding(info >> 4),
      section: defined ? shndx : undefined,
      undefined: shndx === SHN_UNDEF,
      offset,
      size,
      extent: size,
      raw: { type, flags: info, value },
    });
  }
  return symbols;
}

function readName(reader: ByteReader, at: number, end: number, symbolAt: number): string {
  if (at >= end) reader.fail('ELF symbol name', symbolAt, 'name offset lies outside the string table');
  return reader.cString('ELF symbol name', at, end);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function toOffset(reader: ByteReader, value: bigint, at: number): number {
  if (value > MAX_SAFE) reader.fail('ELF symbol value', at + 8, 'value is too large');
  return Number(value);
}

function symbolKind(type: number, sectionKind: Section['kind'] | undefined): SymbolKind {
  switch (type) {
    case STT_FUNC:
      return 'function';
    case STT_OBJECT:
    case STT_COMMON:
      return 'data';
    case STT_TLS:
      return 'tls';
    case STT_SECTION:
      return 'section';
    case STT_FILE:
      return 'file';
    default:
      // Untyped labels (assembler locals) take their meaning from where they live.
      if (sectionKind === 'code') return 'function';
      if (sectionKind === undefined) return 'unknown';
      return sectionKind === 'tls-data' || sectionKind === 'tls-bss' ? 'tls' : 'label';
  }
}

function symbolBinding(binding: number): SymbolBinding {
  if (binding === STB_LOCAL) return 'local';
  if (binding === STB_WEAK) return 'weak';
  if (binding === STB_GLOBAL || binding === STB_GNU_UNIQUE) return 'global';
  return 'global';
}
