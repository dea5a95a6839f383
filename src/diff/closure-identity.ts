import type { Atom, AtomIndex } from './atoms.js';
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
export function closureIdentity(oldIndex: AtomIndex, newIndex: AtomIndex, oldPrints: Fingerprinter, newPrints: Fingerprinter): ClosureIdentity {
  const oldGroups = numberedGroups(oldIndex, oldPrints);
  const newGroups = numberedGroups(newIndex, newPrints);
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

/** The numbered functions of a build, by parent (the path with the numbers taken out): name -> fingerprint. */
function numberedGroups(index: AtomIndex, prints: Fingerprinter): Map<string, Map<string, string>> {
  const groups = new Map<string, Map<string, string>>();
  for (const [name, atoms] of index.byName) {
    const atom = atoms[0]!;
    if (atom.category !== 'function') continue;
    const path = demangleWithoutHash(name);
    if (!NUMBERED_ITEM.test(path)) continue;
    const parent = path.replace(/#\d+\}/g, '}');
    let group = groups.get(parent);
    if (!group) groups.set(parent, (group = new Map()));
    group.set(name, prints.fingerprint(atom));
  }
  return groups;
}
