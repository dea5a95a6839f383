import type { Target } from './target.js';

/** How every ELF target links a patch: rust-lld as GNU ld, into a shared library. */
export const ELF_PATCH_LINKER: Target['patchLinker'] = {
  flavor: 'gnu',
  // -Bsymbolic: the patch's own references never go through the dynamic loader.
  // --eh-frame-hdr: the unwinder finds the patch's frames through PT_GNU_EH_FRAME.
  flags: ['-shared', '-Bsymbolic', '--eh-frame-hdr', '-z', 'noexecstack', '--build-id'],
};
