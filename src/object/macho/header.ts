import type { ByteReader } from '../byte-reader.js';
import type { Architecture } from '../model.js';

/** `mach_header_64.magic` as it reads in a little-endian file. */
const MH_MAGIC_64 = 0xfeedfacf;
/** The other thin Mach-O magics: recognised only to reject them with a clear message. */
const MH_CIGAM_64 = 0xcffaedfe;
const MH_MAGIC = 0xfeedface;
const MH_CIGAM = 0xcefaedfe;

/** `sizeof(struct mach_header_64)`: the load commands start right after it. */
export const MACH_HEADER_64_SIZE = 32;

const MH_OBJECT = 0x1;

const CPU_TYPE_X86_64 = 0x01000007;
const CPU_TYPE_ARM64 = 0x0100000c;

export interface MachHeader {
  readonly architecture: Architecture;
  readonly fileType: number;
  readonly commandCount: number;
  readonly commandsSize: number;
  readonly flags: number;
}

/**
 * True for any thin Mach-O magic, so a 32-bit or big-endian Mach-O reaches
 * `readMachO` and is refused with a message naming what it is, rather than
 * being reported as an unknown format. Fat archives (0xcafebabe) are left
 * out: that magic is shared with Java class files.
 */
export function hasMachOMagic(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 4) return false;
  const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  return magic === MH_MAGIC_64 || magic === MH_CIGAM_64 || magic === MH_MAGIC || magic === MH_CIGAM;
}

export function readMachHeader(reader: ByteReader): MachHeader {
  const structure = 'mach_header_64';
  const magic = reader.u32(structure, 0);
  if (magic !== MH_MAGIC_64) reader.fail(structure, 0, describeForeignMagic(magic));
  reader.check(structure, 0, MACH_HEADER_64_SIZE);

  const cpuType = reader.u32(structure, 4);
  const fileType = reader.u32(structure, 12);
  if (fileType !== MH_OBJECT) {
    // Linked images carry no relocations to rebuild a patch from.
    reader.fail(structure, 12, `file type ${fileType} is not MH_OBJECT`);
  }
  return {
    architecture: architectureOf(reader, cpuType),
    fileType,
    commandCount: reader.u32(structure, 16),
    commandsSize: reader.u32(structure, 20),
    flags: reader.u32(structure, 24),
  };
}

function architectureOf(reader: ByteReader, cpuType: number): Architecture {
  switch (cpuType) {
    case CPU_TYPE_X86_64:
      return 'x86_64';
    case CPU_TYPE_ARM64:
      return 'aarch64';
    default:
      return reader.fail('mach_header_64', 4, `unsupported CPU type 0x${cpuType.toString(16)}`);
  }
}

function describeForeignMagic(magic: number): string {
  switch (magic) {
    case MH_CIGAM_64:
      return 'big-endian Mach-O is not supported';
    case MH_MAGIC:
    case MH_CIGAM:
      return '32-bit Mach-O is not supported';
    default:
      return `bad magic 0x${magic.toString(16)}`;
  }
}
