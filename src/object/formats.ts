import { isArchive } from './archive/index.js';
import { isElf } from './elf/index.js';

export type InputFormat = 'elf' | 'macho' | 'archive' | 'unknown';

/**
 * The one place input formats are recognised, by magic bytes:
 *   7f 45 4c 46        ELF
 *   cf fa ed fe        Mach-O 64-bit, little-endian (MH_MAGIC_64 as stored)
 *   21 3c 61 72 63 68 3e 0a   "!<arch>\n", a GNU or BSD archive (.a, .rlib)
 */
export function detectFormat(bytes: Uint8Array): InputFormat {
  if (isElf(bytes)) return 'elf';
  if (bytes.length >= 4 && bytes[0] === 0xcf && bytes[1] === 0xfa && bytes[2] === 0xed && bytes[3] === 0xfe) return 'macho';
  if (isArchive(bytes)) return 'archive';
  return 'unknown';
}
