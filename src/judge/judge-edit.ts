import type { Diff } from '../diff/compare.js';
import type { LayoutChange } from '../debuginfo/index.js';
import type { ObjectFile } from '../object/model.js';
import type { Target } from '../targets/target.js';
import { judgeAbiSignatures } from './abi-signatures.js';
import { judgeClosures } from './closures.js';
import { judgeSignatures } from './signatures.js';
import { judgeStartupTables } from './startup-tables.js';
import { judgeStatics } from './statics.js';
import { judgeLayouts } from './type-layouts.js';
import type { Verdict } from './verdict.js';
import { judgeVtables } from './vtables.js';

/** One recompiled crate of an edit: its diff, and the objects it was made from. */
export interface CrateEdit {
  readonly crate: string;
  readonly diff: Diff;
  readonly before: readonly ObjectFile[];
  readonly after: readonly ObjectFile[];
}

/** What the judges need to know of the running program. */
export interface ProcessFacts {
  /** Whether the app uses the `ipbp` crate, and so can migrate values. */
  readonly usesIpbp: boolean;
  /** Whether the program can write to the static `name` (it is not mapped read-only). */
  readonly isMutable: (name: string) => boolean;
}

/** Every judge's verdicts on one edit, and the migrations a patch of it must run. */
export interface Judgement {
  readonly verdicts: Verdict[];
  /** Types whose layout changed and that the app migrates (`ipbp::migrate`). */
  readonly migrations: LayoutChange[];
}

/**
 * Runs the judges of an edit's diff, before anything is assembled. The
 * layout judge goes first: the types it finds changed explain new symbols
 * that the vtable and signature judges would otherwise take for changed
 * signatures.
 */
export function judgeEdit(crates: readonly CrateEdit[], process: ProcessFacts, target: Target): Judgement {
  const layouts = judgeLayouts(crates, process.usesIpbp);
  const verdicts = crates.flatMap(({ diff }) => [
    ...judgeStatics(diff, process.isMutable),
    ...judgeVtables(diff, layouts.changedTypes, target),
    ...judgeSignatures(diff, layouts.changedTypes, target),
    ...judgeClosures(diff),
    ...judgeStartupTables(diff),
  ]);
  verdicts.push(...crates.flatMap((edit) => judgeAbiSignatures(edit, target)));
  return { verdicts: [...verdicts, ...layouts.verdicts], migrations: layouts.migrations };
}
