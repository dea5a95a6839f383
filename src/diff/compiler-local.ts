import type { ObjectFormat } from '../object/model.js';

/**
 * Names the compiler invents per build: numbered labels, anonymous constants,
 * exception tables. They are renumbered whenever code moves, so the diff
 * identifies them by content instead of by name, and never reports them.
 */
const RUSTC_ANONYMOUS_PREFIXES = ['anon.', 'alloc_', '__unnamed_', 'GCC_except_table', 'str.', 'vtable.'];

export function isCompilerLocalName(name: string, format: ObjectFormat): boolean {
  if (name === '') return true;
  if (format === 'elf') {
    return name.startsWith('.L') || RUSTC_ANONYMOUS_PREFIXES.some((prefix) => name.startsWith(prefix));
  }
  // Mach-O gives every source-level name a leading '_'; names starting with
  // 'L' (assembler temporaries) or 'l' (linker-private, `ltmp0`, `l_anon`) are the compiler's.
  if (name.startsWith('L') || name.startsWith('l')) return true;
  const unprefixed = name.startsWith('_') ? name.slice(1) : name;
  return RUSTC_ANONYMOUS_PREFIXES.some((prefix) => unprefixed.startsWith(prefix));
}
