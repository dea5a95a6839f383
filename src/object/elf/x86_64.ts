import type { RelocationType } from '../relocation-type.js';

/**
 * x86_64 ELF relocation types (System V AMD64 ABI, table 4.10). The class
 * groups types that mean the same thing to the diff: a call emitted as PC32
 * in one build and PLT32 in the next is the same call.
 */
export const X86_64_RELOCATIONS: ReadonlyMap<number, RelocationType> = new Map<number, RelocationType>([
  [0, { name: 'R_X86_64_NONE', kind: 'other', width: 0, class: 'none' }],
  [1, { name: 'R_X86_64_64', kind: 'absolute', width: 8, class: 'abs64' }],
  [2, { name: 'R_X86_64_PC32', kind: 'pc-relative', width: 4, class: 'pc32' }],
  [3, { name: 'R_X86_64_GOT32', kind: 'other', width: 4, class: 'got32' }],
  [4, { name: 'R_X86_64_PLT32', kind: 'pc-relative', width: 4, class: 'pc32' }],
  [9, { name: 'R_X86_64_GOTPCREL', kind: 'got-pc-relative', width: 4, class: 'gotpc32' }],
  [10, { name: 'R_X86_64_32', kind: 'absolute', width: 4, class: 'abs32' }],
  [11, { name: 'R_X86_64_32S', kind: 'absolute', width: 4, class: 'abs32s' }],
  [12, { name: 'R_X86_64_16', kind: 'absolute', width: 2, class: 'abs16' }],
  [13, { name: 'R_X86_64_PC16', kind: 'pc-relative', width: 2, class: 'pc16' }],
  [14, { name: 'R_X86_64_8', kind: 'absolute', width: 1, class: 'abs8' }],
  [15, { name: 'R_X86_64_PC8', kind: 'pc-relative', width: 1, class: 'pc8' }],
  [16, { name: 'R_X86_64_DTPMOD64', kind: 'tls', width: 8, class: 'dtpmod64' }],
  [17, { name: 'R_X86_64_DTPOFF64', kind: 'tls', width: 8, class: 'dtpoff64' }],
  [18, { name: 'R_X86_64_TPOFF64', kind: 'tls', width: 8, class: 'tpoff64' }],
  [19, { name: 'R_X86_64_TLSGD', kind: 'tls', width: 4, class: 'tlsgd' }],
  [20, { name: 'R_X86_64_TLSLD', kind: 'tls', width: 4, class: 'tlsld' }],
  [21, { name: 'R_X86_64_DTPOFF32', kind: 'tls', width: 4, class: 'dtpoff32' }],
  [22, { name: 'R_X86_64_GOTTPOFF', kind: 'tls', width: 4, class: 'gottpoff' }],
  [23, { name: 'R_X86_64_TPOFF32', kind: 'tls', width: 4, class: 'tpoff32' }],
  [24, { name: 'R_X86_64_PC64', kind: 'pc-relative', width: 8, class: 'pc64' }],
  [25, { name: 'R_X86_64_GOTOFF64', kind: 'other', width: 8, class: 'gotoff64' }],
  [26, { name: 'R_X86_64_GOTPC32', kind: 'other', width: 4, class: 'gotpc32-base' }],
  [34, { name: 'R_X86_64_GOTPC32_TLSDESC', kind: 'tls', width: 4, class: 'tlsdesc' }],
  [35, { name: 'R_X86_64_TLSDESC_CALL', kind: 'tls', width: 0, class: 'tlsdesc-call' }],
  [41, { name: 'R_X86_64_GOTPCRELX', kind: 'got-pc-relative', width: 4, class: 'gotpc32' }],
  [42, { name: 'R_X86_64_REX_GOTPCRELX', kind: 'got-pc-relative', width: 4, class: 'gotpc32' }],
]);
