import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash, withoutLlvmSuffix } from '../diff/demangle/index.js';
import type { Target } from '../targets/target.js';
import { addressesTakenOf, OldCallers } from './old-references.js';
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
 * layout check. v0 symbols do not cover the signature, so there a changed
 * signature keeps its symbol: `judgeAbiSignatures` reads it from debug info.
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
  const taken = new Set([...addressesTakenOf(diff, candidates, target)].map(demangleWithoutHash));
  const verdicts = [...taken].map((path) =>
    restart(
      'signatures',
      `\`${path}\` changed its signature, and the old version's address was taken`,
      'a function pointer stored before the edit would still call the old code',
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
          `\`${path}\` changed its signature, and code built for the old one still calls the old version`,
          `\`${demangleWithoutHash(caller)}\` was made for the old signature; the edit replaced it, but what ran before it (a vtable, a stored pointer) still reaches it`,
        ),
      );
    }
  }
  return verdicts;
}
