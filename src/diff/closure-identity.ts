import type { ObjectFile } from '../object/model.js';
import { type Atom, type AtomIndex, atomsOfObject } from './atoms.js';
import { demangleWithoutHash } from './demangle/index.js';
import type { Fingerprinter } from './fingerprint.js';
import { namedReferrers } from './referrers.js';

/** What the numbering of closures tells about an edit. */
export interface ClosureIdentity {
  /**
   * Named atoms of the new build whose name stood for other code in the old
   * one: a renumbered closure, and the instantiations made for its type (its
   * `FnOnce` shims, its drop glue), whose names follow the closure's number.
   * They are new code under an old name, so a patch ships them as new
   * definitions and never redirects the old symbol, which still serves what
   * was created before the edit.
   */
  readonly fresh: Set<Atom>;
  /** Parents (demangled) where some closure's old code has no identical counterpart in the new build. */
  readonly oldCodeKept: string[];
}

/**
 * `oldPrints` and `newPrints` ignore source positions: the closures after an
 * inserted one usually moved down a line or more.
 *
 * Closures, async blocks and coroutines are numbered by position within
 * their parent: `{closure#0}` in v0 symbols, and in legacy ones a hash that
 * covers that number. Inserting a closure before another gives the inserted
 * one the old one's name, so a name says nothing about which code it is.
 * Within each parent, closures are paired by content instead; where the
 * numbering moved, a name whose code changed is taken for another closure,
 * never for an edit of the old one: redirecting it would make every closure
 * created before the edit run another closure's body.
 */
export function closureIdentity(
  oldIndex: AtomIndex,
  newIndex: AtomIndex,
  oldPrints: Fingerprinter,
  newPrints: Fingerprinter,
  /** Objects both builds share, unchanged: a parent all of whose numbered items lie in them has nothing to pair. */
  shared: ReadonlySet<ObjectFile> = new Set(),
): ClosureIdentity {
  const parents = new Set<string>();
  for (const index of [oldIndex, newIndex]) {
    for (const object of index.objects) if (!shared.has(object)) for (const item of numberedItemsOf(object)) parents.add(item.parent);
  }
  const oldGroups = numberedGroups(oldIndex, oldPrints, parents);
  const newGroups = numberedGroups(newIndex, newPrints, parents);
  const seeds = new Set<string>();
  const oldCodeKept: string[] = [];
  for (const [parent, after] of newGroups) {
    const before = oldGroups.get(parent);
    if (!before) continue;
    const oldContents = new Set(before.values());
    const newContents = new Set(after.values());
    const changedNames = [...after].filter(([name, print]) => before.has(name) && before.get(name) !== print).map(([name]) => name);
    if (changedNames.length === 0) continue;
    // An edit in place keeps the count, and no changed closure takes another one's code.
    const moved =
      before.size !== after.size ||
      changedNames.some((name) => oldContents.has(after.get(name)!) || newContents.has(before.get(name)!));
    if (!moved) continue;
    for (const name of changedNames) seeds.add(name);
    if ([...before.values()].some((print) => !newContents.has(print))) oldCodeKept.push(parent);
  }
  const unchanged = (atom: Atom): boolean => {
    const old = oldIndex.byName.get(atom.name)?.[0];
    return old !== undefined && oldPrints.fingerprint(old) === newPrints.fingerprint(atom);
  };
  // A function whose own bytes did not change yet calls a renumbered closure
  // is an instantiation over that closure's type (only the parent and those
  // name a closure), so its name moved with the closure's. A changed
  // referrer, such as the parent, keeps its identity: it is redirected, and
  // its new code uses the new definitions.
  return { fresh: seeds.size === 0 ? new Set() : namedReferrers(newIndex, seeds, (referrer) => (unchanged(referrer) ? 'follow' : 'skip')), oldCodeKept };
}

/** A demangled path that names a closure, an async block or a coroutine. */
const NUMBERED_ITEM = /\{\{closure\}\}|\{(?:closure|async_block|async_fn|coroutine)#\d+\}/;

/** The numbered functions of a build whose parent is one of `parents`, by parent (the path with the numbers taken out): name -> fingerprint. */
function numberedGroups(index: AtomIndex, prints: Fingerprinter, parents: ReadonlySet<string>): Map<string, Map<string, string>> {
  const groups = new Map<string, Map<string, string>>();
  for (const object of index.objects) {
    for (const { atom, parent } of numberedItemsOf(object)) {
      if (!parents.has(parent)) continue;
      let group = groups.get(parent);
      if (!group) groups.set(parent, (group = new Map()));
      // The first copy of a name stands for it, as in the index.
      if (!group.has(atom.name)) group.set(atom.name, prints.fingerprint(index.byName.get(atom.name)![0]!));
    }
  }
  return groups;
}

/** Names the numbered items of `objects` ahead of a diff, which then finds them cached. */
export function prepareClosureIdentity(objects: readonly ObjectFile[]): void {
  for (const object of objects) numberedItemsOf(object);
}

interface NumberedItem {
  readonly atom: Atom;
  readonly parent: string;
}

/** Demangling every name is the costly part, and an object's numbered items stay what they are. */
const numberedItems = new WeakMap<ObjectFile, readonly NumberedItem[]>();

function numberedItemsOf(object: ObjectFile): readonly NumberedItem[] {
  const cached = numberedItems.get(object);
  if (cached) return cached;
  const items: NumberedItem[] = [];
  for (const atom of atomsOfObject(object)) {
    if (atom.anonymous || atom.category !== 'function') continue;
    const path = demangleWithoutHash(atom.name);
    if (NUMBERED_ITEM.test(path)) items.push({ atom, parent: path.replace(/#\d+\}/g, '}') });
  }
  numberedItems.set(object, items);
  return items;
}
