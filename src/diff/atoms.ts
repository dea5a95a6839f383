import type { ObjectFile, ObjectSymbol, Section } from '../object/model.js';
import { isCompilerLocalName } from './compiler-local.js';

/**
 * An atom is the unit the diff compares and the patch ships: the bytes one
 * symbol owns, or a whole section when nothing names it (LLVM drops `.L`
 * labels and refers to such constants through the section symbol).
 */
export interface Atom {
  readonly object: ObjectFile;
  readonly section: Section;
  readonly symbol: ObjectSymbol | undefined;
  readonly name: string;
  /** Compiler-invented: identified by content, never reported. */
  readonly anonymous: boolean;
  readonly offset: number;
  readonly extent: number;
  readonly category: 'function' | 'data';
}

export interface AtomIndex {
  readonly objects: readonly ObjectFile[];
  readonly atoms: readonly Atom[];
  /** Named atoms by symbol name; duplicates are COMDAT copies or same-named locals. */
  readonly byName: ReadonlyMap<string, Atom[]>;
  /** Atoms of each section sorted by offset, for resolving section-relative targets. */
  readonly bySection: ReadonlyMap<Section, Atom[]>;
  /** The atom each symbol starts, by object and symbol index. */
  readonly bySymbol: ReadonlyMap<ObjectFile, ReadonlyMap<number, Atom>>;
}

const ATOM_SYMBOL_KINDS = new Set(['function', 'data', 'tls', 'label', 'unknown']);

export function indexAtoms(objects: readonly ObjectFile[]): AtomIndex {
  const atoms: Atom[] = [];
  const byName = new Map<string, Atom[]>();
  const bySection = new Map<Section, Atom[]>();
  const bySymbol = new Map<ObjectFile, Map<number, Atom>>();
  for (const object of objects) {
    const symbolAtoms = new Map<number, Atom>();
    bySymbol.set(object, symbolAtoms);
    for (const symbol of object.symbols) {
      if (symbol.section === undefined || !ATOM_SYMBOL_KINDS.has(symbol.kind)) continue;
      const section = object.sections[symbol.section];
      if (!section || !isAtomSection(section)) continue;
      const atom = makeAtom(object, section, symbol, symbol.name, symbol.offset, symbol.extent);
      atoms.push(atom);
      symbolAtoms.set(symbol.index, atom);
      pushTo(bySection, section, atom);
      if (!atom.anonymous) pushTo(byName, atom.name, atom);
    }
    for (const section of object.sections) {
      if (!isAtomSection(section)) continue;
      const list = bySection.get(section) ?? [];
      list.sort((a, b) => a.offset - b.offset || Number(a.anonymous) - Number(b.anonymous));
      const gaps = unnamedGaps(object, section, list);
      if (gaps.length === 0) continue;
      atoms.push(...gaps);
      list.push(...gaps);
      list.sort((a, b) => a.offset - b.offset || Number(a.anonymous) - Number(b.anonymous));
      bySection.set(section, list);
    }
  }
  return { objects, atoms, byName, bySection, bySymbol };
}

/**
 * Bytes no symbol covers become anonymous atoms of their own. A reference to
 * such bytes (a file name in a merged string section) must not be mistaken
 * for a reference to the neighbouring symbol.
 */
function unnamedGaps(object: ObjectFile, section: Section, sorted: readonly Atom[]): Atom[] {
  const gaps: Atom[] = [];
  let cursor = 0;
  for (const atom of sorted) {
    if (atom.offset > cursor) gaps.push(makeAtom(object, section, undefined, '', cursor, atom.offset - cursor));
    cursor = Math.max(cursor, atom.offset + atom.extent);
  }
  if (cursor < section.size || (section.size === 0 && sorted.length === 0)) {
    gaps.push(makeAtom(object, section, undefined, '', cursor, section.size - cursor));
  }
  return gaps;
}

function isAtomSection(section: Section): boolean {
  return section.kind !== 'metadata' && section.kind !== 'unwind';
}

function makeAtom(object: ObjectFile, section: Section, symbol: ObjectSymbol | undefined, name: string, offset: number, extent: number): Atom {
  return {
    object,
    section,
    symbol,
    name,
    anonymous: isCompilerLocalName(name, object.format),
    offset,
    extent,
    category: section.kind === 'code' ? 'function' : 'data',
  };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The atom covering `position` in `section`: a named one in preference to an
 * anonymous one at the same place, since names are the stable identity.
 */
export function atomAt(index: AtomIndex, section: Section, position: number): Atom | undefined {
  const list = index.bySection.get(section);
  if (!list) return undefined;
  let low = 0;
  let high = list.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (list[middle]!.offset <= position) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  if (found < 0) return list[0];
  // Several atoms may start at the same offset; walk back over them to prefer a named one.
  let best = list[found]!;
  for (let i = found; i >= 0 && list[i]!.offset === best.offset; i--) {
    if (!list[i]!.anonymous) best = list[i]!;
  }
  return best;
}
