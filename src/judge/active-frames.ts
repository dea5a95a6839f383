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
 * or if the build is optimized (the edited code may well be inlined into
 * that outermost loop, and live nowhere else), the edit needs a restart.
 * Otherwise the rest is live (a type's new layout, whose set-up code in
 * `main` changed with it) and the user is told which part waits for a
 * restart. Any other running call finishes on its old code, which the user
 * is told, and which the caller watches (`callsStillRunning`): a call that
 * does not return is a loop whose new code would never run either.
 *
 * `changed`: the functions whose code the patch replaced (not those it only
 * moved); `functionAt`: the function whose code holds an address;
 * `optimized`: whether the optimizer inlines across functions.
 */
export function judgeActiveFrames(
  pid: number,
  changed: ReadonlySet<string>,
  stacks: readonly RecordedStack[],
  functionAt: (address: bigint) => string | undefined,
  optimized: boolean,
): Verdict[] {
  const roots = new Map<string, number>();
  const running = new Map<string, number[]>();
  for (const stack of stacks) {
    const names = namesOf(stack, functionAt);
    names.forEach((name, depth) => {
      if (name === undefined || !changed.has(name)) return;
      if (isThreadRoot(names, depth)) roots.set(name, stack.tid);
      else running.set(name, [...(running.get(name) ?? []), stack.tid]);
    });
  }
  const nothingElse = [...changed].every((name) => roots.has(name));
  const verdicts: Verdict[] = [...roots].map(([name, tid]) => {
    const reason = `\`${demangleWithoutHash(name)}\` changed while it runs as the outermost code of thread ${tid} of pid ${pid}`;
    if (nothingElse) return restart('active-frames', reason, 'it never returns, so its new code would never run');
    if (optimized) return restart('active-frames', reason, 'it never returns, and in an optimized build the edited code may be inlined into it, so the edit may never run');
    return note('active-frames', reason, 'it never returns, so its new code runs after a restart; the rest of the patch is live');
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
 * The calls begun before a patch that are still under way in `stacks`, by
 * function, with the threads running them; outermost code is left out
 * (`judgeActiveFrames` has judged it). `functionAt`: the function whose
 * code holds an address; `isOldCode`: whether an address of a function's is
 * in its code from before the patch, a changed function's (a call of the
 * new code began after the patch).
 */
export function callsStillRunning(
  stacks: readonly RecordedStack[],
  functionAt: (address: bigint) => string | undefined,
  isOldCode: (address: bigint, name: string) => boolean,
): Map<string, number[]> {
  const running = new Map<string, number[]>();
  for (const stack of stacks) {
    const names = namesOf(stack, functionAt);
    names.forEach((name, depth) => {
      if (name === undefined || isThreadRoot(names, depth) || !isOldCode(codeAddress(stack, depth), name)) return;
      running.set(name, [...new Set([...(running.get(name) ?? []), stack.tid])]);
    });
  }
  return running;
}

/** Calls of changed functions that outlasted `waitedMs` after the patch: loops that do not return, whose new code would never run. */
export function judgeCallsThatNeverReturned(pid: number, running: ReadonlyMap<string, readonly number[]>, waitedMs: number): Verdict[] {
  return [...running].map(([name, tids]) =>
    restart(
      'active-frames',
      `\`${demangleWithoutHash(name)}\` still runs its code from before the edit (pid ${pid}, thread${tids.length > 1 ? 's' : ''} ${tids.join(', ')}) ${waitedMs} ms after the patch`,
      'that call has not returned (a loop that does not end?), so the edit would not take effect in it',
    ),
  );
}

/** The function of each frame. */
function namesOf(stack: RecordedStack, functionAt: (address: bigint) => string | undefined): Array<string | undefined> {
  return stack.frames.map((_, depth) => functionAt(codeAddress(stack, depth)));
}

/** An address inside the code of the frame at `depth`: a return address points after its call, possibly past its function's last byte. */
function codeAddress(stack: RecordedStack, depth: number): bigint {
  const address = stack.frames[depth]!;
  return depth === 0 ? address : address - 1n;
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
