import type { SectionKind } from '../model.js';
import {
  type ElfSectionHeader,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_TLS,
  SHF_WRITE,
  SHT_NOBITS,
  SHT_X86_64_UNWIND,
} from './section-header.js';

/**
 * Classify by flags and type. The one name check is `.eh_frame` on aarch64,
 * where it is plain PROGBITS with the same flags as read-only data; the ABI
 * gives no other mark for it (x86_64 uses SHT_X86_64_UNWIND).
 */
export function elfSectionKind(header: ElfSectionHeader, name: string): SectionKind {
  if ((header.flags & SHF_ALLOC) === 0n) return 'metadata';
  if (header.type === SHT_X86_64_UNWIND || name === '.eh_frame') return 'unwind';
  if ((header.flags & SHF_TLS) !== 0n) return header.type === SHT_NOBITS ? 'tls-bss' : 'tls-data';
  if ((header.flags & SHF_EXECINSTR) !== 0n) return 'code';
  if (header.type === SHT_NOBITS) return 'bss';
  if ((header.flags & SHF_WRITE) !== 0n) return 'data';
  return 'read-only';
}
