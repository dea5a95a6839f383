import type { SectionKind } from '../model.js';

/** `section_64.flags & SECTION_TYPE`; the rest of the word holds attributes. */
export const SECTION_TYPE_MASK = 0xff;

/** The section types of mach-o/loader.h, listed so that a name's position is its value. */
const SECTION_TYPES = [
  'S_REGULAR',
  'S_ZEROFILL',
  'S_CSTRING_LITERALS',
  'S_4BYTE_LITERALS',
  'S_8BYTE_LITERALS',
  'S_LITERAL_POINTERS',
  'S_NON_LAZY_SYMBOL_POINTERS',
  'S_LAZY_SYMBOL_POINTERS',
  'S_SYMBOL_STUBS',
  'S_MOD_INIT_FUNC_POINTERS',
  'S_MOD_TERM_FUNC_POINTERS',
  'S_COALESCED',
  'S_GB_ZEROFILL',
  'S_INTERPOSING',
  'S_16BYTE_LITERALS',
  'S_DTRACE_DOF',
  'S_LAZY_DYLIB_SYMBOL_POINTERS',
  'S_THREAD_LOCAL_REGULAR',
  'S_THREAD_LOCAL_ZEROFILL',
  'S_THREAD_LOCAL_VARIABLES',
  'S_THREAD_LOCAL_VARIABLE_POINTERS',
  'S_THREAD_LOCAL_INIT_FUNCTION_POINTERS',
  'S_INIT_FUNC_OFFSETS',
] as const;

export type SectionType = (typeof SECTION_TYPES)[number];

const S_ATTR_PURE_INSTRUCTIONS = 0x80000000;
const S_ATTR_DEBUG = 0x02000000;
const S_ATTR_SOME_INSTRUCTIONS = 0x00000400;

/** Segments whose regular sections the program writes (or dyld writes before sealing). */
const DATA_SEGMENTS: ReadonlySet<string> = new Set(['__DATA', '__DATA_CONST']);

/** The named type for a numeric one, or undefined when loader.h defines no such type. */
export function sectionTypeOf(flags: number): SectionType | undefined {
  return SECTION_TYPES[flags & SECTION_TYPE_MASK];
}

/** Zero-filled types occupy no bytes in the file; their `offset` field means nothing. */
export function isZeroFill(type: SectionType): boolean {
  return type === 'S_ZEROFILL' || type === 'S_GB_ZEROFILL' || type === 'S_THREAD_LOCAL_ZEROFILL';
}

/**
 * Decides what a section holds from its type and attribute bits. The
 * segment/section names are consulted in only two places, each because the
 * flags cannot tell:
 *
 * - Unwind info. `__LD,__compact_unwind` is S_REGULAR with S_ATTR_DEBUG,
 *   bit for bit the flags of a DWARF section; `__TEXT,__eh_frame` is
 *   S_COALESCED with NO_TOC|STRIP_STATIC_SYMS|LIVE_SUPPORT, which any
 *   coalesced section may also carry. ld64 and lld both find these two by
 *   name, so we do too, and before the debug check.
 * - Writable versus read-only regular data. An object has one unnamed
 *   segment mapped rwx, so protections say nothing; the section's intended
 *   segment (`__DATA`, `__DATA_CONST`) is the only record of where it goes.
 */
export function classifySection(type: SectionType, flags: number, segment: string, name: string): SectionKind {
  if ((segment === '__LD' && name === '__compact_unwind') || (segment === '__TEXT' && name === '__eh_frame')) {
    return 'unwind';
  }
  if ((flags & S_ATTR_DEBUG) !== 0) return 'metadata';
  const hasInstructions = (flags & (S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS)) !== 0;

  switch (type) {
    case 'S_REGULAR':
    case 'S_COALESCED':
      if (hasInstructions) return 'code';
      return DATA_SEGMENTS.has(segment) ? 'data' : 'read-only';
    case 'S_SYMBOL_STUBS':
      return 'code';
    case 'S_ZEROFILL':
    case 'S_GB_ZEROFILL':
      return 'bss';
    case 'S_CSTRING_LITERALS':
    case 'S_4BYTE_LITERALS':
    case 'S_8BYTE_LITERALS':
    case 'S_16BYTE_LITERALS':
    case 'S_LITERAL_POINTERS':
    case 'S_INIT_FUNC_OFFSETS':
      return 'read-only';
    case 'S_NON_LAZY_SYMBOL_POINTERS':
    case 'S_LAZY_SYMBOL_POINTERS':
    case 'S_LAZY_DYLIB_SYMBOL_POINTERS':
    case 'S_MOD_INIT_FUNC_POINTERS':
    case 'S_MOD_TERM_FUNC_POINTERS':
    case 'S_INTERPOSING':
    case 'S_THREAD_LOCAL_VARIABLE_POINTERS':
    case 'S_THREAD_LOCAL_INIT_FUNCTION_POINTERS':
      // Pointer tables: dyld (or the program) writes them.
      return 'data';
    case 'S_THREAD_LOCAL_REGULAR':
      return 'tls-data';
    case 'S_THREAD_LOCAL_ZEROFILL':
      return 'tls-bss';
    case 'S_THREAD_LOCAL_VARIABLES':
      // `__thread_vars` holds the TLV descriptors; the descriptor's symbol is
      // the one code names (through TLV/TLVP relocations), so it must read as
      // thread-local even though the descriptor itself is not per-thread.
      return 'tls-data';
    case 'S_DTRACE_DOF':
      return 'metadata';
    default:
      return assertNever(type);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled section type ${String(value)}`);
}
