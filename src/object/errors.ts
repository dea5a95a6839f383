/**
 * Every malformed input surfaces as one `ObjectFormatError` that names the
 * file, the structure being read and the byte offset, so a user can tell a
 * truncated build artifact from a bug in ipbp.
 *
 * The message is always one line: names read from the file (a Mach-O
 * section name, say) can hold any byte, so control characters in every part
 * are escaped as `\xNN`.
 */
export class ObjectFormatError extends Error {
  override readonly name: string = 'ObjectFormatError';
  readonly file: string;
  readonly structure: string;
  readonly offset: number;
  readonly detail: string;

  constructor(file: string, structure: string, offset: number, detail: string) {
    const parts = { file: printable(file), structure: printable(structure), detail: printable(detail) };
    super(`${parts.file}: invalid ${parts.structure} at offset 0x${offset.toString(16)}: ${parts.detail}`);
    this.file = parts.file;
    this.structure = parts.structure;
    this.offset = offset;
    this.detail = parts.detail;
  }
}

/** `text` with C0 control characters and DEL as `\xNN`. */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
