import type { ObjectFile } from '../object/model.js';
import { type Atom, type AtomIndex, indexAtoms } from './atoms.js';
import { closureIdentity, prepareClosureIdentity } from './closure-identity.js';
import { demangleWithoutHash } from './demangle/index.js';
import { Fingerprinter } from './fingerprint.js';
import type { Hasher } from './hasher.js';
import { sameContent } from './same-content.js';

export interface ChangedSymbol {
  /** The raw symbol name. */
  readonly symbol: string;
  /** Demangled path without the hash suffix. */
  readonly name: string;
}

export interface ChangeGroup {
  readonly changed: ChangedSymbol[];
  readonly added: ChangedSymbol[];
  readonly removed: ChangedSymbol[];
}

export interface DiffReport {
  readonly functions: ChangeGroup;
  readonly data: ChangeGroup;
}

/** The full result: the report plus what the patch builder needs from each side. */
export interface Diff {
  readonly report: DiffReport;
  readonly old: AtomIndex;
  readonly new: AtomIndex;
  readonly oldFingerprints: Fingerprinter;
  readonly newFingerprints: Fingerprinter;
  /** Fingerprints that leave source positions out (code that only moved compares equal), for each side. */
  readonly ignoringLines: { readonly old: Fingerprinter; readonly new: Fingerprinter };
  /** Named atoms of the new build whose content differs from the old one, or that are new. */
  readonly changedAtoms: Atom[];
  readonly addedAtoms: Atom[];
  /**
   * Named atoms whose name the old build used for other code (renumbered
   * closures and what is made for their types): new definitions, never
   * redirections of the old symbol.
   */
  readonly freshAtoms: Atom[];
  /** Parents whose renumbered closures leave old code running for closures created before the edit. */
  readonly closuresKeptOld: string[];
  /** Changed atoms whose only change is a source position (code an edit moved): patched, but not news. */
  readonly movedAtoms: ReadonlySet<Atom>;
}

/**
 * Does ahead of time what the first diff against `objects` would: index
 * them and name their numbered items. A session calls it before the first
 * edit, so the first patch costs what later ones do.
 */
export function prepareDiff(objects: readonly ObjectFile[]): AtomIndex {
  const index = indexAtoms(objects);
  prepareClosureIdentity(objects);
  return index;
}

/** `newHasher`: how fingerprints are digested (tests weaken it). */
export function diffObjects(oldObjects: readonly ObjectFile[], newObjects: readonly ObjectFile[], newHasher?: () => Hasher): Diff {
  const oldIndex = indexAtoms(oldObjects);
  const newIndex = indexAtoms(newObjects);
  const oldFingerprints = new Fingerprinter(oldIndex, false, newHasher);
  const newFingerprints = new Fingerprinter(newIndex, false, newHasher);
  const report: DiffReport = { functions: emptyGroup(), data: emptyGroup() };
  const changedAtoms: Atom[] = [];
  const addedAtoms: Atom[] = [];
  const removed: Atom[] = [];

  // Objects both builds hold as one parsed instance (rustc rewrote only the
  // codegen units an edit touched) cannot hold a change, and their atoms'
  // digests are shared: only the names of the other objects are compared.
  const shared = sharedObjects(oldIndex, newIndex, oldFingerprints, newFingerprints);
  for (const name of namesOutside(newIndex, shared)) {
    const newAtoms = newIndex.byName.get(name)!;
    const oldAtoms = oldIndex.byName.get(name);
    const representative = newAtoms[0]!;
    if (!oldAtoms) {
      addedAtoms.push(representative);
      continue;
    }
    if (fingerprintSet(oldFingerprints, oldAtoms) !== fingerprintSet(newFingerprints, newAtoms) || !sameAtoms(oldIndex, oldAtoms, newIndex, newAtoms)) {
      changedAtoms.push(representative);
    }
  }
  for (const name of namesOutside(oldIndex, shared)) {
    if (!newIndex.byName.has(name)) removed.push(oldIndex.byName.get(name)![0]!);
  }

  const renamed = pairRenamed(removed, addedAtoms, oldFingerprints, newFingerprints);
  const oldIgnoringLines = new Fingerprinter(oldIndex, true);
  const newIgnoringLines = new Fingerprinter(newIndex, true);
  const closures = closureIdentity(oldIndex, newIndex, oldIgnoringLines, newIgnoringLines, shared);
  const movedAtoms = new Set(
    changedAtoms.filter((atom) => fingerprintSet(oldIgnoringLines, oldIndex.byName.get(atom.name)!) === fingerprintSet(newIgnoringLines, newIndex.byName.get(atom.name)!)),
  );
  for (const atom of changedAtoms) groupOf(report, atom).changed.push(describe(atom));
  for (const atom of addedAtoms) if (!renamed.added.has(atom)) groupOf(report, atom).added.push(describe(atom));
  for (const atom of removed) if (!renamed.removed.has(atom)) groupOf(report, atom).removed.push(describe(atom));
  for (const group of [report.functions, report.data]) {
    for (const list of [group.changed, group.added, group.removed]) list.sort((a, b) => a.name.localeCompare(b.name) || a.symbol.localeCompare(b.symbol));
  }
  return {
    report,
    old: oldIndex,
    new: newIndex,
    oldFingerprints,
    newFingerprints,
    changedAtoms: changedAtoms.filter((atom) => !closures.fresh.has(atom)),
    addedAtoms: addedAtoms.filter((atom) => !renamed.added.has(atom)),
    freshAtoms: [...closures.fresh].filter((atom) => oldIndex.byName.has(atom.name)),
    closuresKeptOld: closures.oldCodeKept,
    movedAtoms,
    ignoringLines: { old: oldIgnoringLines, new: newIgnoringLines },
  };
}

