import type { ByteReader } from '../byte-reader.js';
import type { MachOSection } from './section.js';

/** `sizeof(struct relocation_info)`. */
const RELOCATION_INFO_SIZE = 8;
/** High bit of the first word: a `scattered_relocation_info`, a 32-bit-only form. */
const R_SCATTERED = 0x80000000;

/** One `relocation_info` with its bitfields unpacked (mach-o/reloc.h). */
export interface RelocationInfo {
  /** File offset of this entry, for error messages. */
  readonly entryOffset: number;
  /** r_address: offset of the patched field from the section start. */
  readonly address: number;
  /** r_symbolnum: an nlist index if `external`, else a 1-based section ordinal (or, for ADDEND, the addend). */
  readonly symbolNumber: number;
  readonly pcRelative: boolean;
  /** r_length: log2 of the field width. */
  readonly lengthPower: number;
  readonly external: boolean;
  readonly type: number;
}

/**
 * Reads a section's relocation entries. The table is bounds-checked before
 * any entry is allocated, so a corrupt `nreloc` fails instead of allocating.
 */
export function readRelocationInfos(reader: ByteReader, section: MachOSection): RelocationInfo[] {
  const structure = `relocations of ${section.segment},${section.name}`;
  reader.check(structure, section.relocationOffset, section.relocationCount * RELOCATION_INFO_SIZE);

  const entries: RelocationInfo[] = [];
  for (let i = 0; i < section.relocationCount; i++) {
    const entryOffset = section.relocationOffset + i * RELOCATION_INFO_SIZE;
    const address = reader.u32('relocation_info', entryOffset);
    if ((address & R_SCATTERED) !== 0) {
      reader.fail('relocation_info', entryOffset, 'scattered relocations do not occur in 64-bit objects');
    }
    const word = reader.u32('relocation_info', entryOffset + 4);
    // Bitfields are allocated from the least significant bit on little-endian targets.
    entries.push({
      entryOffset,
      address,
      symbolNumber: word & 0x00ffffff,
      pcRelative: ((word >>> 24) & 1) === 1,
      lengthPower: (word >>> 25) & 3,
      external: ((word >>> 27) & 1) === 1,
      type: word >>> 28,
    });
  }
  return entries;
}
