import type { ByteReader } from '../byte-reader.js';
import { flagsBig, safeU64, u64Big, viewOf } from './fields.js';
import type { ElfHeader } from './header.js';

/** A raw ELF64 section header, before it is classified. */
export interface ElfSectionHeader {
  readonly index: number;
  readonly nameOffset: number;
  readonly type: number;
  readonly flags: bigint;
  readonly address: bigint;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly alignment: number;
  readonly entrySize: number;
}

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_X86_64_UNWIND = 0x70000001;

export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;
export const SHF_TLS = 0x400n;

export function readSectionHeaders(reader: ByteReader, header: ElfHeader): ElfSectionHeader[] {
  // readElfHeader has checked this already; repeating it here lets the fields below be read unchecked.
  reader.check('ELF section header table', header.sectionHeaderOffset, header.sectionCount * header.sectionHeaderSize);
  const view = viewOf(reader.bytes);
  const headers: ElfSectionHeader[] = [];
  for (let index = 0; index < header.sectionCount; index++) {
    const at = header.sectionHeaderOffset + index * header.sectionHeaderSize;
    const type = view.getUint32(at + 4, true);
    // A value too large for a number goes through the checked read, which reports it.
    const offset = safeU64(view, at + 24) ?? reader.u64AsNumber('ELF section offset', at + 24);
    const size = safeU64(view, at + 32) ?? reader.u64AsNumber('ELF section size', at + 32);
    // NOBITS sections occupy no file bytes; every other section must fit the file.
    if (type !== SHT_NOBITS && index !== 0) reader.check(`ELF section ${index} contents`, offset, size);
    const alignment = safeU64(view, at + 48) ?? reader.u64AsNumber('ELF section alignment', at + 48);
    headers.push({
      index,
      nameOffset: view.getUint32(at, true),
      type,
      flags: flagsBig(view, at + 8),
      address: u64Big(view, at + 16),
      offset,
      size,
      link: view.getUint32(at + 40, true),
      info: view.getUint32(at + 44, true),
      alignment: alignment === 0 ? 1 : alignment,
      entrySize: safeU64(view, at + 56) ?? reader.u64AsNumber('ELF section entry size', at + 56),
    });
  }
  return headers;
}
