import type { ObjectFile, ObjectSymbol, Section } from '../object/model.js';
import { isCompilerLocalName } from './compiler-local.js';
import { withoutLlvmSuffix } from './demangle/index.js';

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
  /**
   * Compiler-local atoms that another object may reference by name: with
   * several codegen units in a release build, ThinLTO promotes a local (a
   * constant `anon.<module>.0`) to a global `….llvm.<n>`, and the units that
   * use it refer to it as an undefined symbol.
   */
  readonly promoted: ReadonlyMap<string, Atom>;
}

const ATOM_SYMBOL_KINDS = new Set(['function', 'data', 'tls', 'label', 'unknown']);

export function indexAtoms(objects: readonly ObjectFile[]): AtomIndex {
  // A session diffs each build twice: as the new side, then as the running one.
  const cached = indexes.get(objects);
  if (cached) return cached;
  const atoms: Atom[] = [];
  const byName = new Map<string, Atom[]>();
  const bySection = new Map<Section, Atom[]>();
  const bySymbol = new Map<ObjectFile, ReadonlyMap<number, Atom>>();
  const promoted = new Map<string, Atom>();
  for (const object of objects) {
    const own = atomsOf(object);
    bySymbol.set(object, own.bySymbol);
    for (const [section, list] of own.bySection) bySection.set(section, list);
    for (const atom of own.atoms) {
      atoms.push(atom);
      if (!atom.anonymous) pushTo(byName, atom.name, atom);
    }
    for (const atom of own.promoted) promoted.set(atom.name, atom);
  }
  const index = { objects, atoms, byName, bySection, bySymbol, promoted };
  indexes.set(objects, index);
  return index;
}

/** Indexes by the list of objects they were made from (which no one changes once read). */
const indexes = new WeakMap<readonly ObjectFile[], AtomIndex>();

/** The atoms of one object, as every index holding it has them. */
export function atomsOfObject(object: ObjectFile): readonly Atom[] {
  return atomsOf(object).atoms;
}

/** What one object contributes to an index; it depends on that object alone. */
interface ObjectAtoms {
  readonly atoms: readonly Atom[];
  readonly bySection: ReadonlyMap<Section, Atom[]>;
  readonly bySymbol: ReadonlyMap<number, Atom>;
  readonly promoted: readonly Atom[];
}

/**
 * Kept for as long as the object is: a session indexes the same parsed
 * objects again after each edit (all but the few codegen units rustc
 * rewrote), and the atoms must stay the same instances, since fingerprints
 * are cached by atom.
 */
const objectAtoms = new WeakMap<ObjectFile, ObjectAtoms>();

