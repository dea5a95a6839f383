import type { ByteReader } from '../byte-reader.js';
import type { Relocation, Section } from '../model.js';
import type { ElfHeader } from './header.js';
import { type ElfSectionHeader, readSectionHeaders, SHT_NOBITS } from './section-header.js';
import { elfSectionKind } from './section-kind.js';

/** Section headers with their names, classified, with zero-copy contents. */
export function readElfSections(reader: ByteReader, header: ElfHeader): { headers: ElfSectionHeader[]; sections: Section[] } {
  const headers = readSectionHeaders(reader, header);
  const names = headers[header.sectionNameTableIndex];
  if (!names) reader.fail('ELF section name table index', 62, `section ${header.sectionNameTableIndex} does not exist`);
  const sections = headers.map((h): Section => {
    const name = h.index === 0 ? '' : reader.cString('ELF section name', names.offset + h.nameOffset, names.offset + names.size);
    const relocations: Relocation[] = [];
    return {
      index: h.index,
      name,
      kind: h.index === 0 ? 'metadata' : elfSectionKind(h, name),
      address: h.address,
      size: h.size,
      alignment: h.alignment,
      data: h.type === SHT_NOBITS || h.index === 0 ? new Uint8Array(0) : reader.slice('ELF section contents', h.offset, h.size),
      relocations,
      raw: { type: h.type, flags: h.flags },
    };
  });
  return { headers, sections };
}
