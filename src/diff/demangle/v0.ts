/**
 * Rust's v0 mangling (RFC 2603, `-C symbol-mangling-version=v0`):
 * `_R` path [instantiating-crate] [vendor-suffix]. The grammar is a prefix
 * code, so the demangler prints while it parses, in one pass.
 */

import { isVendorSuffix } from './legacy.js';

/**
 * `verbose` shows crate disambiguators (`core[1a2b…]::fmt`) and the types of
 * const arguments (`3: usize`), like binutils; `concise` shows neither, which
 * makes the name stable across builds.
 */
export type V0Style = 'verbose' | 'concise';

export interface V0Symbol {
  /** Readable path, e.g. `<alloc::vec::Vec<u8> as core::fmt::Debug>::fmt`. */
  readonly path: string;
  /** The vendor suffix (`.llvm.123`, `$tlv$init`), verbatim; the instantiating crate is never shown. */
  readonly suffix: string;
}

/** Mach-O adds one underscore to every C-level name. */
const PREFIXES = ['__R', '_R'] as const;

/** Deeper than any real symbol; keeps hostile nesting far from the JS stack limit. */
const MAX_DEPTH = 500;
/** Backrefs can expand a short symbol exponentially; these bound the work per symbol. */
const MAX_STEPS = 1_000_000;
const MAX_OUTPUT_CHARS = 1_000_000;
/** More bound lifetimes than any real `for<…>`; a bigger count only produces output. */
const MAX_BINDER_LIFETIMES = 1000;

/** Returns null when `symbol` is not a well-formed v0 Rust symbol. */
export function parseV0Symbol(symbol: string, style: V0Style): V0Symbol | null {
  const prefix = PREFIXES.find((candidate) => symbol.startsWith(candidate));
  if (prefix === undefined) return null;
  // Backref offsets count from just after `_R`, so the printer sees only that part.
  const printer = new V0Printer(symbol.slice(prefix.length), style === 'verbose');
  try {
    return printer.printSymbol();
  } catch (error) {
    if (error === MALFORMED) return null;
    throw error;
  }
}

class MalformedSymbolError extends Error {
  override readonly name = 'MalformedSymbolError';
}

/** One shared instance: malformed input is common enough that a stack trace per symbol would cost. */
const MALFORMED = new MalformedSymbolError('malformed v0 symbol');

function fail(): never {
  throw MALFORMED;
}

interface Identifier {
  readonly start: number;
  readonly end: number;
  readonly isPunycode: boolean;
}

const BASIC_TYPES: Readonly<Record<string, string>> = {
  a: 'i8',
  b: 'bool',
  c: 'char',
  d: 'f64',
  e: 'str',
  f: 'f32',
  h: 'u8',
  i: 'isize',
  j: 'usize',
  l: 'i32',
  m: 'u32',
  n: 'i128',
  o: 'u128',
  s: 'i16',
  t: 'u16',
  u: '()',
  v: '...',
  x: 'i64',
  y: 'u64',
  z: '!',
  p: '_',
};

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const UNSIGNED_TAGS = 'htmyoj';
const SIGNED_TAGS = 'aslxni';

class V0Printer {
  private pos = 0;
  private readonly out: string[] = [];
  private outputChars = 0;
  /** While positive, output is discarded: impl paths and the instantiating crate are parsed but not shown. */
  private muted = 0;
  private depth = 0;
  private steps = 0;
  /** Lifetimes bound by enclosing `for<…>` binders; lifetime indices count down from here. */
  private boundLifetimes = 0;

  constructor(
    private readonly sym: string,
    private readonly verbose: boolean,
  ) {}

  printSymbol(): V0Symbol {
    // A leading digit would be an encoding version; only version 0 (absent) exists.
    if (!isUpper(this.peek())) fail();
    this.printPath(true);
    if (isUpper(this.peek())) this.whileMuted(() => this.printPath(false));
    const suffix = this.sym.slice(this.pos);
    if (!isVendorSuffix(suffix)) fail();
    return { path: this.out.join(''), suffix };
  }

  // ---- paths -------------------------------------------------------------

