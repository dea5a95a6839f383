import { ByteReader } from '../byte-reader.js';
import { computeExtents } from '../extent.js';
import type { ObjectFile, Relocation, RelocationTarget } from '../model.js';
import type { RelocationType } from '../relocation-type.js';
import { AARCH64_RELOCATIONS } from './aarch64.js';
import { X86_64_RELOCATIONS } from './x86_64.js';
import { readElfHeader } from './header.js';
import { readElfRelocations } from './relocation.js';
import { SHT_REL, SHT_RELA, SHT_SYMTAB } from './section-header.js';
import { readElfSections } from './sections.js';
import { readElfSymbols } from './symbol.js';

const ET_REL = 1;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Read an ELF64 little-endian relocatable object (x86_64 or aarch64). */
export function readElf(path: string, bytes: Uint8Array): ObjectFile {
  const reader: ByteReader = new ByteReader(path, bytes);
  const header = readElfHeader(reader);
  if (header.type !== ET_REL) reader.fail('ELF type', 16, `expected a relocatable object (ET_REL), found type ${header.type}`);
  const { headers, sections } = readElfSections(reader, header);
  const types: ReadonlyMap<number, RelocationType> = header.architecture === 'x86_64' ? X86_64_RELOCATIONS : AARCH64_RELOCATIONS;

  const symtab = headers.find((h) => h.type === SHT_SYMTAB);
  const symbols = symtab ? readElfSymbols(reader, symtab, headers, sections) : [];
  // In a relocatable object a symbol's value is an offset into its section, and
  // its bytes must lie inside it: the patch builder copies (or, for .bss,
  // allocates) exactly that many.
  for (const symbol of symbols) {
    if (symbol.section === undefined) continue;
    const sectionSize = sections[symbol.section]!.size;
    if (symbol.offset > sectionSize || symbol.size > sectionSize - symbol.offset) {
      reader.fail('ELF symbol', symtab!.offset + symbol.index * 24 + 8, `symbol ${symbol.index} (0x${symbol.size.toString(16)} bytes at 0x${symbol.offset.toString(16)}) lies outside its section of 0x${sectionSize.toString(16)} bytes`);
    }
  }

  const targets: RelocationTarget[] = [];
  for (const table of headers) {
    if (table.type !== SHT_RELA && table.type !== SHT_REL) continue;
    const target = headers[table.info];
    const targetSection = sections[table.info];
    if (!target || !targetSection) reader.fail('ELF relocation section target', header.sectionHeaderOffset + table.index * 64 + 44, `section ${table.info} does not exist`);
    // Relocations of debug info are not needed by the diff or the patch; skip decoding them.
    if (targetSection.kind === 'metadata') continue;
    // A loop rather than push(...list): spreading a huge table would overflow the stack.
    for (const relocation of readElfRelocations(reader, table, target, symbols.length, types, targets)) targetSection.relocations.push(relocation);
  }
  // Assemblers emit relocations in offset order, so the sort is nearly always a no-op worth skipping.
  for (const section of sections) if (!sortedByOffset(section.relocations)) section.relocations.sort(byOffset);

  computeExtents(sections, symbols);
  return { path, format: 'elf', architecture: header.architecture, sections, symbols };
}

function byOffset(a: Relocation, b: Relocation): number {
  return a.offset - b.offset;
}

function sortedByOffset(relocations: readonly Relocation[]): boolean {
  for (let i = 1; i < relocations.length; i++) if (relocations[i - 1]!.offset > relocations[i]!.offset) return false;
  return true;
}
