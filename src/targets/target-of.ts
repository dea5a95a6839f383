import { UserError } from '../errors/user-error.js';
import type { Target } from './target.js';
import { AARCH64_LINUX } from './aarch64-linux.js';
import { X86_64_LINUX } from './x86_64-linux.js';

/** Every target ipbp patches, by triple. */
const TARGETS: readonly Target[] = [X86_64_LINUX, AARCH64_LINUX];

/** The target a build's triple names, or a clear refusal for one ipbp cannot patch yet. */
export function targetOf(triple: string): Target {
  const target = TARGETS.find((candidate) => candidate.triple === triple);
  if (target) return target;
  throw new UserError(`ipbp cannot patch programs built for ${triple} yet`, 'unsupported-target', [
    `supported: ${TARGETS.map((candidate) => candidate.triple).join(', ')}`,
  ]);
}
