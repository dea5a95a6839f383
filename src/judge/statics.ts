import type { Atom } from '../diff/atoms.js';
import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash } from '../diff/demangle/index.js';
import { restart, type Verdict } from './verdict.js';

/**
 * Changed statics and thread-locals, by name. Their values live in the
 * process (one copy, or one per thread) and were initialised from the old
 * initializer: a patch could only keep a stale value or reset live state,
 * so each of these needs a restart.
 */
export function judgeStatics(diff: Diff): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const atom of diff.changedAtoms) {
    const name = demangleWithoutHash(atom.name);
    const threadLocal = threadLocalOf(name, atom);
    if (threadLocal) {
      verdicts.push(restart('statics', `thread-local \`${threadLocal}\` changed its initial value; threads that already use it would keep the old value while new threads get the new one`));
    } else if (atom.category === 'data') {
      verdicts.push(restart('statics', `static \`${name}\` changed (initializer, size or type); a patch would either lose its state or keep a stale value`));
    }
  }
  return verdicts;
}

/**
 * The `thread_local!` a changed symbol belongs to. std expands the macro
 * into an item named after the variable: its initial value is a
 * `__RUST_STD_INTERNAL_VAL` in TLS data for `const { … }` initializers, and
 * an init function otherwise (`__rust_std_internal_init_fn`, `__init` in
 * older toolchains). The init function changing is the initial value
 * changing, even though it is code. `#[thread_local]` statics have no such
 * names but live in a TLS section.
 */
function threadLocalOf(name: string, atom: Atom): string | undefined {
  const expanded = /^(.+?)::(?:\{\{constant\}\}::\{\{closure\}\}::__RUST_STD_INTERNAL_VAL|__rust_std_internal_init_fn|(?:__getit::)?__init)$/.exec(name);
  if (expanded) return expanded[1];
  if (atom.section.kind === 'tls-data' || atom.section.kind === 'tls-bss') return name;
  return undefined;
}
