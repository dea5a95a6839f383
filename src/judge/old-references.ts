import type { Atom } from '../diff/atoms.js';
import type { Diff } from '../diff/compare.js';
import { relocationsWithin } from '../diff/fingerprint.js';
import { resolveTarget } from '../diff/target-identity.js';
import type { Target } from '../targets/target.js';
import type { Relocation } from '../object/model.js';

/**
 * What the old build still holds of a function whose signature changed:
 * whether its address is taken, and which old callers stay reachable. Shared
 * by the signature judges of legacy symbols (`signatures.ts`) and of v0
 * symbols (`abi-signatures.ts`).
 */

/**
 * Who in the running program still calls an old function. A caller the
 * edit changed is redirected to its new code, which calls the new
 * function. A caller the new build no longer has (an instantiation for the
 * old signature, such as the system wrapper a scheduler built at start-up)
 * stays in the process as it was, reachable from a vtable or a pointer made
 * before the edit, and keeps calling the old version.
 */
export class OldCallers {
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

/**
 * Which of `candidates` (function symbols of the old build) have their
 * address taken somewhere in the old build, in the order first seen. Vtables
 * (anonymous data) are left out: trait objects are the vtable judges'.
 */
export function addressesTakenOf(diff: Diff, candidates: ReadonlySet<string>, target: Target): Set<string> {
  const taken = new Set<string>();
  for (const atom of diff.old.atoms) {
    if (atom.anonymous && atom.category === 'data') continue;
    for (const name of addressesTaken(diff, atom, target)) if (candidates.has(name)) taken.add(name);
  }
  return taken;
}

/** The functions whose address `atom` takes (any reference but a call, direct or through the GOT). */
function addressesTaken(diff: Diff, atom: Atom, target: Target): string[] {
  const names: string[] = [];
  for (const relocation of relocationsWithin(atom)) {
    if (target.callRelocations.has(relocation.raw.typeName) || isCallThroughGot(atom, relocation, target)) continue;
    const referred = resolveTarget(diff.old, atom.object, relocation);
    if (referred.type === 'atom' && referred.atom.category === 'function') names.push(referred.atom.name);
  }
  return names;
}

function isCallThroughGot(atom: Atom, relocation: Relocation, target: Target): boolean {
  const { relocations, opcodes } = target.callsThroughGot;
  if (!relocations.has(relocation.raw.typeName)) return false;
  const data = atom.section.data;
  return opcodes.some((opcode) => relocation.offset >= atom.offset + opcode.length && opcode.every((byte, i) => data[relocation.offset - opcode.length + i] === byte));
}
