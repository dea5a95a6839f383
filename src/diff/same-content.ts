import type { Atom, AtomIndex } from './atoms.js';
import { equivalenceClassOf, relocationsWithin } from './fingerprint.js';
import { resolveTarget } from './target-identity.js';

/**
 * Whether two atoms hold the same code or data, compared in full rather
 * than by fingerprint: the bytes outside relocation sites, and each
 * relocation's offset, class, target identity and addend, with
 * compiler-local targets compared the same way, recursively. Two equal
 * 64-bit fingerprints say "almost surely the same"; a patch must never skip
 * a changed function on "almost".
 */
export function sameContent(oldIndex: AtomIndex, old: Atom, newIndex: AtomIndex, neu: Atom, pairs = new Map<Atom, Atom>()): boolean {
  if (old.extent !== neu.extent || old.section.kind !== neu.section.kind) return false;
  const oldRelocations = relocationsWithin(old);
  const newRelocations = relocationsWithin(neu);
  if (oldRelocations.length !== newRelocations.length) return false;
  const masked = (atom: Atom, relocations: typeof oldRelocations): Uint8Array => {
    const data = atom.section.data;
    if (data.length === 0) return new Uint8Array(0);
    // A copy to mask: `data` may be a Buffer, whose `slice` is a view of the object file.
    const bytes = Uint8Array.from(data.subarray(atom.offset, atom.offset + atom.extent));
    for (const relocation of relocations) bytes.fill(0, relocation.offset - atom.offset, relocation.offset - atom.offset + relocation.width);
    return bytes;
  };
  if (!Buffer.from(masked(old, oldRelocations)).equals(masked(neu, newRelocations))) return false;
  for (let i = 0; i < oldRelocations.length; i++) {
    const a = oldRelocations[i]!;
    const b = newRelocations[i]!;
    if (a.offset - old.offset !== b.offset - neu.offset || equivalenceClassOf(old, a) !== equivalenceClassOf(neu, b)) return false;
    const targetA = resolveTarget(oldIndex, old.object, a);
    const targetB = resolveTarget(newIndex, neu.object, b);
    if (targetA.addend !== targetB.addend) return false;
    const anonymousA = targetA.type === 'atom' && targetA.atom.anonymous ? targetA.atom : undefined;
    const anonymousB = targetB.type === 'atom' && targetB.atom.anonymous ? targetB.atom : undefined;
    if (anonymousA && anonymousB) {
      // A pair already being compared further up is assumed equal: the rest of the cycle decides.
      if (pairs.get(anonymousA) === anonymousB) continue;
      pairs.set(anonymousA, anonymousB);
      if (!sameContent(oldIndex, anonymousA, newIndex, anonymousB, pairs)) return false;
      continue;
    }
    if (anonymousA || anonymousB) return false;
    const nameA = targetA.type === 'atom' ? targetA.atom.name : targetA.name;
    const nameB = targetB.type === 'atom' ? targetB.atom.name : targetB.name;
    if (nameA !== nameB) return false;
  }
  return true;
}
