import { ByteReader } from '../../src/object/byte-reader.js';
import { readElfHeader } from '../../src/object/elf/header.js';
import { type ElfSectionHeader, readSectionHeaders, SHF_ALLOC, SHT_NOBITS, SHT_RELA, SHT_SYMTAB } from '../../src/object/elf/section-header.js';

/**
 * What the object model leaves out but the patch tests must see: raw section
 * headers (`sh_link`, `sh_info`, file offsets), symbol visibility
 * (`st_other`, which the readers do not keep), and the bytes at an address of
 * a linked image and the relocations it leaves to the loader. Built on the
 * project's own bounds-checked header reader.
 */

export function rawSectionHeaders(bytes: Uint8Array): ElfSectionHeader[] {
  const reader = new ByteReader('inspected', bytes);
  return readSectionHeaders(reader, readElfHeader(reader));
}

export type SymbolVisibility = 'default' | 'internal' | 'hidden' | 'protected';
const VISIBILITIES: readonly SymbolVisibility[] = ['default', 'internal', 'hidden', 'protected'];

/** The visibility (`st_other & 3`) of the symbol at `index` of the file's `.symtab`. */
export function symbolVisibility(bytes: Uint8Array, index: number): SymbolVisibility {
  const symtab = rawSectionHeaders(bytes).find((header) => header.type === SHT_SYMTAB);
  if (!symtab) throw new Error('no .symtab');
  const reader = new ByteReader('inspected', bytes);
  return VISIBILITIES[reader.u8('st_other', symtab.offset + index * 24 + 5) & 3]!;
}

/** `length` bytes at virtual `address` of a linked image, from the allocated section that holds them. */
export function bytesAtAddress(bytes: Uint8Array, address: bigint, length: number): Buffer {
  const section = rawSectionHeaders(bytes).find(
    (header) =>
      (header.flags & SHF_ALLOC) !== 0n && header.type !== SHT_NOBITS && header.address <= address && address + BigInt(length) <= header.address + BigInt(header.size),
  );
  if (!section) throw new Error(`no section holds 0x${address.toString(16)}`);
  const at = section.offset + Number(address - section.address);
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, length);
}

/**
 * Where a 32-bit PC-relative field at `site` of a linked image lands, given
 * the relocation's addend: the linker wrote S + A - P there, so S = field + P - A.
 */
export function pcRelativeTarget(bytes: Uint8Array, site: bigint, addend: bigint): bigint {
  return BigInt(bytesAtAddress(bytes, site, 4).readInt32LE(0)) + site - addend;
}

export interface DynamicRelocation {
  readonly offset: bigint;
  readonly type: number;
  readonly symbol: number;
  readonly addend: bigint;
}

export const R_X86_64_RELATIVE = 8;

/** The relocations a linked image leaves to the dynamic loader (its allocated SHT_RELA sections: `.rela.dyn`, `.rela.plt`). */
export function dynamicRelocations(bytes: Uint8Array): DynamicRelocation[] {
  const reader = new ByteReader('inspected', bytes);
  const relocations: DynamicRelocation[] = [];
  for (const header of rawSectionHeaders(bytes)) {
    if (header.type !== SHT_RELA || (header.flags & SHF_ALLOC) === 0n) continue;
    for (let at = header.offset; at + 24 <= header.offset + header.size; at += 24) {
      const info = reader.u64('r_info', at + 8);
      relocations.push({ offset: reader.u64('r_offset', at), type: Number(info & 0xffffffffn), symbol: Number(info >> 32n), addend: reader.i64('r_addend', at + 16) });
    }
  }
  return relocations;
}