/**
 * The parsed objects both indexes hold, when their digests do not depend on
 * the rest of the index (see `Fingerprinter.isShared`); none otherwise.
 */
function sharedObjects(oldIndex: AtomIndex, newIndex: AtomIndex, oldPrints: Fingerprinter, newPrints: Fingerprinter): ReadonlySet<ObjectFile> {
  if (!oldPrints.isShared || !newPrints.isShared) return new Set();
  const old = new Set(oldIndex.objects);
  return new Set(newIndex.objects.filter((object) => old.has(object)));
}

/** The names `index` gives atoms of objects outside `shared`, in index order, each once. */
function namesOutside(index: AtomIndex, shared: ReadonlySet<ObjectFile>): Iterable<string> {
  if (shared.size === 0) return index.byName.keys();
  const names = new Set<string>();
  for (const object of index.objects) {
    if (shared.has(object)) continue;
    for (const atom of index.bySymbol.get(object)?.values() ?? []) if (!atom.anonymous) names.add(atom.name);
  }
  return names;
}

/**
 * Closures and other compiler-numbered items get a new symbol when an earlier
 * sibling is added (`{closure#0}` becomes `{closure#1}`), though their code
 * is the same. A removed and an added symbol with the same demangled path
 * (numbering aside) and the same fingerprint are one unchanged item.
 */
function pairRenamed(removed: Atom[], added: Atom[], oldPrints: Fingerprinter, newPrints: Fingerprinter): { removed: Set<Atom>; added: Set<Atom> } {
  const result = { removed: new Set<Atom>(), added: new Set<Atom>() };
  const candidates = new Map<string, Atom[]>();
  for (const atom of removed) {
    const key = `${renumberedPath(atom.name)}\0${oldPrints.fingerprint(atom)}`;
    const list = candidates.get(key);
    if (list) list.push(atom);
    else candidates.set(key, [atom]);
  }
  for (const atom of added) {
    const key = `${renumberedPath(atom.name)}\0${newPrints.fingerprint(atom)}`;
    const match = candidates.get(key)?.shift();
    if (!match) continue;
    result.removed.add(match);
    result.added.add(atom);
  }
  return result;
}

function renumberedPath(symbol: string): string {
  return demangleWithoutHash(symbol).replace(/#\d+\}/g, '}');
}

/**
 * Equal fingerprints, confirmed in full: each new copy (COMDAT copies, locals
 * of one name) has an old copy with the same content.
 */
function sameAtoms(oldIndex: AtomIndex, oldAtoms: readonly Atom[], newIndex: AtomIndex, newAtoms: readonly Atom[]): boolean {
  return newAtoms.every((neu) => oldAtoms.some((old) => sameContent(oldIndex, old, newIndex, neu)));
}

function fingerprintSet(fingerprints: Fingerprinter, atoms: readonly Atom[]): string {
  if (atoms.length === 1) return fingerprints.fingerprint(atoms[0]!);
  return atoms
    .map((atom) => fingerprints.fingerprint(atom))
    .sort()
    .filter((value, i, all) => i === 0 || all[i - 1] !== value)
    .join(',');
}

function describe(atom: Atom): { symbol: string; name: string } {
  return { symbol: atom.name, name: demangleWithoutHash(atom.name) };
}

function groupOf(report: DiffReport, atom: Atom): ChangeGroup {
  return atom.category === 'function' ? report.functions : report.data;
}

function emptyGroup(): ChangeGroup {
  return { changed: [], added: [], removed: [] };
}
