/**
 * A process of the program that the session runs: one it launched (its
 * child), or one it adopted from a session that was killed. The session
 * treats both alike; only what can be known about their exit differs.
 */
export interface RunningApp {
  readonly pid: number;
  /** Clock ticks since boot when it started: with the pid, what session.json names it by. */
  readonly startTicks: string | undefined;
  /** False for an adopted process: it is not ipbp's child, so its exit status cannot be read. */
  readonly exitStatusKnown: boolean;
  /** Calls `listener` once, when the process is gone (code and signal are null when the status is unknown). */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** SIGTERM, then SIGKILL if it lingers; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** SIGTERM, then SIGKILL if the process is not `gone` within `graceMs`. */
export async function terminate(send: (signal: NodeJS.Signals) => void, gone: Promise<void>, graceMs: number): Promise<void> {
  send('SIGTERM');
  const timer = setTimeout(() => send('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}