  /** `inValue` paths are expressions, so generic arguments need a turbofish: `f::<u8>`. */
  private printPath(inValue: boolean): void {
    this.enter();
    const tag = this.next();
    switch (tag) {
      case 'C':
        this.printCrateRoot();
        break;
      case 'N':
        this.printNestedPath(inValue);
        break;
      case 'M':
      case 'X':
        this.skipImplPath();
        this.write('<');
        this.printType();
        if (tag === 'X') {
          this.write(' as ');
          this.printPath(false);
        }
        this.write('>');
        break;
      case 'Y':
        this.write('<');
        this.printType();
        this.write(' as ');
        this.printPath(false);
        this.write('>');
        break;
      case 'I':
        this.printPath(inValue);
        this.write(inValue ? '::<' : '<');
        this.printGenericArgs();
        this.write('>');
        break;
      case 'B':
        this.followBackref(() => this.printPath(inValue));
        break;
      default:
        fail();
    }
    this.leave();
  }

  private printCrateRoot(): void {
    const disambiguator = this.parseDisambiguator();
    this.printIdentifier(this.parseUndisambiguatedIdentifier());
    // A zero disambiguator marks a pseudo-crate such as `C4f128` (a basic type without a tag of its own).
    if (this.verbose && disambiguator !== '') this.write(`[${crateHashHex(disambiguator)}]`);
  }

  private printNestedPath(inValue: boolean): void {
    const namespace = this.next();
    if (!isAsciiLetter(namespace)) fail();
    this.printPath(inValue);
    const disambiguator = this.parseDisambiguator();
    const name = this.parseUndisambiguatedIdentifier();
    const hasName = name.end > name.start;
    if (isUpper(namespace)) {
      // Special namespaces name unnameable things: `{closure#0}`, `{shim:vtable#0}`.
      this.write('::{');
      this.write(namespace === 'C' ? 'closure' : namespace === 'S' ? 'shim' : namespace);
      if (hasName) {
        this.write(':');
        this.printIdentifier(name);
      }
      this.write(`#${disambiguatorValue(disambiguator).toString(10)}}`);
    } else if (hasName) {
      // Lowercase namespaces are compiler-internal categories that are never shown.
      this.write('::');
      this.printIdentifier(name);
    }
  }

  /** Which impl block an item came from is noise to a reader; only its `Self` type and trait are shown. */
  private skipImplPath(): void {
    this.whileMuted(() => {
      this.parseDisambiguator();
      this.printPath(false);
    });
  }

  private printGenericArgs(): void {
    for (let index = 0; !this.eat('E'); index++) {
      if (index > 0) this.write(', ');
      if (this.eat('L')) this.printLifetime(this.parseBase62());
      else if (this.eat('K')) this.printConst(false);
      else this.printType();
    }
  }

  // ---- types -------------------------------------------------------------

  private printType(): void {
    this.enter();
    const tag = this.next();
    const basic = BASIC_TYPES[tag];
    if (basic !== undefined) {
      this.write(basic);
      this.leave();
      return;
    }
    switch (tag) {
      case 'R':
      case 'Q':
        this.write('&');
        if (this.eat('L')) {
          const lifetime = this.parseBase62();
          // Erased lifetimes are implied by `&` and only add noise.
          if (lifetime !== 0) {
            this.printLifetime(lifetime);
            this.write(' ');
          }
        }
        if (tag === 'Q') this.write('mut ');
        this.printType();
        break;
      case 'P':
        this.write('*const ');
        this.printType();
        break;
      case 'O':
        this.write('*mut ');
        this.printType();
        break;
      case 'A':
        this.write('[');
        this.printType();
        this.write('; ');
        this.printConst(false);
        this.write(']');
        break;
      case 'S':
        this.write('[');
        this.printType();
        this.write(']');
        break;
      case 'T':
        this.printTuple(() => this.printType());
        break;
      case 'F':
        this.printFnType();
        break;
      case 'D':
        this.printDynType();
        break;
      case 'B':
        this.followBackref(() => this.printType());
        break;
      case 'C':
      case 'M':
      case 'X':
      case 'Y':
      case 'N':
      case 'I':
        this.pos--;
        this.printPath(false);
        break;
      default:
        fail();
    }
    this.leave();
  }

