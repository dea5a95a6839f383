import { ELF_PATCH_LINKER } from './elf-patch-linker.js';
import type { Target } from './target.js';

const EM_AARCH64 = 183;
/** aarch64 has no section type of its own for `.eh_frame`: it is plain `SHT_PROGBITS`. */
const SHT_PROGBITS = 1;
const R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21 = 541;
const R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC = 542;

/**
 * Linux on aarch64 with glibc, here under qemu-user. Code reaches data
 * through ADRP (±4 GiB) and calls with BL (±128 MiB): patches are placed
 * far nearer the program than that (`process-state.ts`), and rust-lld adds
 * a range-extension thunk for a call that would still not reach.
 */
export const AARCH64_LINUX: Target = {
  triple: 'aarch64-unknown-linux-gnu',
  architecture: 'aarch64',
  objectFormat: 'elf',
  pointerBytes: 8,
  patchObject: {
    machine: EM_AARCH64,
    unwindSectionType: SHT_PROGBITS,
    // `adrp x0, :gottprel:v; ldr x0, [x0, :gottprel_lo12:v]; ret`.
    staticTlsReference: {
      code: Uint8Array.of(0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x40, 0xf9, 0xc0, 0x03, 0x5f, 0xd6),
      relocations: [
        { offset: 0, type: R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21, addend: 0n },
        { offset: 4, type: R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC, addend: 0n },
      ],
    },
    // Local exec splits the thread-pointer offset over the immediates of two adds.
    localExecRelocations: new Map([
      ['R_AARCH64_TLSLE_ADD_TPREL_HI12', 'add-hi12'],
      ['R_AARCH64_TLSLE_ADD_TPREL_LO12', 'add-lo12'],
      ['R_AARCH64_TLSLE_ADD_TPREL_LO12_NC', 'add-lo12'],
    ]),
  },
  callRelocations: new Set(['R_AARCH64_CALL26', 'R_AARCH64_JUMP26']),
  // A call through the GOT is `adrp; ldr x16; br x16`: the relocated instructions are loads, and which
  // register is branched to shows only further on. Every GOT load counts as taking the address.
  callsThroughGot: { relocations: new Set(), opcodes: [] },
  // `b imm26` when the copy lies within ±128 MiB (patches are placed so), else a 16-byte `ldr x16; br x16` veneer.
  redirect: { entryBytes: 4, entryReach: 128n * 1024n * 1024n, farEntryBytes: 16, encoding: 'b imm26' },
  patchLinker: ELF_PATCH_LINKER,
  loader: 'dlopen',
  // ADRP reaches ±4 GiB. Calls beyond BL's ±128 MiB go through linker thunks and entry veneers, slower but correct.
  patchReach: 4n * 1024n * 1024n * 1024n,
};
