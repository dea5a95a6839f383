import { demangleWithoutHash } from '../diff/demangle/index.js';
import type { Target } from '../targets/target.js';
import { restart, type Verdict } from './verdict.js';

/**
 * Functions too short to hold the jump written over their entry: the jump
 * would overwrite the start of the next function, so they cannot be
 * redirected. `roomOf` gives the bytes from a function's entry in the
 * process to the next function, or undefined for one the process lacks.
 */
export function judgeEntryRoom(redirected: readonly string[], roomOf: (name: string) => number | undefined, target: Target): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const name of redirected) {
    const room = roomOf(name);
    if (room !== undefined && room < target.redirect.entryBytes) {
      verdicts.push(restart('entry-room', `\`${demangleWithoutHash(name)}\` is ${room} bytes long, too short for an entry jump`));
    }
  }
  return verdicts;
}

/**
 * Once a patch is placed: redirects whose jump does not reach with the
 * short form (aarch64's `b`, ±128 MiB) take the long one (a 16-byte
 * veneer), which a function shorter than that cannot hold. `roomOf` as
 * above; the reasons, one per such function.
 */
export function farJumpsWithoutRoom(
  redirects: readonly { readonly name: string; readonly from: bigint; readonly to: bigint }[],
  roomOf: (name: string) => number | undefined,
  target: Target,
): string[] {
  const { entryReach, farEntryBytes } = target.redirect;
  const reasons = new Set<string>();
  for (const { name, from, to } of redirects) {
    const distance = to > from ? to - from : from - to;
    const room = roomOf(name);
    if (distance < entryReach || room === undefined || room >= farEntryBytes) continue;
    reasons.add(`\`${demangleWithoutHash(name)}\` is ${room} bytes long, too short for the ${farEntryBytes}-byte jump to its new code ${distance / 1024n / 1024n} MiB away`);
  }
  return [...reasons];
}