  /** Shared by tuple types and tuple constants; a one-element tuple needs its trailing comma. */
  private printTuple(printElement: () => void): void {
    this.write('(');
    let count = 0;
    for (; !this.eat('E'); count++) {
      if (count > 0) this.write(', ');
      printElement();
    }
    if (count === 1) this.write(',');
    this.write(')');
  }

  private printFnType(): void {
    this.withBinder(() => {
      const isUnsafe = this.eat('U');
      let abi: string | undefined;
      if (this.eat('K')) {
        if (this.eat('C')) {
          abi = 'C';
        } else {
          const name = this.parseUndisambiguatedIdentifier();
          if (name.isPunycode) fail();
          // Dashes are not symbol characters, so `C-unwind` is mangled as `C_unwind`.
          abi = this.sym.slice(name.start, name.end).replaceAll('_', '-');
        }
      }
      if (isUnsafe) this.write('unsafe ');
      if (abi !== undefined) this.write(`extern "${abi}" `);
      this.write('fn(');
      for (let index = 0; !this.eat('E'); index++) {
        if (index > 0) this.write(', ');
        this.printType();
      }
      this.write(')');
      if (!this.eat('u')) {
        this.write(' -> ');
        this.printType();
      }
    });
  }

  private printDynType(): void {
    this.write('dyn ');
    this.withBinder(() => {
      for (let index = 0; !this.eat('E'); index++) {
        if (index > 0) this.write(' + ');
        this.printDynTrait();
      }
    });
    if (!this.eat('L')) fail();
    const lifetime = this.parseBase62();
    if (lifetime !== 0) {
      this.write(' + ');
      this.printLifetime(lifetime);
    }
  }

  /** Associated type bindings join the trait's own generic list: `Fn<(u8,), Output = u8>`. */
  private printDynTrait(): void {
    let genericsOpen = this.printPathLeavingGenericsOpen();
    while (this.eat('p')) {
      this.write(genericsOpen ? ', ' : '<');
      genericsOpen = true;
      this.printIdentifier(this.parseUndisambiguatedIdentifier());
      this.write(' = ');
      this.printType();
    }
    if (genericsOpen) this.write('>');
  }

  /** Returns whether it printed `Path<args` without the closing `>`. */
  private printPathLeavingGenericsOpen(): boolean {
    this.enter();
    let genericsOpen = false;
    if (this.eat('B')) {
      genericsOpen = this.followBackref(() => this.printPathLeavingGenericsOpen()) ?? false;
    } else if (this.eat('I')) {
      this.printPath(false);
      this.write('<');
      this.printGenericArgs();
      genericsOpen = true;
    } else {
      this.printPath(false);
    }
    this.leave();
    return genericsOpen;
  }

  // ---- lifetimes ---------------------------------------------------------

  private withBinder(printBound: () => void): void {
    if (!this.eat('G')) {
      printBound();
      return;
    }
    const count = this.parseBase62() + 1;
    if (count > MAX_BINDER_LIFETIMES) fail();
    this.write('for<');
    for (let index = 0; index < count; index++) {
      if (index > 0) this.write(', ');
      this.write(lifetimeName(this.boundLifetimes + index));
    }
    this.write('> ');
    this.boundLifetimes += count;
    printBound();
    this.boundLifetimes -= count;
  }

  /** Indices are de Bruijn indices: 1 is the innermost bound lifetime, 0 an erased one. */
  private printLifetime(index: number): void {
    if (index === 0) {
      this.write("'_");
      return;
    }
    const level = this.boundLifetimes - index;
    if (level < 0) fail();
    this.write(lifetimeName(level));
  }

  // ---- constants ---------------------------------------------------------

