import { type Atom, type AtomIndex, atomsOfObject } from '../diff/atoms.js';
import type { ObjectFile } from '../object/model.js';
import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash, withoutLlvmSuffix } from '../diff/demangle/index.js';
import { relocationsWithin } from '../diff/fingerprint.js';
import { resolveTarget } from '../diff/target-identity.js';
import type { Target } from '../targets/target.js';
import { mentionsType } from './type-layouts.js';
import { restart, type Verdict } from './verdict.js';

/** A vtable starts with three pointer-sized entries, drop_in_place, size and align; methods follow. */
const HEADER_ENTRIES = 3;

interface Vtable {
  /** Function symbol (hash included, ThinLTO's `.llvm.<n>` left out) at each offset. */
  readonly slots: ReadonlyMap<number, string>;
  /** The slots as one string, to find an identical vtable quickly. */
  readonly key: string;
}

/**
 * `dyn` vtables of the running program whose slots changed: a trait method
 * whose signature changed (legacy symbol hashes cover the signature, so the
 * method gets a new symbol), a method added to or removed from a trait, a
 * default method newly overridden.
 *
 * Every caller of a changed function is recompiled, so direct calls are
 * consistent after a patch. Trait objects are not: one created before the
 * edit points at a vtable in the program's read-only data, and a patched
 * caller would call its slots with the new signature (or the new slot
 * order) while the old function sits there. Nothing can rewrite the objects
 * that hold these vtable pointers, so this needs a restart.
 */
export function judgeVtables(diff: Diff, layoutChangedTypes: readonly string[], target: Target): Verdict[] {
  const before = vtablesOf(diff.old, target.pointerBytes);
  const after = vtablesOf(diff.new, target.pointerBytes);
  const unchanged = new Set(after.map((vtable) => vtable.key));
  const affected = new Set<string>();
  for (const old of before) {
    if (unchanged.has(old.key)) continue;
    // A vtable's slots name its concrete type: the drop glue (`drop_in_place<Mutex<Vec<app::Player>>>`)
    // or the methods (`<app::Square as app::Shape>::area`).
    if ([...old.slots.values()].some((name) => mentionsType(demangleWithoutHash(name), layoutChangedTypes))) continue;
    const counterpart = counterpartOf(old, after);
    if (!counterpart) continue; // No longer used as a `dyn`: old objects call consistent old code.
    for (const [offset, name] of old.slots) {
      if (counterpart.slots.get(offset) !== name) affected.add(demangleWithoutHash(name));
    }
    for (const [offset, name] of counterpart.slots) {
      if (!old.slots.has(offset)) affected.add(demangleWithoutHash(name));
    }
  }
  return [...affected].map((name) =>
    restart(
      'vtables',
      `\`${name}\` changed its signature or its slot in a \`dyn\` vtable`,
      'trait objects created before the edit would still call the old function through their old vtable',
    ),
  );
}

/**
 * Anonymous data made only of absolute pointers to functions, with at
 * least one past the header: what rustc emits for each (type, trait) pair.
 */
export function vtablesOf(index: AtomIndex, pointerBytes: number): Vtable[] {
  // With no promoted locals, an object's vtables depend on that object alone, and a session asks again after every edit.
  if (index.promoted.size > 0) return findVtables(index, index.atoms, pointerBytes);
  return index.objects.flatMap((object) => {
    const cached = vtablesByObject.get(object);
    if (cached?.pointerBytes === pointerBytes) return cached.vtables;
    const vtables = findVtables(index, atomsOfObject(object), pointerBytes);
    vtablesByObject.set(object, { pointerBytes, vtables });
    return vtables;
  });
}

const vtablesByObject = new WeakMap<ObjectFile, { readonly pointerBytes: number; readonly vtables: Vtable[] }>();

function findVtables(index: AtomIndex, atoms: readonly Atom[], pointerBytes: number): Vtable[] {
  const vtables: Vtable[] = [];
  for (const atom of atoms) {
    if (!atom.anonymous || atom.category !== 'data') continue;
    const relocations = relocationsWithin(atom);
    if (relocations.length === 0) continue;
    const slots = new Map<number, string>();
    let isVtable = true;
    for (const relocation of relocations) {
      const target = resolveTarget(index, atom.object, relocation);
      const isFunction = target.type === 'external' || (!target.atom.anonymous && target.atom.category === 'function');
      if (relocation.kind !== 'absolute' || relocation.width !== pointerBytes || target.addend !== 0n || !isFunction) {
        isVtable = false;
        break;
      }
      // ThinLTO's `.llvm.<n>` suffix differs from build to build of the same function.
      slots.set(relocation.offset - atom.offset, withoutLlvmSuffix(target.type === 'external' ? target.name : target.atom.name));
    }
    if (!isVtable || ![...slots.keys()].some((offset) => offset >= HEADER_ENTRIES * pointerBytes)) continue;
    vtables.push({ slots, key: [...slots].map(([offset, name]) => `${offset}:${name}`).join(' ') });
  }
  return vtables;
}

/**
 * The new vtable for the same (type, trait) as `old`: the one sharing the
 * most functions with it, by symbol, or else by a path no other new vtable
 * uses (a method whose signature changed keeps its path, not its symbol).
 * Ambiguous matches are dropped rather than guessed.
 */
function counterpartOf(old: Vtable, candidates: readonly Vtable[]): Vtable | undefined {
  const pathUse = new Map<string, number>();
  for (const candidate of candidates) {
    for (const path of new Set([...candidate.slots.values()].map(demangleWithoutHash))) pathUse.set(path, (pathUse.get(path) ?? 0) + 1);
  }
  const oldNames = new Set(old.slots.values());
  const oldPaths = new Set([...oldNames].map(demangleWithoutHash));
  let best: Vtable | undefined;
  let bestScore = 0;
  let tied = false;
  for (const candidate of candidates) {
    let score = 0;
    for (const name of new Set(candidate.slots.values())) {
      const path = demangleWithoutHash(name);
      if (oldNames.has(name)) score += 2;
      else if (oldPaths.has(path) && pathUse.get(path) === 1) score += 1;
    }
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
      tied = false;
    } else if (score === bestScore && score > 0) {
      tied = true;
    }
  }
  return tied ? undefined : best;
}
