import type { ObjectFile, Section } from './model.js';

const SHT_INIT_ARRAY = 14;
const SHT_FINI_ARRAY = 15;
const SHT_PREINIT_ARRAY = 16;
/** Mach-O section types (the low byte of the flags): `__mod_init_func`, `__mod_term_func`. */
const S_MOD_INIT_FUNC_POINTERS = 9;
const S_MOD_TERM_FUNC_POINTERS = 10;

/**
 * A table of functions the loader runs when the program starts or ends
 * (`.init_array`, `.fini_array`, `__mod_init_func`), by section type.
 */
export function isStartupTable(object: ObjectFile, section: Section): boolean {
  if (object.format === 'elf') return [SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY].includes(section.raw.type);
  return [S_MOD_INIT_FUNC_POINTERS, S_MOD_TERM_FUNC_POINTERS].includes(section.raw.type & 0xff);
}