function atomsOf(object: ObjectFile): ObjectAtoms {
  const cached = objectAtoms.get(object);
  if (cached) return cached;
  const atoms: Atom[] = [];
  const bySection = new Map<Section, Atom[]>();
  const bySymbol = new Map<number, Atom>();
  const promoted: Atom[] = [];
  for (const symbol of object.symbols) {
    if (symbol.section === undefined || !ATOM_SYMBOL_KINDS.has(symbol.kind) || isMappingSymbol(object, symbol)) continue;
    const section = object.sections[symbol.section];
    if (!section || !isAtomSection(section)) continue;
    const atom = makeAtom(object, section, symbol, symbol.name, symbol.offset, ownedExtent(object, section, symbol));
    atoms.push(atom);
    bySymbol.set(symbol.index, atom);
    pushTo(bySection, section, atom);
    if (atom.anonymous && symbol.binding !== 'local') promoted.push(atom);
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
  const result = { atoms, bySection, bySymbol, promoted };
  objectAtoms.set(object, result);
  return result;
}

/**
 * Bytes no symbol covers become anonymous atoms of their own. A reference to
 * such bytes (a file name in a merged string section) must not be mistaken
 * for a reference to the neighbouring symbol.
 */
function unnamedGaps(object: ObjectFile, section: Section, sorted: readonly Atom[]): Atom[] {
  const gaps: Atom[] = [];
  const strings = isCStringSection(object, section);
  const addGap = (start: number, end: number): void => {
    if (!strings) {
      gaps.push(makeAtom(object, section, undefined, '', start, end - start));
      return;
    }
    // Merged string sections pool the literals of a whole codegen unit; each string is its own atom.
    let from = start;
    while (from < end) {
      const nul = section.data.indexOf(0, from);
      const to = nul < 0 || nul >= end ? end : nul + 1;
      gaps.push(makeAtom(object, section, undefined, '', from, to - from));
      from = to;
    }
  };
  let cursor = 0;
  for (const atom of sorted) {
    if (atom.offset > cursor) addGap(cursor, atom.offset);
    cursor = Math.max(cursor, atom.offset + atom.extent);
  }
  if (cursor < section.size) addGap(cursor, section.size);
  else if (section.size === 0 && sorted.length === 0) gaps.push(makeAtom(object, section, undefined, '', 0, 0));
  return gaps;
}

const ELF_SHF_MERGE_STRINGS = 0x30n;
const MACHO_S_CSTRING_LITERALS = 2;

function isCStringSection(object: ObjectFile, section: Section): boolean {
  if (section.kind !== 'read-only' || section.data.length === 0) return false;
  if (object.format === 'elf') return (section.raw.flags & ELF_SHF_MERGE_STRINGS) === ELF_SHF_MERGE_STRINGS;
  return section.raw.type === MACHO_S_CSTRING_LITERALS;
}

/**
 * AArch64 (and Arm) ELF mapping symbols `$x`, `$d` (optionally `$x.<n>`)
 * mark where code and data begin for disassemblers; they own no bytes. As
 * atoms they would take the name a reference to a section symbol resolves to
 * (`$d` for a string constant), hiding the real target from the fingerprint.
 */
function isMappingSymbol(object: ObjectFile, symbol: ObjectSymbol): boolean {
  return object.format === 'elf' && /^\$[adtx](\.|$)/.test(symbol.name);
}

/**
 * The bytes a symbol owns, without the alignment padding in front of the next
 * symbol. A symbol with no recorded size (all of Mach-O) reaches the next
 * symbol, padding included, and the padding depends on the neighbour: the last
 * function of `__text` has none, so adding a function after it would otherwise
 * change it. The padding is left to an anonymous gap atom, as on ELF.
 */
function ownedExtent(object: ObjectFile, section: Section, symbol: ObjectSymbol): number {
  const end = symbol.offset + symbol.extent;
  if (symbol.size > 0 || section.kind !== 'code' || end >= section.size || section.data.length < end) return symbol.extent;
  // Padding only ever brings the next symbol up to an alignment boundary.
  const boundary = Math.min(section.alignment, end & -end);
  const limit = Math.min(boundary - 1, symbol.extent - 1);
  for (let padding = limit; padding > 0; padding--) {
    if (isNopRun(object, section.data, end - padding, end)) return symbol.extent - padding;
  }
  return symbol.extent;
}

/** True when `data[start, end)` is whole no-op instructions, as assemblers pad code with. */
function isNopRun(object: ObjectFile, data: Uint8Array, start: number, end: number): boolean {
  let at = start;
  while (at < end) {
    const length = object.architecture === 'x86_64' ? x86NopLength(data, at) : aarch64NopLength(data, at);
    if (length === 0) return false;
    at += length;
  }
  return at === end;
}

const AARCH64_NOP = [0x1f, 0x20, 0x03, 0xd5]; // d503201f, little-endian

function aarch64NopLength(data: Uint8Array, at: number): number {
  return AARCH64_NOP.every((byte, i) => data[at + i] === byte) ? 4 : 0;
}

/**
 * Length of the x86 no-op at `at`, or 0: `90` or `0f 1f /0` (nopl/nopw with
 * any addressing form), after 0x66 operand-size and 0x2e segment prefixes,
 * which is every form LLVM's and GNU as's padding uses.
 */
function x86NopLength(data: Uint8Array, at: number): number {
  let i = at;
  while (data[i] === 0x66 && i - at < 14) i++;
  if (data[i] === 0x2e) i++;
  if (data[i] === 0x90) return i + 1 - at;
  if (data[i] !== 0x0f || data[i + 1] !== 0x1f) return 0;
  const modrm = data[i + 2];
  if (modrm === undefined || ((modrm >> 3) & 7) !== 0) return 0;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  const sib = mod !== 3 && rm === 4 ? 1 : 0;
  const displacement = mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 5) ? 4 : 0;
  return i + 3 + sib + displacement - at;
}

function isAtomSection(section: Section): boolean {
  return section.kind !== 'metadata' && section.kind !== 'unwind';
}

/**
 * A named atom is known by its name without ThinLTO's `.llvm.<hash>`: LLVM
 * appends it to a function or static it promotes from local to global (one
 * referenced from another codegen unit of the crate), with a digest of the
 * module, so an edit anywhere in that codegen unit renames every promoted
 * item of it, and every reference to them, without changing any code.
 */
function makeAtom(object: ObjectFile, section: Section, symbol: ObjectSymbol | undefined, name: string, offset: number, extent: number): Atom {
  const anonymous = isCompilerLocalName(name, object.format);
  return {
    object,
    section,
    symbol,
    name: anonymous ? name : withoutLlvmSuffix(name),
    anonymous,
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
