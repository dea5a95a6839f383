import { ByteReader } from '../object/byte-reader.js';
import { DebugInfoError } from './errors.js';

/**
 * The project's bounds-checked ByteReader with a moving position and the
 * variable-length integers of DWARF. Every failure, including those of the
 * inherited fixed-width reads, becomes a DebugInfoError naming the object and
 * the DWARF section, so no RangeError or ObjectFormatError escapes.
 */
export class DwarfReader extends ByteReader {
  pos = 0;

  constructor(
    file: string,
    readonly section: string,
    bytes: Uint8Array,
  ) {
    super(file, bytes);
  }

  override fail(structure: string, offset: number, detail: string): never {
    throw new DebugInfoError(this.file, this.section, offset, `${structure}: ${detail}`);
  }

  readU8(what: string): number {
    const value = this.bytes[this.pos];
    if (value === undefined) this.fail(what, this.pos, 'runs past the end of the section');
    this.pos++;
    return value;
  }

  readU16(what: string): number {
    const value = this.u16(what, this.pos);
    this.pos += 2;
    return value;
  }

  readU24(what: string): number {
    this.check(what, this.pos, 3);
    const b = this.bytes;
    const value = b[this.pos]! | (b[this.pos + 1]! << 8) | (b[this.pos + 2]! << 16);
    this.pos += 3;
    return value;
  }

  readU32(what: string): number {
    const value = this.u32(what, this.pos);
    this.pos += 4;
    return value;
  }

  /** An 8-byte value that must fit a JavaScript number (offsets, sizes). */
  readU64(what: string): number {
    const value = this.u64AsNumber(what, this.pos);
    this.pos += 8;
    return value;
  }

  readU64Big(what: string): bigint {
    const value = this.u64(what, this.pos);
    this.pos += 8;
    return value;
  }

  /** A section offset: 4 bytes in 32-bit DWARF, 8 in 64-bit DWARF. */
  readOffset(what: string, offsetSize: number): number {
    return offsetSize === 4 ? this.readU32(what) : this.readU64(what);
  }

  /** An unsigned LEB128 that must fit a JavaScript number. */
  readUleb(what: string): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[pos];
      if (byte === undefined) this.fail(what, start, 'LEB128 runs past the end of the section');
      pos++;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
      if (scale > 2 ** 56) this.fail(what, start, 'LEB128 value is too large');
    }
    if (!Number.isSafeInteger(result)) this.fail(what, start, 'LEB128 value is too large');
    this.pos = pos;
    return result;
  }

  /** A signed LEB128 that must fit a JavaScript number. */
  readSleb(what: string): number {
    const start = this.pos;
    const value = this.readSlebBig(what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(what, start, 'LEB128 value is too large');
    return Number(value);
  }

  /** An unsigned LEB128 of up to 128 bits (constants of u128 enums). */
  readUlebBig(what: string): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.readU8(what);
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7n;
      if (shift > 140n) this.fail(what, start, 'LEB128 value is too large');
    }
    return result;
  }

  readSlebBig(what: string): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    let byte: number;
    do {
      byte = this.readU8(what);
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (shift > 147n) this.fail(what, start, 'LEB128 value is too large');
    } while (byte >= 0x80);
    if (byte & 0x40) result -= 1n << shift;
    return result;
  }

  /** Step over a LEB128 without decoding it. */
  skipLeb(what: string): void {
    const bytes = this.bytes;
    let pos = this.pos;
    for (;;) {
      const byte = bytes[pos];
      if (byte === undefined) this.fail(what, this.pos, 'LEB128 runs past the end of the section');
      pos++;
      if (byte < 0x80) break;
    }
    this.pos = pos;
  }

  /** Move past `size` bytes, which must lie inside the section. */
  skip(what: string, size: number): void {
    this.check(what, this.pos, size);
    this.pos += size;
  }

  /** A little-endian unsigned integer of `size` bytes (block-encoded constants). */
  readBlockConstant(what: string, size: number): bigint {
    // Constants are at most 128 bits; a longer block is corrupt (and would be slow to fold).
    if (size > 16) this.fail(what, this.pos, `constant of ${size} bytes is longer than 16`);
    const bytes = this.slice(what, this.pos, size);
    this.pos += size;
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    return value;
  }

  /** Position just past the NUL ending the inline string at the current position. */
  skipCString(what: string): void {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) this.fail(what, this.pos, 'string is not NUL-terminated');
    this.pos = end + 1;
  }
}
