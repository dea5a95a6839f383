/**
 * Rust's legacy mangling: an Itanium-style nested name `_ZN` {len ident} `E`
 * whose last identifier is usually `h` + 16 hex digits, a hash of the crate
 * and the instantiation. Identifiers carry punctuation as `$..$` escapes and
 * `::` inside an identifier (e.g. in `<A as B>`) as `..`.
 */

export interface LegacySymbol {
  /** Readable path without the hash, e.g. `<lib::Circle as lib::Shape>::area`. */
  readonly path: string;
  /** The trailing `h0123…` element, when the symbol has one. */
  readonly hash: string | undefined;
  /** Whatever followed the closing `E` (`.llvm.123`, `$tlv$init`, …), verbatim. */
  readonly suffix: string;
}

/** Mach-O adds one underscore to every C-level name, hence `__ZN`; `ZN` is seen on some Windows tools. */
const PREFIXES = ['__ZN', '_ZN', 'ZN'] as const;

const HASH_ELEMENT = /^h[0-9a-fA-F]{16}$/;

/** Returns null when `symbol` is not a well-formed legacy Rust symbol. */
export function parseLegacySymbol(symbol: string): LegacySymbol | null {
  const prefix = PREFIXES.find((candidate) => symbol.startsWith(candidate));
  if (prefix === undefined) return null;

  const elements: string[] = [];
  let pos = prefix.length;
  while (pos < symbol.length && symbol.charCodeAt(pos) !== 0x45 /* E */) {
    const lengthStart = pos;
    let length = 0;
    while (pos < symbol.length && isDigit(symbol.charCodeAt(pos))) {
      length = length * 10 + (symbol.charCodeAt(pos) - 0x30);
      // Any length past the end is malformed; stopping here also keeps `length` exact.
      if (length > symbol.length) return null;
      pos++;
    }
    if (pos === lengthStart || pos + length > symbol.length) return null;
    elements.push(symbol.slice(pos, pos + length));
    pos += length;
  }
  if (pos >= symbol.length || elements.length === 0) return null;

  const suffix = symbol.slice(pos + 1);
  if (!isVendorSuffix(suffix)) return null;

  const last = elements[elements.length - 1];
  const hash = elements.length > 1 && last !== undefined && HASH_ELEMENT.test(last) ? last : undefined;
  const pathElements = hash === undefined ? elements : elements.slice(0, -1);
  return { path: pathElements.map(unescapeElement).join('::'), hash, suffix };
}

/** Accepts `.llvm.…`, `.cold`, `$tlv$init` and the like, but not C++ parameter lists after the name. */
export function isVendorSuffix(suffix: string): boolean {
  if (suffix === '') return true;
  if (suffix[0] !== '.' && suffix[0] !== '$') return false;
  for (let i = 0; i < suffix.length; i++) {
    const code = suffix.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) return false;
  }
  return true;
}

const NAMED_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['SP', '@'],
  ['BP', '*'],
  ['RF', '&'],
  ['LT', '<'],
  ['GT', '>'],
  ['LP', '('],
  ['RP', ')'],
  ['C', ','],
]);

/**
 * Decodes one identifier. An escape we cannot decode ends decoding and the
 * rest is shown raw, so an unknown future escape degrades to readable text
 * instead of hiding the whole symbol.
 */
function unescapeElement(element: string): string {
  // rustc prefixes `_` to an identifier that would otherwise start with `$`.
  const start = element.startsWith('_$') ? 1 : 0;
  if (element.indexOf('$', start) < 0 && element.indexOf('.', start) < 0) return element.slice(start);

  const out: string[] = [];
  let pos = start;
  while (pos < element.length) {
    const char = element[pos];
    if (char === '.') {
      const isPathSeparator = element[pos + 1] === '.';
      out.push(isPathSeparator ? '::' : '.');
      pos += isPathSeparator ? 2 : 1;
    } else if (char === '$') {
      const end = element.indexOf('$', pos + 1);
      const decoded = end < 0 ? undefined : decodeEscape(element.slice(pos + 1, end));
      if (decoded === undefined) break;
      out.push(decoded);
      pos = end + 1;
    } else {
      const next = nextSpecial(element, pos);
      out.push(element.slice(pos, next));
      pos = next;
    }
  }
  out.push(element.slice(pos));
  return out.join('');
}

function decodeEscape(escape: string): string | undefined {
  const named = NAMED_ESCAPES.get(escape);
  if (named !== undefined) return named;
  if (!/^u[0-9a-f]{1,6}$/.test(escape)) return undefined;
  const codePoint = Number.parseInt(escape.slice(1), 16);
  if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return undefined;
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f)) return undefined;
  return String.fromCodePoint(codePoint);
}

function nextSpecial(text: string, from: number): number {
  const dollar = text.indexOf('$', from);
  const dot = text.indexOf('.', from);
  if (dollar < 0) return dot < 0 ? text.length : dot;
  return dot < 0 ? dollar : Math.min(dollar, dot);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}
