/**
 * Just enough of Rust's lexical grammar to find an edit's place in a source
 * file: identifiers (keywords among them), punctuation, literals and the
 * delimiter tree. Comments and whitespace are skipped; everything inside a
 * string, character or comment stays out of the token stream, so a brace
 * there is never taken for a block.
 */

export type TokenKind = 'ident' | 'literal' | 'lifetime' | 'punct' | 'open' | 'close';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Offsets into the source, `end` exclusive. */
  readonly start: number;
  readonly end: number;
  /** For an `open` or `close` delimiter: the index of its partner, or -1 when unbalanced. */
  partner: number;
}

const IDENT_START = /[\p{XID_Start}_]/u;
const IDENT_CONTINUE = /[\p{XID_Continue}]/u;

/** Tokens of `source`; undefined when it does not lex (an unterminated string or comment, unbalanced delimiters). */
export function tokenize(source: string): Token[] | undefined {
  const tokens: Token[] = [];
  const opened: number[] = [];
  let at = 0;
  const push = (kind: TokenKind, end: number): void => {
    tokens.push({ kind, text: source.slice(at, end), start: at, end, partner: -1 });
    at = end;
  };
  while (at < source.length) {
    const char = source[at]!;
    const next = source[at + 1];
    if (/\s/.test(char)) {
      at++;
    } else if (char === '/' && next === '/') {
      const newline = source.indexOf('\n', at);
      at = newline < 0 ? source.length : newline;
    } else if (char === '/' && next === '*') {
      const end = blockCommentEnd(source, at);
      if (end < 0) return undefined;
      at = end;
    } else if (char === '"' || ((char === 'b' || char === 'c') && next === '"')) {
      const end = quotedEnd(source, source.indexOf('"', at) + 1, '"');
      if (end < 0) return undefined;
      push('literal', end);
    } else if (rawStringStart(source, at) >= 0) {
      const end = rawStringEnd(source, at);
      if (end < 0) return undefined;
      push('literal', end);
    } else if (char === "'" || (char === 'b' && next === "'")) {
      const end = charOrLifetimeEnd(source, at);
      if (end < 0) return undefined;
      push(source[end - 1] === "'" && end - at > 2 ? 'literal' : 'lifetime', end);
    } else if (IDENT_START.test(char) || (char === 'r' && next === '#')) {
      let end = at + (char === 'r' && next === '#' ? 2 : 1);
      while (end < source.length && IDENT_CONTINUE.test(source[end]!)) end++;
      push('ident', end);
    } else if (/[0-9]/.test(char)) {
      let end = at + 1;
      // Digits, suffixes, `_` separators, hex, exponents, and a fraction (but not `1..2` or `1.max()`).
      while (end < source.length && (/[0-9a-zA-Z_]/.test(source[end]!) || (source[end] === '.' && /[0-9]/.test(source[end + 1] ?? '')))) end++;
      push('literal', end);
    } else if ('([{'.includes(char)) {
      opened.push(tokens.length);
      push('open', at + 1);
    } else if (')]}'.includes(char)) {
      const open = opened.pop();
      if (open === undefined || tokens[open]!.text !== { ')': '(', ']': '[', '}': '{' }[char]) return undefined;
      tokens[open]!.partner = tokens.length;
      push('close', at + 1);
      tokens[tokens.length - 1]!.partner = open;
    } else {
      push('punct', at + 1);
    }
  }
  return opened.length === 0 ? tokens : undefined;
}

/** After a block comment (they nest) starting at `at`, or -1. */
function blockCommentEnd(source: string, at: number): number {
  let depth = 0;
  let i = at;
  while (i < source.length) {
    if (source.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (source.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return -1;
}

/** After the closing `quote` of a literal whose contents start at `from`, honouring backslash escapes; -1 if none. */
function quotedEnd(source: string, from: number, quote: string): number {
  for (let i = from; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === quote) return i + 1;
  }
  return -1;
}

/** Where the `#`s or `"` of a raw string (`r"…"`, `br#"…"#`, `cr"…"`) begin, or -1 when `at` starts none. */
function rawStringStart(source: string, at: number): number {
  const prefix = /^(?:b|c)?r(?=#*")/.exec(source.slice(at, at + 3));
  return prefix ? at + prefix[0].length : -1;
}

function rawStringEnd(source: string, at: number): number {
  let i = rawStringStart(source, at);
  let hashes = 0;
  while (source[i] === '#') {
    hashes++;
    i++;
  }
  const close = source.indexOf(`"${'#'.repeat(hashes)}`, i + 1);
  return close < 0 ? -1 : close + 1 + hashes;
}

/**
 * After a character literal (`'a'`, `'\n'`, `b'x'`) or a lifetime (`'a`),
 * whichever starts at `at`: a lifetime has no closing quote right after its
 * name.
 */
function charOrLifetimeEnd(source: string, at: number): number {
  const quote = source[at] === 'b' ? at + 1 : at;
  if (source[quote + 1] === '\\') return quotedEnd(source, quote + 1, "'");
  const codePoint = source.codePointAt(quote + 1);
  if (codePoint === undefined) return -1;
  const width = codePoint > 0xffff ? 2 : 1;
  if (source[quote + 1 + width] === "'") return quote + 2 + width;
  let end = quote + 1;
  while (end < source.length && IDENT_CONTINUE.test(source[end]!)) end++;
  return end > quote + 1 ? end : -1;
}
