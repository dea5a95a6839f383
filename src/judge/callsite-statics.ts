import type { AtomIndex } from '../diff/atoms.js';
import { demangleWithoutHash } from '../diff/demangle/index.js';

/**
 * Statics a macro generates for one call site: `tracing`'s `__CALLSITE`
 * (with its `META` inside), which every `info!` or `#[instrument]` expands
 * to. They sit inside the function that uses the macro, and follow the
 * convention for macro-made items of a name that begins with `__`. Their
 * interior state (registration, cached interest) is a cache the library
 * rebuilds for a new copy on its first use: a new copy for the new code
 * loses nothing, where a restart would lose the app's state.
 */
export class CallsiteStatics {
  /** Every function's path: made on the first question, which most edits (code only) never ask. */
  private functionPaths: ReadonlySet<string> | undefined;

  constructor(private readonly index: AtomIndex) {}

  has(symbol: string): boolean {
    const segments = pathSegments(demangleWithoutHash(symbol));
    // A static nested in a callsite static's initializer (`__CALLSITE::META`) belongs to it.
    for (let end = segments.length; end > 1; end--) {
      if (!segments[end - 1]!.startsWith('__')) continue;
      const parent = segments.slice(0, end - 1).join('::');
      if (/\{\{closure\}\}|\{closure#\d+\}/.test(parent) || this.paths().has(parent)) return true;
    }
    return false;
  }

  private paths(): ReadonlySet<string> {
    if (this.functionPaths) return this.functionPaths;
    const paths = new Set<string>();
    for (const [name, atoms] of this.index.byName) if (atoms[0]!.category === 'function') paths.add(demangleWithoutHash(name));
    return (this.functionPaths = paths);
  }
}

/** `a::b<c::d>::e` -> [`a`, `b<c::d>`, `e`]: separators inside generic arguments do not split. */
function pathSegments(path: string): string[] {
  const segments: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    if (char === '<') depth++;
    else if (char === '>') depth--;
    else if (depth === 0 && char === ':' && path[i + 1] === ':') {
      segments.push(path.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  segments.push(path.slice(start));
  return segments;
}
