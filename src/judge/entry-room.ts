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
