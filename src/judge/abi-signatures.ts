import type { Atom } from '../diff/atoms.js';
import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash, isRustSymbol, withoutLlvmSuffix } from '../diff/demangle/index.js';
import { DebugInfoError, readFunctionSignatures } from '../debuginfo/index.js';
import type { ObjectFile } from '../object/model.js';
import type { Target } from '../targets/target.js';
import { addressesTakenOf, OldCallers } from './old-references.js';
import { note, restart, type Verdict } from './verdict.js';
import { vtablesOf } from './vtables.js';

/** What the judge needs of one recompiled crate (`CrateEdit` has it). */
export interface CrateDiff {
  readonly crate: string;
  readonly diff: Diff;
}

/**
 * Functions whose signature changed under the same symbol. v0 symbols
 * (`-C symbol-mangling-version=v0`) name a function by its path and generic
 * arguments and, unlike legacy symbols, do not hash its signature: a
 * function whose parameters or return type changed keeps its symbol, the diff
 * reports it as changed, and the patch sends its old entry to new code with
 * another ABI. Every direct caller was recompiled and is redirected too, but
 * old code that is not (a caller the new build no longer has, code that
 * calls a pointer stored before the edit, a trait object's vtable call) would
 * call the new code with the old arguments. The signatures come from the
 * debug info of the objects that define the changed functions, old and new.
 *
 * The rules are `judgeSignatures`'s: a restart when the old build takes the
 * function's address (a pointer to it may be stored anywhere), when a caller
 * the new build no longer has is still reachable from what ran before the
 * edit, and (as `judgeVtables` for legacy symbols) when it is a method in a
 * `dyn` vtable. Unlike a legacy vtable slot, which keeps the old function,
 * a v0 slot leads to the new code through the redirected entry, so a trait
 * object made before the edit is never consistent old code: any vtable of
 * the old build holding the method counts, with or without a new
 * counterpart. Legacy symbols are left to those judges, which see a changed
 * signature as a new symbol.
 */
export function judgeAbiSignatures({ crate, diff }: CrateDiff, target: Target): Verdict[] {
  const changed = diff.changedAtoms.filter((atom) => atom.category === 'function' && isV0Symbol(atom.name));
  if (changed.length === 0) return [];
  let before: Map<string, string>;
  let after: Map<string, string>;
  try {
    // Only the objects that define a changed function: a function's DWARF is in its own codegen unit.
    before = readFunctionSignatures(objectsOf(changed.flatMap((atom) => diff.old.byName.get(atom.name) ?? [])));
    after = readFunctionSignatures(objectsOf(changed.flatMap((atom) => diff.new.byName.get(atom.name) ?? [])));
  } catch (error) {
    if (!(error instanceof DebugInfoError)) throw error;
    return [note('abi-signatures', `function signatures of ${crate} not checked: ${error.message}`)];
  }
  if (before.size === 0 || after.size === 0) {
    return [
      note(
        'abi-signatures',
        `${crate} uses v0 symbol mangling, whose symbols stay the same when a function's signature changes, and its objects have no debug info to read signatures from, so signature changes cannot be detected (set \`debug = true\` in its profile, and \`split-debuginfo = "off"\` if it is split)`,
      ),
    ];
  }
  // A function the debug info does not describe on one side (none in rustc's output) cannot be compared.
  const changes = new Map<string, { readonly from: string; readonly to: string }>();
  for (const atom of changed) {
    // DW_AT_linkage_name is the symbol before ThinLTO promotes it with a `.llvm.<n>` suffix.
    const from = before.get(withoutLlvmSuffix(atom.name));
    const to = after.get(withoutLlvmSuffix(atom.name));
    if (from !== undefined && to !== undefined && from !== to) changes.set(atom.name, { from, to });
  }
  if (changes.size === 0) return [];

  const changeOf = (name: string): string => {
    const { from, to } = changes.get(name)!;
    return `\`${demangleWithoutHash(name)}\` changed its signature (${from} → ${to})`;
  };
  const verdicts: Verdict[] = [];
  const decided = new Set<string>();
  const inVtables = new Set(vtablesOf(diff.old, target.pointerBytes).flatMap((vtable) => [...vtable.slots.values()]));
  for (const name of changes.keys()) {
    if (!inVtables.has(withoutLlvmSuffix(name))) continue;
    decided.add(name);
    verdicts.push(
      restart(
        'abi-signatures',
        `${changeOf(name)}, and it is a method in a \`dyn\` vtable`,
        'trait objects created before the edit keep their vtable, whose slot now leads to the new code, and code built for the old signature would call it with the old arguments',
      ),
    );
  }
  for (const name of addressesTakenOf(diff, new Set(changes.keys()), target)) {
    if (decided.has(name)) continue;
    decided.add(name);
    verdicts.push(
      restart(
        'abi-signatures',
        `${changeOf(name)}, and the old build takes its address`,
        'a function pointer stored before the edit still leads to its entry, now the new code, and code built for the old signature would call it with the old arguments',
      ),
    );
  }
  const callers = new OldCallers(diff);
  for (const name of changes.keys()) {
    if (decided.has(name)) continue;
    const caller = callers.stillCalling(name);
    if (caller) {
      verdicts.push(
        restart(
          'abi-signatures',
          `${changeOf(name)}, and code built for the old one still calls it`,
          `\`${demangleWithoutHash(caller)}\` was made for the old signature; the edit replaced it, but what ran before it still reaches it, and it would call the new code with the old arguments`,
        ),
      );
    }
  }
  return verdicts;
}

/** A v0 symbol (`_R…`, `__R…` on Mach-O): its name does not change with the signature. */
function isV0Symbol(name: string): boolean {
  return /^_{1,2}R/.test(name) && isRustSymbol(name);
}

function objectsOf(atoms: readonly Atom[]): ObjectFile[] {
  return [...new Set(atoms.map((atom) => atom.object))];
}
