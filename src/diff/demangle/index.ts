/**
 * Rust symbol demangling for the diff: `demangle` for showing a symbol to a
 * person, `demangleWithoutHash` for matching the same function across two
 * builds, whose hashes, crate disambiguators and LLVM suffixes differ.
 */

import { parseLegacySymbol } from './legacy.js';
import { parseV0Symbol, type V0Style } from './v0.js';

/**
 * The readable name: legacy symbols keep their `::h<hash>`, v0 symbols show
 * crate disambiguators (`core[1a2b…]::fmt::write`). A vendor suffix such as
 * `.llvm.123` or `.cold` is kept verbatim. Anything that is not a
 * well-formed Rust symbol comes back unchanged.
 */
export function demangle(symbol: string): string {
  const readable = render(symbol, 'verbose');
  return readable === null ? symbol : readable;
}

/**
 * Like `demangle`, minus everything that changes between two builds of the
 * same source: the legacy hash, v0 crate disambiguators and const argument
 * types, and `.llvm.<n>` suffixes (also on non-Rust symbols, which are
 * otherwise unchanged). Other suffixes such as `.cold` stay, since they name a
 * different piece of code.
 */
export function demangleWithoutHash(symbol: string): string {
  const cached = conciseNames.get(symbol);
  if (cached !== undefined) return cached;
  const withoutSuffix = withoutLlvmSuffix(symbol);
  const readable = render(withoutSuffix, 'concise') ?? withoutSuffix;
  // Each edit's diff and judges ask again for the names of a whole program; a long session must not grow without bound.
  if (conciseNames.size >= MAX_REMEMBERED_NAMES) conciseNames.clear();
  conciseNames.set(symbol, readable);
  return readable;
}

const conciseNames = new Map<string, string>();
const MAX_REMEMBERED_NAMES = 1 << 20;

/** True for symbols this module can demangle (legacy `_ZN…E` or v0 `_R…`, with or without Mach-O's extra `_`). */
export function isRustSymbol(symbol: string): boolean {
  return render(symbol, 'concise') !== null;
}

/**
 * LLVM appends `.llvm.<hash>` when it promotes a local symbol during (Thin)LTO;
 * the hash is a digest of the module, so it differs between builds.
 */
export function withoutLlvmSuffix(symbol: string): string {
  const start = symbol.lastIndexOf('.llvm.');
  if (start < 0) return symbol;
  const hash = symbol.slice(start + '.llvm.'.length);
  return /^[0-9A-Fa-f@]+$/.test(hash) ? symbol.slice(0, start) : symbol;
}

function render(symbol: string, style: V0Style): string | null {
  // Mangled names are ASCII; anything else would make byte lengths disagree with string indices.
  if (!isAscii(symbol)) return null;
  try {
    const legacy = parseLegacySymbol(symbol);
    if (legacy !== null) {
      const hash = style === 'verbose' && legacy.hash !== undefined ? `::${legacy.hash}` : '';
      return legacy.path + hash + legacy.suffix;
    }
    const v0 = parseV0Symbol(symbol, style);
    return v0 === null ? null : v0.path + v0.suffix;
  } catch {
    // Demangling is cosmetic: a demangler bug must cost one readable name, not the whole diff.
    return null;
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}
