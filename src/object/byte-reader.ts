import { ObjectFormatError } from './errors.js';

/**
 * The single bounds-checked window through which every object format is
 * parsed. Reads never run past `bytes`, so a corrupt header field becomes an
 * `ObjectFormatError` instead of a RangeError or a giant allocation.
 */
export class ByteReader {
  private readonly view: DataView;
  /** Total length of the strings decoded so far; see STRING_BUDGET_PER_BYTE. */
  private stringBytes = 0;

  constructor(
    readonly file: string,
    readonly bytes: Uint8Array,
    readonly littleEndian = true,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  fail(structure: string, offset: number, detail: string): never {
    throw new ObjectFormatError(this.file, structure, offset, detail);
  }

  /** Throws unless `[offset, offset + size)` lies inside the buffer. */
  check(structure: string, offset: number, size: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 || offset + size > this.length) {
      this.fail(structure, offset, `needs ${size} bytes but the file has ${this.length}`);
    }
  }

  u8(structure: string, offset: number): number {
    this.check(structure, offset, 1);
    return this.view.getUint8(offset);
  }

  u16(structure: string, offset: number): number {
    this.check(structure, offset, 2);
    return this.view.getUint16(offset, this.littleEndian);
  }

  u32(structure: string, offset: number): number {
    this.check(structure, offset, 4);
    return this.view.getUint32(offset, this.littleEndian);
  }

  i32(structure: string, offset: number): number {
    this.check(structure, offset, 4);
    return this.view.getInt32(offset, this.littleEndian);
  }

  u64(structure: string, offset: number): bigint {
    this.check(structure, offset, 8);
    return this.view.getBigUint64(offset, this.littleEndian);
  }

  i64(structure: string, offset: number): bigint {
    this.check(structure, offset, 8);
    return this.view.getBigInt64(offset, this.littleEndian);
  }

  /** A 64-bit size or offset that must fit a JavaScript number to be usable. */
  u64AsNumber(structure: string, offset: number): number {
    const value = this.u64(structure, offset);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(structure, offset, `value 0x${value.toString(16)} is too large`);
    return Number(value);
  }

  /** A zero-copy view of `size` bytes. */
  slice(structure: string, offset: number, size: number): Uint8Array {
    this.check(structure, offset, size);
    return this.bytes.subarray(offset, offset + size);
  }

  /** A NUL-terminated string starting at `offset`, which must end inside `limit`. */
  cString(structure: string, offset: number, limit = this.length): string {
    this.check(structure, offset, 0);
    const end = this.bytes.indexOf(0, offset);
    if (end < 0 || end >= limit) this.fail(structure, offset, 'string is not NUL-terminated');
    // Names may share bytes (a string table merges suffixes), but thousands of
    // names pointing into one long run would decode gigabytes from a small file.
    this.stringBytes += end - offset;
    if (this.stringBytes > STRING_BUDGET_PER_BYTE * this.length + STRING_BUDGET_SLACK) {
      this.fail(structure, offset, `the names overlap: they add up to more than ${STRING_BUDGET_PER_BYTE} times the file size`);
    }
    return decodeName(this.bytes, offset, end);
  }

  /** A fixed-width field padded with NULs (Mach-O section and segment names). */
  fixedString(structure: string, offset: number, width: number): string {
    const field = this.slice(structure, offset, width);
    const nul = field.indexOf(0);
    return decodeName(field, 0, nul < 0 ? width : nul);
  }
}

/**
 * Decoded string bytes allowed per byte of input, plus a fixed slack. In real
 * files all names together come to under one byte per byte of file (0.67 at
 * most over the rlibs of bench/fixtures/diff-corpus, about 0.1 in executables).
 */
const STRING_BUDGET_PER_BYTE = 8;
const STRING_BUDGET_SLACK = 1 << 20;

const decoder = new TextDecoder('utf-8');

/** Symbol names are bytes; decoding as UTF-8 keeps Rust's v0 punycode-free names readable. */
function decodeName(bytes: Uint8Array, start: number, end: number): string {
  return decoder.decode(bytes.subarray(start, end));
}
