import { ObjectFormatError } from '../object/errors.js';

/**
 * Malformed or unsupported debug info in one object: an object format error
 * whose structure is the DWARF of one section, so the message is one line
 * naming the object, the section and the offset, and a corrupt build
 * artifact reads as such and not as a crash of ipbp. Callers can fall back
 * to treating the layouts as unknown.
 */
export class DebugInfoError extends ObjectFormatError {
  override readonly name = 'DebugInfoError';

  constructor(
    file: string,
    readonly section: string,
    offset: number,
    detail: string,
  ) {
    super(file, `DWARF in ${section}`, offset, detail);
  }
}
