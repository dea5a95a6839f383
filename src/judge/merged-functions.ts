import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash } from '../diff/demangle/index.js';
import { restart, type Verdict } from './verdict.js';

/**
 * Functions that share one body in the running program. Optimized builds
 * merge identical functions (LLVM's MergeFunctions; linkers' identical code
 * folding): one address then serves several functions, and a jump written
 * over it would change all of them, including those the user did not edit.
 *
 * Two ways to see it: the running program names several functions at the
 * redirected address (`aliasesOf`), or, where the merge left no name behind,
 * the edit brings a function "back" whose code is the old code of a
 * function it changes, which is what the callers of the vanished one ran.
 */
export function judgeMergedFunctions(
  redirected: readonly string[],
  diffs: readonly Diff[],
  aliasesOf: (name: string) => readonly string[],
  optimized: boolean,
): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const name of redirected) {
    const others = aliasesOf(name).filter((other) => other !== name);
    if (others.length > 0) verdicts.push(restart('merged-functions', sharedReason(name, others), SHARED_DETAILS));
  }
  // Unoptimized builds merge nothing; there an added copy of an old body is only a copy.
  if (!optimized) return verdicts;
  const changed = new Set(redirected);
  for (const diff of diffs) {
    const { old: oldPrints, new: newPrints } = diff.ignoringLines;
    const oldBodies = new Map<string, string>();
    for (const atom of diff.changedAtoms) {
      const old = diff.old.byName.get(atom.name)?.[0];
      if (old && changed.has(atom.name) && old.category === 'function') oldBodies.set(oldPrints.fingerprint(old), atom.name);
    }
    for (const atom of diff.addedAtoms) {
      if (atom.category !== 'function') continue;
      const survivor = oldBodies.get(newPrints.fingerprint(atom));
      if (survivor) verdicts.push(restart('merged-functions', sharedReason(survivor, [atom.name]), SHARED_DETAILS));
    }
  }
  return verdicts;
}

const SHARED_DETAILS = 'one jump over the shared entry would change every function that shares it';

function sharedReason(name: string, others: readonly string[]): string {
  const list = others.map((other) => `\`${demangleWithoutHash(other)}\``).join(', ');
  return `\`${demangleWithoutHash(name)}\` shares its machine code with ${list} in the running program (identical functions merged by the optimizer)`;
}
