import type { Atom } from '../diff/atoms.js';
import type { Diff } from '../diff/compare.js';
import { demangleWithoutHash } from '../diff/demangle/index.js';
import { relocationsWithin } from '../diff/fingerprint.js';
import { resolveTarget } from '../diff/target-identity.js';
import { CallsiteStatics } from './callsite-statics.js';
import { restart, type Verdict } from './verdict.js';

/**
 * Changed statics and thread-locals whose value the program could have
 * changed. Their values live in the process (one copy, or one per thread)
 * and were initialised from the old initializer: a patch could only keep a
 * stale value or reset live state, so each of these needs a restart.
 *
 * A static the program cannot write (no interior mutability: the process
 * maps it read-only) holds exactly its initializer, so a changed one comes
 * in as a new copy, and the patch brings along every function that reads
 * it; the old copy stays for code from before the edit. That holds unless a
 * static the program can write points to it: such a pointer would keep
 * reaching the old copy. Statics a macro made for one call site
 * (`CallsiteStatics`) are copied even when the program writes them.
 */
export function judgeStatics(diff: Diff, isMutable: (name: string) => boolean): Verdict[] {
  const verdicts: Verdict[] = [];
  const copied = new Set<string>();
  const callsites = new CallsiteStatics(diff.new);
  for (const atom of diff.changedAtoms) {
    const name = demangleWithoutHash(atom.name);
    const threadLocal = threadLocalOf(name, atom);
    if (threadLocal) {
      verdicts.push(restart('statics', `thread-local \`${threadLocal}\` changed its initial value`, 'threads that already use it would keep the old value while new threads get the new one'));
    } else if (atom.category === 'data') {
      if (isMutable(atom.name) && !callsites.has(atom.name)) verdicts.push(restart('statics', `static \`${name}\` changed (initializer, size or type)`, 'the program can write it: a patch would either lose its state or keep a stale value'));
      else copied.add(atom.name);
    }
  }
  if (copied.size > 0) {
    for (const holder of diff.new.atoms) {
      // A callsite static pointing to a copy is copied with it (the patch brings the statics reaching a copy).
      if (holder.anonymous || holder.category !== 'data' || !isMutable(holder.name) || callsites.has(holder.name)) continue;
      for (const relocation of relocationsWithin(holder)) {
        const target = resolveTarget(diff.new, holder.object, relocation);
        const name = target.type === 'atom' ? target.atom.name : target.name;
        if (!copied.has(name)) continue;
        verdicts.push(
          restart(
            'statics',
            `static \`${demangleWithoutHash(name)}\` changed, and the writable static \`${demangleWithoutHash(holder.name)}\` points to it`,
            'the program may have changed what it holds; it would keep pointing to the old value',
          ),
        );
      }
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