  /**
   * `inValue` is false in generic-argument and array-length position, where
   * anything but a literal needs braces to be valid Rust: `S<{ Pt { x: 1 } }>`.
   */
  private printConst(inValue: boolean): void {
    this.enter();
    const tag = this.next();
    let braced = false;
    const openBraces = (): void => {
      if (inValue) return;
      this.write('{ ');
      braced = true;
    };
    switch (tag) {
      case 'p':
        this.write('_');
        break;
      case 'b':
        this.printBoolConst();
        this.writeConstType(tag, inValue);
        break;
      case 'c':
        this.write(quoteChar(this.parseCharCodePoint()));
        this.writeConstType(tag, inValue);
        break;
      case 'e':
        // The constant has type `str`; `*"…"` is what dereferencing the literal's `&str` gives.
        openBraces();
        this.write('*');
        this.printStrConst();
        break;
      case 'R':
      case 'Q':
        if (tag === 'R' && this.eat('e')) {
          this.printStrConst();
        } else {
          openBraces();
          this.write(tag === 'R' ? '&' : '&mut ');
          this.printConst(true);
        }
        break;
      case 'A':
        openBraces();
        this.write('[');
        this.printConstList();
        this.write(']');
        break;
      case 'T':
        openBraces();
        this.printTuple(() => this.printConst(true));
        break;
      case 'V':
        openBraces();
        this.printVariantConst();
        break;
      case 'B':
        this.followBackref(() => this.printConst(inValue));
        break;
      default:
        if (!UNSIGNED_TAGS.includes(tag) && !SIGNED_TAGS.includes(tag)) fail();
        if (SIGNED_TAGS.includes(tag) && this.eat('n')) this.write('-');
        this.write(hexToDisplay(this.parseHexDigits()));
        this.writeConstType(tag, inValue);
    }
    if (braced) this.write(' }');
    this.leave();
  }

  /** Verbose output types a literal argument like binutils does (`3: usize`); inside a value the type is implied. */
  private writeConstType(tag: string, inValue: boolean): void {
    if (this.verbose && !inValue) this.write(`: ${BASIC_TYPES[tag] ?? fail()}`);
  }

  private printConstList(): void {
    for (let index = 0; !this.eat('E'); index++) {
      if (index > 0) this.write(', ');
      this.printConst(true);
    }
  }

  private printBoolConst(): void {
    const digits = this.parseHexDigits().replace(/^0+/, '');
    if (digits === '') this.write('false');
    else if (digits === '1') this.write('true');
    else fail();
  }

  private parseCharCodePoint(): number {
    const digits = this.parseHexDigits().replace(/^0+/, '');
    if (digits.length > 6) fail();
    const codePoint = digits === '' ? 0 : Number.parseInt(digits, 16);
    if (!isScalarValue(codePoint)) fail();
    return codePoint;
  }

  /** String constants are their UTF-8 bytes in hex. */
  private printStrConst(): void {
    const digits = this.parseHexDigits();
    if (digits.length % 2 !== 0) fail();
    let text: string;
    try {
      text = STRICT_UTF8.decode(Buffer.from(digits, 'hex'));
    } catch {
      fail();
    }
    this.write(quoteString(text));
  }

  private printVariantConst(): void {
    this.printPath(true);
    const shape = this.next();
    switch (shape) {
      case 'U':
        break;
      case 'T':
        this.write('(');
        this.printConstList();
        this.write(')');
        break;
      case 'S':
        this.write(' { ');
        for (let index = 0; !this.eat('E'); index++) {
          if (index > 0) this.write(', ');
          this.parseDisambiguator();
          this.printIdentifier(this.parseUndisambiguatedIdentifier());
          this.write(': ');
          this.printConst(true);
        }
        this.write(' }');
        break;
      default:
        fail();
    }
  }

  // ---- lexical pieces ----------------------------------------------------

  /** Backrefs point strictly backwards, so following them terminates; depth and steps bound the cost. */
  private followBackref<T>(printTarget: () => T): T | undefined {
    const tagPos = this.pos - 1;
    const target = this.parseBase62();
    if (target >= tagPos) fail();
    // Muted parsing only needs to get past the backref, not to render what it points at.
    if (this.muted > 0) return undefined;
    const resume = this.pos;
    this.pos = target;
    const result = printTarget();
    this.pos = resume;
    return result;
  }

  /** Returns the base-62 digits of `s<digits>_`, or '' when there is no disambiguator (value 0). */
  private parseDisambiguator(): string {
    if (!this.eat('s')) return '';
    const digits = this.parseBase62Digits();
    // `s_` (value 1) must stay distinguishable from an absent disambiguator.
    return digits === '' ? '_' : digits;
  }

