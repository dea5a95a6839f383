import type { Atom } from '../diff/atoms.js';
import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash, withoutLlvmSuffix } from '../diff/demangle/index.js';
import { relocationsWithin } from '../diff/fingerprint.js';
import { resolveTarget } from '../diff/target-identity.js';
import type { Target } from '../targets/target.js';
import { mentionsType } from './type-layouts.js';
import { restart, type Verdict } from './verdict.js';

/**
 * Functions whose signature changed while a pointer to the old version may
 * be stored somewhere: a `fn` pointer or callback kept in a variable, a
 * struct or a static before the edit.
 *
 * rustc's legacy symbol hash covers a function's signature, so a changed
 * signature makes a new symbol: the diff sees the old one removed and a new
 * one, with the same path, added. Every direct caller was recompiled and
 * calls the new one. But code that took the old function's address (a
 * relocation other than a call) may have stored it, and such a pointer would
 * keep calling the old code with the old signature, silently stale. Only a
 * restart can reach those. Vtables (anonymous data) are judged by
 * `vtableChanges`, and functions renamed by a type's layout change by the
 * layout check.
 */
export function judgeSignatures(diff: Diff, layoutChangedTypes: readonly string[], target: Target): Verdict[] {
  // The symbols (hash included, ThinLTO's `.llvm.<n>` left out) of added functions, by path.
  const added = new Map<string, Set<string>>();
  for (const atom of diff.addedAtoms) {
    if (atom.category !== 'function') continue;
    const path = demangleWithoutHash(atom.name);
    added.set(path, (added.get(path) ?? new Set()).add(withoutLlvmSuffix(atom.name)));
  }
  // Same path, another hash: the signature changed (the same hash is only a new `.llvm.<n>`).
  const candidates = new Set(
    diff.report.functions.removed
      .map((removed) => removed.symbol)
      .filter((symbol) => {
        const path = demangleWithoutHash(symbol);
        const symbols = added.get(path);
        return symbols !== undefined && !symbols.has(withoutLlvmSuffix(symbol)) && !mentionsType(path, layoutChangedTypes);
      }),
  );
  if (candidates.size === 0) return [];
  const taken = new Set<string>();
  for (const atom of diff.old.atoms) {
    if (atom.anonymous && atom.category === 'data') continue;
    for (const name of addressesTaken(diff, atom, target)) if (candidates.has(name)) taken.add(demangleWithoutHash(name));
  }
  const verdicts = [...taken].map((path) =>
    restart(
      'signatures',
      `\`${path}\` changed its signature, and the old version's address was taken: a function pointer stored before the edit would still call the old code`,
    ),
  );
  const callers = new OldCallers(diff);
  for (const name of candidates) {
    const path = demangleWithoutHash(name);
    if (taken.has(path)) continue;
    const caller = callers.stillCalling(name);
    if (caller) {
      verdicts.push(
        restart(
          'signatures',
          `\`${path}\` changed its signature, and code built for the old one (\`${demangleWithoutHash(caller)}\`, which the edit replaced but what ran before it still reaches) keeps calling the old version`,
        ),
      );
    }
  }
  return verdicts;
}

/**
 * Who in the running program still calls an old function. A caller the
 * edit changed is redirected to its new code, which calls the new
 * function. A caller the new build no longer has (an instantiation for the
 * old signature, such as the system wrapper a scheduler built at start-up)
 * stays in the process as it was, reachable from a vtable or a pointer made
 * before the edit, and keeps calling the old version.
 */
class OldCallers {
  private readonly referrers = new Map<string | Atom, Atom[]>();
  private readonly removed: ReadonlySet<string>;

  constructor(diff: Diff) {
    this.removed = new Set(diff.report.functions.removed.map((entry) => entry.symbol));
    for (const atom of diff.old.atoms) {
      for (const relocation of relocationsWithin(atom)) {
        const target = resolveTarget(diff.old, atom.object, relocation);
        const key = target.type === 'external' ? target.name : target.atom.anonymous ? target.atom : target.atom.name;
        const list = this.referrers.get(key);
        if (list) list.push(atom);
        else this.referrers.set(key, [atom]);
      }
    }
  }

  /**
   * A removed function through which code made before the edit still
   * reaches `name`, if any. Vtables pointing at `name` itself are the
   * vtable judge's.
   */
  stillCalling(name: string): string | undefined {
    const seen = new Set<string | Atom>([name]);
    for (const referrer of this.referrers.get(name) ?? []) {
      if (referrer.anonymous ? referrer.category === 'function' && this.reached(referrer, seen) : this.removed.has(referrer.name) && this.reached(referrer.name, seen)) {
        return referrer.anonymous ? name : referrer.name;
      }
    }
    return undefined;
  }

  /** Whether anything made before the edit (data, or a removed function it reaches) still leads to `key`. */
  private reached(key: string | Atom, seen: Set<string | Atom>): boolean {
    if (seen.has(key)) return false;
    seen.add(key);
    return (this.referrers.get(key) ?? []).some((referrer) => {
      if (referrer.anonymous) return referrer.category === 'data' || this.reached(referrer, seen);
      return this.removed.has(referrer.name) && this.reached(referrer.name, seen);
    });
  }
}

/** The functions whose address `atom` takes (any reference but a call). */
function addressesTaken(diff: Diff, atom: Atom, target: Target): string[] {
  const names: string[] = [];
  for (const relocation of relocationsWithin(atom)) {
    if (target.callRelocations.has(relocation.raw.typeName)) continue;
    const referred = resolveTarget(diff.old, atom.object, relocation);
    if (referred.type === 'atom' && referred.atom.category === 'function') names.push(referred.atom.name);
  }
  return names;
}
