import type { Architecture } from '../model.js';
import type { ByteReader } from '../byte-reader.js';

/** The fields of an ELF64 file header that a relocatable object reader needs. */
export interface ElfHeader {
  readonly architecture: Architecture;
  readonly type: number;
  readonly sectionHeaderOffset: number;
  readonly sectionHeaderSize: number;
  readonly sectionCount: number;
  readonly sectionNameTableIndex: number;
}

const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;
const SHDR_SIZE = 64;

export function readElfHeader(reader: ByteReader): ElfHeader {
  reader.check('ELF header', 0, 64);
  if (reader.u8('ELF class', 4) !== ELFCLASS64) reader.fail('ELF class', 4, 'only 64-bit ELF is supported');
  if (reader.u8('ELF data encoding', 5) !== ELFDATA2LSB) reader.fail('ELF data encoding', 5, 'only little-endian ELF is supported');
  const machine = reader.u16('ELF machine', 18);
  const architecture = machineToArchitecture(machine);
  if (!architecture) reader.fail('ELF machine', 18, `unsupported machine ${machine}`);
  const sectionHeaderOffset = reader.u64AsNumber('ELF section header offset', 40);
  const sectionHeaderSize = reader.u16('ELF section header size', 58);
  if (sectionHeaderSize !== SHDR_SIZE) reader.fail('ELF section header size', 58, `expected ${SHDR_SIZE}, found ${sectionHeaderSize}`);
  let sectionCount = reader.u16('ELF section count', 60);
  let sectionNameTableIndex = reader.u16('ELF section name table index', 62);
  // Objects with 65280 or more sections (common for rustc's function sections)
  // keep the real count and name table index in section header 0.
  if (sectionCount === SHN_UNDEF && sectionHeaderOffset !== 0) {
    sectionCount = reader.u64AsNumber('ELF extended section count', sectionHeaderOffset + 32);
  }
  if (sectionNameTableIndex === SHN_XINDEX) {
    sectionNameTableIndex = reader.u32('ELF extended section name table index', sectionHeaderOffset + 40);
  }
  reader.check('ELF section header table', sectionHeaderOffset, sectionCount * SHDR_SIZE);
  return {
    architecture,
    type: reader.u16('ELF type', 16),
    sectionHeaderOffset,
    sectionHeaderSize,
    sectionCount,
    sectionNameTableIndex,
  };
}

function machineToArchitecture(machine: number): Architecture | undefined {
  switch (machine) {
    case EM_X86_64:
      return 'x86_64';
    case EM_AARCH64:
      return 'aarch64';
    default:
      return undefined;
  }
}
