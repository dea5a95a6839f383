import { ELF_PATCH_LINKER } from './elf-patch-linker.js';
import type { Target } from './target.js';

const EM_X86_64 = 62;
/** `SHT_X86_64_UNWIND`: the psABI's type for `.eh_frame`. */
const SHT_X86_64_UNWIND = 0x70000001;

const R_X86_64_GOTTPOFF = 22;

/** Linux on x86_64 with glibc: the first target, where everything runs. */
export const X86_64_LINUX: Target = {
  triple: 'x86_64-unknown-linux-gnu',
  architecture: 'x86_64',
  objectFormat: 'elf',
  pointerBytes: 8,
  patchObject: {
    machine: EM_X86_64,
    unwindSectionType: SHT_X86_64_UNWIND,
    // `mov x@gottpoff(%rip), %rax; ret`: R_X86_64_GOTTPOFF over the displacement.
    staticTlsReference: { code: Uint8Array.of(0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xc3), relocations: [{ offset: 3, type: R_X86_64_GOTTPOFF, addend: -4n }] },
    localExecRelocations: new Map([
      ['R_X86_64_TPOFF32', 'u32'],
      ['R_X86_64_TPOFF64', 'u64'],
    ]),
  },
  callRelocations: new Set(['R_X86_64_PLT32']),
  // `call *f@GOTPCREL(%rip)` is ff 15, `jmp *f@GOTPCREL(%rip)` ff 25, each followed by the displacement.
  callsThroughGot: { relocations: new Set(['R_X86_64_GOTPCREL', 'R_X86_64_GOTPCRELX', 'R_X86_64_REX_GOTPCRELX']), opcodes: [[0xff, 0x15], [0xff, 0x25]] },
  // `jmp rel32`: the patch is linked within ±2 GiB of the program so the displacement fits.
  redirect: { entryBytes: 5, entryReach: 1n << 31n, farEntryBytes: 5, encoding: 'jmp rel32' },
  patchLinker: ELF_PATCH_LINKER,
  loader: 'dlopen',
  // rel32 and RIP-relative data accesses: ±2 GiB.
  patchReach: 2n * 1024n * 1024n * 1024n,
};
