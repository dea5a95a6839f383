import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash } from '../diff/demangle/index.js';
import { isStartupTable } from '../object/startup-tables.js';
import { restart, type Verdict } from './verdict.js';

/**
 * Entries added to or changed in the tables of functions the loader runs at
 * start-up or exit (`.init_array`, `.fini_array`): a patch loaded into a
 * running program would run a constructor now, out of its order, or never
 * run it at all; it belongs to a fresh start.
 */
export function judgeStartupTables(diff: Diff): Verdict[] {
  return [...diff.changedAtoms, ...diff.addedAtoms]
    .filter((atom) => isStartupTable(atom.object, atom.section))
    .map((atom) =>
      restart(
        'startup-tables',
        `\`${demangleWithoutHash(atom.name)}\` in \`${atom.section.name}\` changed: the loader runs such functions only when the program starts or exits`,
      ),
    );
}
