import type { Diff } from '../diff/compare.js';
import { note, type Verdict } from './verdict.js';

/**
 * Closures renumbered by an edit are paired by content (the diff does it):
 * a closure created before the edit keeps running the code it was created
 * with. When some old closure has no identical counterpart in the new build
 * (it was edited as well as moved), nothing tells which new closure it
 * became, so its instances keep their old code, and the user is told.
 */
export function judgeClosures(diff: Diff): Verdict[] {
  return diff.closuresKeptOld.map((parent) =>
    note(
      'closures',
      `closures of \`${parent.replace(/::\{\{closure\}\}$|::\{closure\}$/, '')}\` were added, removed or reordered as well as edited: closures created before the edit keep running their old code, new ones run the new code`,
    ),
  );
}