  /** A base-62 number used as an offset, index or count; anything beyond 62^8 cannot be valid here. */
  private parseBase62(): number {
    const digits = this.parseBase62Digits();
    if (digits === '') return 0;
    if (digits.length > 8) fail();
    return Number(base62Decode(digits)) + 1;
  }

  private parseBase62Digits(): string {
    const start = this.pos;
    while (isBase62Digit(this.peek())) this.pos++;
    const digits = this.sym.slice(start, this.pos);
    if (!this.eat('_')) fail();
    return digits;
  }

  private parseHexDigits(): string {
    const start = this.pos;
    while (isLowerHexDigit(this.peek())) this.pos++;
    const digits = this.sym.slice(start, this.pos);
    if (!this.eat('_')) fail();
    return digits;
  }

  private parseUndisambiguatedIdentifier(): Identifier {
    const isPunycode = this.eat('u');
    const length = this.parseDecimal();
    // The separator is only required when the name starts with a digit or `_`, but is always allowed.
    this.eat('_');
    const start = this.pos;
    const end = start + length;
    if (end > this.sym.length) fail();
    this.pos = end;
    return { start, end, isPunycode };
  }

  private parseDecimal(): number {
    const first = this.next();
    if (!isDigit(first)) fail();
    // `0` is a complete number: a zero-length identifier may be followed by another length.
    if (first === '0') return 0;
    let value = Number(first);
    while (isDigit(this.peek())) {
      value = value * 10 + Number(this.next());
      if (value > this.sym.length) fail();
    }
    return value;
  }

  private printIdentifier(identifier: Identifier): void {
    if (this.muted > 0) return;
    const raw = this.sym.slice(identifier.start, identifier.end);
    this.write(identifier.isPunycode ? (decodePunycode(raw) ?? fail()) : raw);
  }

  // ---- plumbing ----------------------------------------------------------

  private whileMuted(parse: () => void): void {
    this.muted++;
    parse();
    this.muted--;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH || ++this.steps > MAX_STEPS) fail();
  }

  private leave(): void {
    this.depth--;
  }

  private write(text: string): void {
    if (this.muted > 0) return;
    this.outputChars += text.length;
    if (this.outputChars > MAX_OUTPUT_CHARS) fail();
    this.out.push(text);
  }

  private peek(): string {
    return this.sym[this.pos] ?? '';
  }

  private next(): string {
    const char = this.sym[this.pos];
    if (char === undefined) fail();
    this.pos++;
    return char;
  }

  private eat(expected: string): boolean {
    if (this.sym[this.pos] !== expected) return false;
    this.pos++;
    return true;
  }
}

// ---- numbers -------------------------------------------------------------

function base62Decode(digits: string): bigint {
  let value = 0n;
  for (const digit of digits) value = value * 62n + BigInt(base62DigitValue(digit));
  return value;
}

function base62DigitValue(digit: string): number {
  const code = digit.charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 10;
  return code - 0x41 + 36;
}

/** Disambiguators are 64-bit hashes; below 62^8 a double is exact and much cheaper than a bigint. */
function disambiguatorValue(digits: string): number | bigint {
  if (digits === '') return 0;
  if (digits === '_') return 1;
  if (digits.length <= 8) {
    let value = 0;
    for (const digit of digits) value = value * 62 + base62DigitValue(digit);
    return value + 2;
  }
  return base62Decode(digits) + 2n;
}

/** A binary references a few dozen crates thousands of times each, and bigint arithmetic is slow. */
const crateHashCache = new Map<string, string>();
const CRATE_HASH_CACHE_LIMIT = 4096;

function crateHashHex(digits: string): string {
  let hex = crateHashCache.get(digits);
  if (hex === undefined) {
    hex = disambiguatorValue(digits).toString(16);
    if (crateHashCache.size >= CRATE_HASH_CACHE_LIMIT) crateHashCache.clear();
    crateHashCache.set(digits, hex);
  }
  return hex;
}

