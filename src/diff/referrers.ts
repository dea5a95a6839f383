import type { Atom, AtomIndex } from './atoms.js';
import { relocationsWithin } from './fingerprint.js';
import { resolveTarget } from './target-identity.js';

/** What to do with a named referrer: take it and look for its own referrers, take it only, or leave it out. */
export type ReferrerStep = 'follow' | 'take' | 'skip';

/**
 * The atoms named `seeds`, and the named atoms that refer to one, directly
 * or through compiler-local data (a vtable, a promoted constant), as `step`
 * decides for each named referrer: what must change along with the seeds.
 */
export function namedReferrers(index: AtomIndex, seeds: ReadonlySet<string>, step: (referrer: Atom) => ReferrerStep): Set<Atom> {
  const referrers = new Map<string | Atom, Atom[]>();
  for (const atom of index.atoms) {
    for (const relocation of relocationsWithin(atom)) {
      const target = resolveTarget(index, atom.object, relocation);
      const key = target.type === 'external' ? target.name : target.atom.anonymous ? target.atom : target.atom.name;
      const list = referrers.get(key);
      if (list) list.push(atom);
      else referrers.set(key, [atom]);
    }
  }
  const found = new Set<Atom>();
  const seen = new Set<string | Atom>(seeds);
  const queue: Array<string | Atom> = [...seeds];
  while (queue.length > 0) {
    const key = queue.pop()!;
    if (typeof key === 'string') {
      const atom = index.byName.get(key)?.[0];
      if (atom) found.add(atom);
    }
    for (const referrer of referrers.get(key) ?? []) {
      const next = referrer.anonymous ? referrer : referrer.name;
      if (seen.has(next)) continue;
      const decision = referrer.anonymous ? 'follow' : step(referrer);
      if (decision === 'skip') continue;
      seen.add(next);
      if (decision === 'follow') queue.push(next);
      else found.add(referrer);
    }
  }
  return found;
}
