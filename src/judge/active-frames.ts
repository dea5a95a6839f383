import { demangleWithoutHash } from '../diff/demangle/index.js';
import { note, restart, type Verdict } from './verdict.js';

/** One thread's call stack as the agent recorded it while the patch was applied. */
export interface RecordedStack {
  readonly tid: number;
  readonly status: 'complete' | 'truncated' | 'unknown';
  /** The program counter, then return addresses, innermost first. */
  readonly frames: readonly bigint[];
}

/**
 * Changed functions that were running when the patch was applied. A jump
 * over a function's entry reaches the next call; a call already under way
 * goes on in the old code until it returns. Where that call is the outermost
 * code of a thread (`main`, or the closure a thread was spawned with, both
 * entered from std's `__rust_begin_short_backtrace`), it typically never
 * returns: its new code would never run. If that is all the patch changed,
 * the edit needs a restart; if the patch changed more (set-up code of `main`
 * that goes with a type's new methods), the rest is live and the user is
 * told which part waits for a restart. Any other running call finishes on
 * its old code, which the user is told too.
 *
 * `changed`: the functions whose code the patch replaced (not those it only
 * moved); `functionAt`: the function whose code holds an address.
 */
export function judgeActiveFrames(pid: number, changed: ReadonlySet<string>, stacks: readonly RecordedStack[], functionAt: (address: bigint) => string | undefined): Verdict[] {
  const roots = new Map<string, number>();
  const running = new Map<string, number[]>();
  for (const stack of stacks) {
    // A return address points after its call, possibly past its function's last byte.
    const names = stack.frames.map((address, depth) => functionAt(depth === 0 ? address : address - 1n));
    names.forEach((name, depth) => {
      if (name === undefined || !changed.has(name)) return;
      if (isThreadRoot(names, depth)) roots.set(name, stack.tid);
      else running.set(name, [...(running.get(name) ?? []), stack.tid]);
    });
  }
  // When nothing else changed, the patch cannot take effect at all: that is a restart. Otherwise the rest
  // of it is live (a type's new methods, a migration), and the root's edit waits for the next start.
  const nothingElse = [...changed].every((name) => roots.has(name));
  const verdicts: Verdict[] = [...roots].map(([name, tid]) => {
    const reason = `\`${demangleWithoutHash(name)}\` changed while it runs as the outermost code of thread ${tid} of pid ${pid}`;
    return nothingElse
      ? restart('active-frames', reason, 'it never returns, so its new code would never run')
      : note('active-frames', reason, 'it never returns, so its new code runs after a restart; the rest of the patch is live');
  });
  for (const [name, threads] of running) {
    const tids = [...new Set(threads)];
    verdicts.push(
      note(
        'active-frames',
        `\`${demangleWithoutHash(name)}\` was running (pid ${pid}, thread${tids.length > 1 ? 's' : ''} ${tids.join(', ')}): ${tids.length > 1 ? 'those calls finish' : 'that call finishes'} on the old code, later calls run the new one`,
      ),
    );
  }
  return verdicts;
}

/**
 * Whether the function at `depth` is entered from std's
 * `__rust_begin_short_backtrace`, which calls `main` and every spawned
 * thread's closure, with nothing but `FnOnce::call_once`-style glue between.
 */
function isThreadRoot(names: ReadonlyArray<string | undefined>, depth: number): boolean {
  for (let outer = depth + 1; outer < names.length; outer++) {
    const name = names[outer];
    if (name === undefined) return false;
    const path = demangleWithoutHash(name);
    if (path.endsWith('__rust_begin_short_backtrace')) return true;
    if (!path.startsWith('core::ops::function::')) return false;
  }
  return false;
}
