/**
 * A fast 64-bit non-cryptographic hash (two 32-bit multiply-xorshift lanes).
 * Fingerprints only need to tell builds apart, not resist attackers, and a
 * per-symbol `crypto.createHash` costs more than hashing the bytes themselves.
 *
 * Every method folds bytes one at a time into the two lanes; the loops keep
 * the lanes in locals because the diff hashes every relocation target's name,
 * and a call per byte was a third of the diff's time.
 */
export class Hasher {
  private a = 0x9e3779b9;
  private b = 0x85ebca6b;

  byte(value: number): void {
    this.a = Math.imul(this.a ^ value, 0x01000193);
    this.b = Math.imul(this.b ^ value, 0x5bd1e995);
  }

  bytes(data: Uint8Array, start: number, end: number): void {
    let a = this.a;
    let b = this.b;
    for (let i = start; i < end; i++) {
      const value = data[i]!;
      a = Math.imul(a ^ value, 0x01000193);
      b = Math.imul(b ^ value, 0x5bd1e995);
    }
    this.a = a;
    this.b = b;
  }

  number(value: number): void {
    this.u32(value >>> 0);
    this.u32(Math.floor(value / 0x100000000) >>> 0);
  }

  bigint(value: bigint): void {
    // Addends are small: the same two's-complement halves come from a number without allocating bigints.
    if (value >= -0x20000000000000 && value <= 0x20000000000000) {
      this.number(Number(value));
      return;
    }
    this.u32(Number(value & 0xffffffffn));
    this.u32(Number((value >> 32n) & 0xffffffffn));
  }

  string(value: string): void {
    this.chars(value);
    this.terminate();
  }

  /** The same as `string(first + second)`, without building the joined string. */
  strings(first: string, second: string): void {
    this.chars(first);
    this.chars(second);
    this.terminate();
  }

  digest(): string {
    let a = this.a ^ (this.b >>> 15);
    let b = this.b ^ (this.a >>> 13);
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
    return hex8(a, b);
  }

  /** Each UTF-16 unit as its low byte, then its high byte. */
  private chars(value: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      const low = code & 0xff;
      const high = code >>> 8;
      a = Math.imul(Math.imul(a ^ low, 0x01000193) ^ high, 0x01000193);
      b = Math.imul(Math.imul(b ^ low, 0x5bd1e995) ^ high, 0x5bd1e995);
    }
    this.a = a;
    this.b = b;
  }

  /** Terminate strings so that ("ab","c") and ("a","bc") differ. */
  private terminate(): void {
    this.byte(0xff);
    this.byte(0xff);
  }

  /** Little-endian, one byte at a time. */
  private u32(value: number): void {
    let a = this.a;
    let b = this.b;
    for (let shift = 0; shift < 32; shift += 8) {
      const byte = (value >>> shift) & 0xff;
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b ^ byte, 0x5bd1e995);
    }
    this.a = a;
    this.b = b;
  }
}

const HEX = [...'0123456789abcdef'].map((digit) => digit.charCodeAt(0));

/** Both lanes as 16 lowercase hex digits; one string, which a digest per atom makes worth the length. */
function hex8(a: number, b: number): string {
  return String.fromCharCode(
    HEX[(a >>> 28) & 15]!, HEX[(a >>> 24) & 15]!, HEX[(a >>> 20) & 15]!, HEX[(a >>> 16) & 15]!,
    HEX[(a >>> 12) & 15]!, HEX[(a >>> 8) & 15]!, HEX[(a >>> 4) & 15]!, HEX[a & 15]!,
    HEX[(b >>> 28) & 15]!, HEX[(b >>> 24) & 15]!, HEX[(b >>> 20) & 15]!, HEX[(b >>> 16) & 15]!,
    HEX[(b >>> 12) & 15]!, HEX[(b >>> 8) & 15]!, HEX[(b >>> 4) & 15]!, HEX[b & 15]!,
  );
}
