import { ProtocolError } from './protocol-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A bounds-checked cursor over one payload. Every read names the field it
 * reads, so an error says which field was truncated or garbled and where.
 */
export class WireReader {
  private readonly view: DataView;
  private offset = 0;

  constructor(private readonly input: Uint8Array) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get remaining(): number {
    return this.input.byteLength - this.offset;
  }

  fail(field: string, detail: string): never {
    throw new ProtocolError(`${field} at offset ${this.offset}: ${detail}`);
  }

  private need(field: string, size: number): void {
    if (size > this.remaining) {
      this.fail(field, `needs ${size} bytes but only ${this.remaining} are left (truncated message)`);
    }
  }

  u8(field: string): number {
    this.need(field, 1);
    const value = this.view.getUint8(this.offset);
    this.offset += 1;
    return value;
  }

  bool(field: string): boolean {
    const value = this.u8(field);
    if (value > 1) {
      this.offset -= 1;
      this.fail(field, `expected 0 or 1, got ${value}`);
    }
    return value === 1;
  }

  /** A one-byte index into `values`; an error points at the byte itself, as for `bool`. */
  oneOf<T>(field: string, values: readonly T[]): T {
    const value = this.u8(field);
    if (value >= values.length) {
      this.offset -= 1;
      const indices = values.map((_, index) => String(index));
      const expected = indices.length > 1 ? `${indices.slice(0, -1).join(', ')} or ${indices.at(-1)}` : (indices[0] ?? 'nothing');
      this.fail(field, `expected ${expected}, got ${value}`);
    }
    return values[value]!;
  }

  /** A byte that must be one of `values`; an error points at the byte itself, as for `bool`. */
  u8In<T extends number>(field: string, values: readonly T[]): T {
    const value = this.u8(field);
    if (!values.includes(value as T)) {
      this.offset -= 1;
      const expected = values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${String(values.at(-1))}` : String(values[0]);
      this.fail(field, `expected ${expected}, got ${value}`);
    }
    return value as T;
  }

  u32(field: string): number {
    this.need(field, 4);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(field: string): bigint {
    this.need(field, 8);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /**
   * A plain `Uint8Array` copy (even when the input is a Buffer), so the
   * message does not pin the whole receive buffer and compares equal to
   * the same message built by hand.
   */
  bytes(field: string): Uint8Array {
    const length = this.u32(field);
    this.need(field, length);
    const value = new Uint8Array(this.input.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  string(field: string): string {
    const start = this.offset;
    const raw = this.bytes(field);
    try {
      return utf8.decode(raw);
    } catch {
      throw new ProtocolError(`${field} at offset ${start}: not valid UTF-8`);
    }
  }
}
