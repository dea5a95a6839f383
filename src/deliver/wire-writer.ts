import { ProtocolError } from './protocol-error.js';

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;

/**
 * Builds one payload. Values outside their wire type are refused with a
 * `ProtocolError` rather than silently wrapped, since a wrapped address
 * would redirect the wrong function.
 */
export class WireWriter {
  private buffer = Buffer.alloc(64);
  private length = 0;

  private reserve(size: number): void {
    if (this.length + size <= this.buffer.length) return;
    const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + size));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  u8(field: string, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new ProtocolError(`${field}: ${value} is not a u8`);
    this.reserve(1);
    this.buffer.writeUInt8(value, this.length);
    this.length += 1;
  }

  u32(field: string, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new ProtocolError(`${field}: ${value} is not a u32`);
    this.reserve(4);
    this.buffer.writeUInt32LE(value, this.length);
    this.length += 4;
  }

  u64(field: string, value: bigint): void {
    if (value < 0n || value > U64_MAX) throw new ProtocolError(`${field}: ${value} is not a u64`);
    this.reserve(8);
    this.buffer.writeBigUInt64LE(value, this.length);
    this.length += 8;
  }

  bytes(field: string, value: Uint8Array): void {
    this.u32(`${field}.length`, value.byteLength);
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
  }

  string(field: string, value: string): void {
    this.bytes(field, Buffer.from(value, 'utf8'));
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
