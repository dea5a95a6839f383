/**
 * A fast 64-bit non-cryptographic hash (two 32-bit multiply-xorshift lanes).
 * Fingerprints only need to tell builds apart, not resist attackers, and a
 * per-symbol `crypto.createHash` costs more than hashing the bytes themselves.
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
    this.u32(Number(value & 0xffffffffn));
    this.u32(Number((value >> 32n) & 0xffffffffn));
  }

  string(value: string): void {
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      this.byte(code & 0xff);
      this.byte(code >>> 8);
    }
    // Terminate so that ("ab","c") and ("a","bc") differ.
    this.byte(0xff);
    this.byte(0xff);
  }

  digest(): string {
    let a = this.a ^ (this.b >>> 15);
    let b = this.b ^ (this.a >>> 13);
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }

  private u32(value: number): void {
    this.byte(value & 0xff);
    this.byte((value >>> 8) & 0xff);
    this.byte((value >>> 16) & 0xff);
    this.byte(value >>> 24);
  }
}
