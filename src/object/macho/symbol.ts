import type { ByteReader } from '../byte-reader.js';
import type { ObjectSymbol, SymbolBinding, SymbolKind } from '../model.js';
import type { LoadCommand } from './load-commands.js';
import type { MachOSection } from './section.js';

/** `sizeof(struct symtab_command)`. */
const SYMTAB_COMMAND_SIZE = 24;
/** `sizeof(struct nlist_64)`. */
const NLIST_64_SIZE = 16;

// n_type bits (mach-o/nlist.h).
const N_STAB = 0xe0;
const N_TYPE = 0x0e;
const N_EXT = 0x01;
// N_TYPE values.
const N_UNDF = 0x0;
const N_ABS = 0x2;
const N_INDR = 0xa;
const N_PBUD = 0xc;
const N_SECT = 0xe;
// n_desc bits.
const N_WEAK_REF = 0x0040;
const N_WEAK_DEF = 0x0080;

export interface MachOSymbolTable {
  readonly symbols: ObjectSymbol[];
  /**
   * `symbolIndexOfEntry[i]` is the index in `symbols` of nlist entry `i`, or
   * -1 for a skipped debugging (N_STAB) entry. Extern relocations name nlist
   * entries, so they are resolved through this.
   */
  readonly symbolIndexOfEntry: Int32Array;
}

interface SymtabCommand {
  readonly symbolOffset: number;
  readonly symbolCount: number;
  readonly stringOffset: number;
  readonly stringSize: number;
}

const EMPTY_TABLE: MachOSymbolTable = { symbols: [], symbolIndexOfEntry: new Int32Array(0) };

/** Reads LC_SYMTAB's nlist_64 entries; `command` is undefined when the object has no symbol table. */
export function readSymbols(reader: ByteReader, command: LoadCommand | undefined, sections: readonly MachOSection[]): MachOSymbolTable {
  if (command === undefined) return EMPTY_TABLE;
  const symtab = readSymtabCommand(reader, command);
  // Both tables must lie in the file before anything is allocated per entry.
  reader.check('symbol table', symtab.symbolOffset, symtab.symbolCount * NLIST_64_SIZE);
  reader.check('string table', symtab.stringOffset, symtab.stringSize);

  const names = new Map<number, string>(); // n_strx -> name: linkers share strings between symbols
  const symbols: ObjectSymbol[] = [];
  const symbolIndexOfEntry = new Int32Array(symtab.symbolCount).fill(-1);
  for (let entry = 0; entry < symtab.symbolCount; entry++) {
    const offset = symtab.symbolOffset + entry * NLIST_64_SIZE;
    const type = reader.u8('nlist_64', offset + 4);
    // Debugger stabs (N_SO, N_FUN, ...) describe source, not the code to patch.
    if ((type & N_STAB) !== 0) continue;
    symbolIndexOfEntry[entry] = symbols.length;
    symbols.push(readSymbol(reader, offset, symbols.length, symtab, names, sections));
  }
  return { symbols, symbolIndexOfEntry };
}

function readSymtabCommand(reader: ByteReader, command: LoadCommand): SymtabCommand {
  if (command.size < SYMTAB_COMMAND_SIZE) reader.fail('symtab_command', command.offset, `cmdsize ${command.size} is too small`);
  return {
    symbolOffset: reader.u32('symtab_command', command.offset + 8),
    symbolCount: reader.u32('symtab_command', command.offset + 12),
    stringOffset: reader.u32('symtab_command', command.offset + 16),
    stringSize: reader.u32('symtab_command', command.offset + 20),
  };
}

