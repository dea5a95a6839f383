import { ByteReader } from '../byte-reader.js';
import type { ObjectFile, Section } from '../model.js';
import { hasMachOMagic, readMachHeader } from './header.js';
import { LC_SEGMENT_64, LC_SYMTAB, readLoadCommands, type LoadCommand } from './load-commands.js';
import { readRelocations, type RelocationContext } from './relocation.js';
import { readSegmentSections, type MachOSection } from './section.js';
import { assignExtents } from './symbol-extent.js';
import { readSymbols } from './symbol.js';

/** Whether `bytes` start like a thin Mach-O file (see `hasMachOMagic` for which). */
export function isMachO(bytes: Uint8Array): boolean {
  return hasMachOMagic(bytes);
}

/**
 * Reads a 64-bit little-endian Mach-O relocatable object (MH_OBJECT) for
 * x86_64 or arm64. Any malformation throws `ObjectFormatError`.
 */
export function readMachO(path: string, bytes: Uint8Array): ObjectFile {
  const reader = new ByteReader(path, bytes, true);
  const header = readMachHeader(reader);
  const commands = readLoadCommands(reader, header);

  const sections = readSections(reader, commands);
  const symbolTable = readSymbols(reader, singleSymtab(reader, commands), sections);
  assignExtents(symbolTable.symbols, sections);

  const context: RelocationContext = { reader, architecture: header.architecture, sections, symbolTable };
  const modelSections = sections.map((section): Section => ({
    index: section.index,
    name: section.name,
    kind: section.kind,
    address: section.address,
    size: section.size,
    alignment: section.alignment,
    data: section.data,
    relocations: readRelocations(context, section),
    raw: { type: section.flags & 0xff, flags: BigInt(section.flags), segment: section.segment },
  }));

  return {
    path,
    format: 'macho',
    architecture: header.architecture,
    sections: modelSections,
    symbols: symbolTable.symbols,
  };
}

function readSections(reader: ByteReader, commands: readonly LoadCommand[]): MachOSection[] {
  const sections: MachOSection[] = [];
  for (const command of commands) {
    if (command.command !== LC_SEGMENT_64) continue;
    for (const section of readSegmentSections(reader, command, sections.length)) sections.push(section);
  }
  // Real relocation tables never overlap, so together they fit in the file;
  // without this, many sections sharing one huge table would multiply it.
  const relocationBytes = sections.reduce((total, section) => total + section.relocationCount * 8, 0);
  if (relocationBytes > reader.length) reader.fail('relocation tables', 0, `${relocationBytes} bytes of relocations exceed the file`);
  return sections;
}

function singleSymtab(reader: ByteReader, commands: readonly LoadCommand[]): LoadCommand | undefined {
  const symtabs = commands.filter((command) => command.command === LC_SYMTAB);
  const second = symtabs[1];
  if (second !== undefined) reader.fail('load_command', second.offset, 'more than one LC_SYMTAB');
  return symtabs[0];
}
