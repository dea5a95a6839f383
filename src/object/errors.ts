/**
 * Every malformed input surfaces as one `ObjectFormatError` that names the
 * file, the structure being read and the byte offset, so a user can tell a
 * truncated build artifact from a bug in ipbp.
 */
export class ObjectFormatError extends Error {
  override readonly name = 'ObjectFormatError';
  constructor(
    readonly file: string,
    readonly structure: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`${file}: invalid ${structure} at offset 0x${offset.toString(16)}: ${detail}`);
  }
}