/** Decimal when it fits in 64 bits, like other demanglers; wider values stay hex. */
function hexToDisplay(digits: string): string {
  const significant = digits.replace(/^0+/, '');
  if (significant === '') return '0';
  if (significant.length <= 13) return Number.parseInt(significant, 16).toString(10);
  if (significant.length <= 16) return BigInt(`0x${significant}`).toString(10);
  return `0x${significant}`;
}

function lifetimeName(level: number): string {
  return level < 26 ? `'${String.fromCharCode(0x61 + level)}` : `'_${level}`;
}

// ---- text ----------------------------------------------------------------

function quoteChar(codePoint: number): string {
  return `'${escapeCodePoint(codePoint, "'")}'`;
}

function quoteString(text: string): string {
  const out: string[] = ['"'];
  for (const char of text) out.push(escapeCodePoint(char.codePointAt(0) ?? 0, '"'));
  out.push('"');
  return out.join('');
}

function escapeCodePoint(codePoint: number, quote: "'" | '"'): string {
  switch (codePoint) {
    case 0x00:
      return '\\0';
    case 0x09:
      return '\\t';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x5c:
      return '\\\\';
    default: {
      const char = String.fromCodePoint(codePoint);
      if (char === quote) return `\\${quote}`;
      if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f)) return `\\u{${codePoint.toString(16)}}`;
      return char;
    }
  }
}

function isScalarValue(codePoint: number): boolean {
  return codePoint <= 0x10ffff && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
}

/** Longer than any real identifier; bounds the quadratic insertion below. */
const MAX_PUNYCODE_CODE_POINTS = 4096;

/**
 * RFC 3492 decoding, with the symbol-safe `_` in place of `-` as the
 * delimiter between the literal ASCII part and the encoded insertions.
 */
function decodePunycode(encoded: string): string | null {
  const BASE = 36;
  const T_MIN = 1;
  const T_MAX = 26;
  const delimiter = encoded.lastIndexOf('_');
  const codePoints: number[] = [];
  for (let i = 0; i < delimiter; i++) codePoints.push(encoded.charCodeAt(i));

  let codePoint = 128;
  let index = 0;
  let bias = 72;
  let pos = delimiter + 1;
  while (pos < encoded.length) {
    const previousIndex = index;
    let weight = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= encoded.length) return null;
      const digit = punycodeDigitValue(encoded.charCodeAt(pos++));
      if (digit < 0) return null;
      index += digit * weight;
      const threshold = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < threshold) break;
      weight *= BASE - threshold;
      if (index > 0x7fffffff || weight > 0x7fffffff) return null;
    }
    const length = codePoints.length + 1;
    bias = adaptBias(index - previousIndex, length, previousIndex === 0);
    codePoint += Math.floor(index / length);
    index %= length;
    if (!isScalarValue(codePoint) || length > MAX_PUNYCODE_CODE_POINTS) return null;
    codePoints.splice(index, 0, codePoint);
    index++;
  }
  return String.fromCodePoint(...codePoints);
}

function adaptBias(delta: number, length: number, isFirst: boolean): number {
  let scaled = isFirst ? Math.floor(delta / 700) : Math.floor(delta / 2);
  scaled += Math.floor(scaled / length);
  let k = 0;
  // 455 = ((BASE - T_MIN) * T_MAX) / 2
  while (scaled > 455) {
    scaled = Math.floor(scaled / 35);
    k += 36;
  }
  return k + Math.floor((36 * scaled) / (scaled + 38));
}

function punycodeDigitValue(code: number): number {
  if (code >= 0x61 && code <= 0x7a) return code - 0x61;
  if (code >= 0x41 && code <= 0x5a) return code - 0x41;
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 26;
  return -1;
}

// ---- character classes ---------------------------------------------------

// Callers pass one character, or '' at the end of input, which matches no class.

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

function isUpper(char: string): boolean {
  return char >= 'A' && char <= 'Z';
}

function isAsciiLetter(char: string): boolean {
  return isUpper(char) || (char >= 'a' && char <= 'z');
}

function isBase62Digit(char: string): boolean {
  return isDigit(char) || isAsciiLetter(char);
}

function isLowerHexDigit(char: string): boolean {
  return isDigit(char) || (char >= 'a' && char <= 'f');
}