function readSymbol(
  reader: ByteReader,
  offset: number,
  index: number,
  symtab: SymtabCommand,
  names: Map<number, string>,
  sections: readonly MachOSection[],
): ObjectSymbol {
  const stringIndex = reader.u32('nlist_64', offset);
  const type = reader.u8('nlist_64', offset + 4);
  const sectionOrdinal = reader.u8('nlist_64', offset + 5);
  const desc = reader.u16('nlist_64', offset + 6);
  const value = reader.u64('nlist_64', offset + 8);

  const name = symbolName(reader, offset, stringIndex, symtab, names);
  const binding = bindingOf(type, desc);
  const raw = { type, flags: desc, value };
  const outside = { index, name, binding, section: undefined, offset: 0, extent: 0, raw };

  switch (type & N_TYPE) {
    case N_UNDF:
      if ((type & N_EXT) !== 0 && value !== 0n) {
        // A common symbol: n_value is its size; the linker allocates it.
        const size = Number(value);
        if (!Number.isSafeInteger(size)) reader.fail('nlist_64', offset + 8, `common size 0x${value.toString(16)} is too large`);
        return { ...outside, kind: 'data', undefined: false, size, extent: size };
      }
      return { ...outside, kind: 'unknown', undefined: true, size: 0 };
    case N_ABS:
      return { ...outside, kind: 'unknown', undefined: false, size: 0 };
    case N_INDR:
    case N_PBUD:
      // Both resolve to another symbol at link time, like an undefined one.
      return { ...outside, kind: 'unknown', undefined: true, size: 0 };
    case N_SECT: {
      const section = sections[sectionOrdinal - 1];
      if (section === undefined) reader.fail('nlist_64', offset + 5, `n_sect ${sectionOrdinal} names no section`);
      const sectionOffset = value - section.address;
      if (sectionOffset < 0n || sectionOffset > BigInt(section.size)) {
        reader.fail('nlist_64', offset + 8, `n_value 0x${value.toString(16)} lies outside ${section.segment},${section.name}`);
      }
      return {
        ...outside,
        kind: kindOf(name, section),
        section: section.index,
        undefined: false,
        offset: Number(sectionOffset),
        size: 0, // nlist records no size; `extent` is filled in from neighbours
      };
    }
    default:
      return reader.fail('nlist_64', offset + 4, `unknown n_type 0x${type.toString(16)}`);
  }
}

function symbolName(reader: ByteReader, offset: number, stringIndex: number, symtab: SymtabCommand, names: Map<number, string>): string {
  // n_strx 0 is the conventional "no name".
  if (stringIndex === 0) return '';
  const cached = names.get(stringIndex);
  if (cached !== undefined) return cached;
  if (stringIndex >= symtab.stringSize) reader.fail('nlist_64', offset, `n_strx ${stringIndex} is past the string table`);
  const start = symtab.stringOffset + stringIndex;
  const name = reader.cString('symbol name', start, symtab.stringOffset + symtab.stringSize);
  names.set(stringIndex, name);
  return name;
}

/**
 * N_EXT makes a symbol visible to the static linker. N_PEXT alongside it is
 * hidden visibility: still global while linking, so still `global` here;
 * N_PEXT alone is a private extern that `ld -r` already made local.
 */
function bindingOf(type: number, desc: number): SymbolBinding {
  if ((type & N_EXT) === 0) return 'local';
  return (desc & (N_WEAK_DEF | N_WEAK_REF)) !== 0 ? 'weak' : 'global';
}

/**
 * Assembler temporaries (`L...`), linker-private symbols (`l_...`) and the
 * section-start labels LLVM emits on arm64 (`ltmp<N>`) are anchors for
 * relocations, not functions or variables the program declared.
 */
function isLabelName(name: string): boolean {
  return name.startsWith('L') || name.startsWith('l_') || /^ltmp\d+$/.test(name);
}

function kindOf(name: string, section: MachOSection): SymbolKind {
  if (isLabelName(name)) return 'label';
  switch (section.kind) {
    case 'code':
      return 'function';
    case 'tls-data':
    case 'tls-bss':
      return 'tls';
    case 'data':
    case 'bss':
    case 'read-only':
    case 'unwind':
    case 'metadata':
      return 'data';
    default:
      return assertNever(section.kind);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled section kind ${String(value)}`);
}
