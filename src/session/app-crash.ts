/** How a crashed app ended, in the words ipbp reports it. */
export interface Crash {
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  /** e.g. "SIGSEGV (invalid memory access)" or "a panic (exit code 101)". */
  readonly description: string;
}

/**
 * Signals the process raised on itself by faulting or aborting. SIGKILL,
 * SIGTERM and SIGINT come from someone else (a user, a supervisor, a test
 * stopping one of several processes): the process was stopped, it did not
 * crash, and restarting it would undo that decision.
 */
const CRASH_SIGNALS: Readonly<Partial<Record<NodeJS.Signals, string>>> = {
  SIGSEGV: 'invalid memory access',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'arithmetic fault',
  SIGABRT: 'abort',
  SIGTRAP: 'trap',
  SIGSYS: 'bad system call',
};

/** Rust's exit code when the main thread panics. */
const PANIC_EXIT_CODE = 101;

/** The crash an exit represents, or undefined for an ordinary exit or an outside kill. */
export function crashOf(code: number | null, signal: NodeJS.Signals | null): Crash | undefined {
  if (signal) {
    const meaning = CRASH_SIGNALS[signal];
    return meaning ? { signal, code, description: `${signal} (${meaning})` } : undefined;
  }
  if (code === PANIC_EXIT_CODE) return { signal, code, description: `a panic (exit code ${code})` };
  return undefined;
}
