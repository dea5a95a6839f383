/**
 * Why a change needs a restart, or what the user should know about it: a
 * short line first (under 200 characters, naming the item), then the
 * details that explain it.
 */
export interface Reason {
  readonly reason: string;
  readonly details?: string | undefined;
}

/**
 * What a judge decided about one change of an edit. A change no judge speaks
 * about is patched plainly; a `note` patches and tells the user something
 * they should know; a `restart` means a patch cannot make the running
 * program behave like the saved code, and says why in words the user reads.
 */
export interface Verdict extends Reason {
  readonly action: 'note' | 'restart';
  /** The judge that decided: for events and tests. */
  readonly judge: string;
}

export function restart(judge: string, reason: string, details?: string): Verdict {
  return { action: 'restart', judge, reason, details };
}

export function note(judge: string, reason: string, details?: string): Verdict {
  return { action: 'note', judge, reason, details };
}

/** The reasons of the verdicts that need a restart, each once. */
export function restartReasons(verdicts: readonly Verdict[]): Reason[] {
  const seen = new Map<string, Reason>();
  for (const verdict of verdicts) if (verdict.action === 'restart' && !seen.has(verdict.reason)) seen.set(verdict.reason, { reason: verdict.reason, details: verdict.details });
  return [...seen.values()];
}

/** A reason and its details as one text, for a note or a log line. */
export function fullText({ reason, details }: Reason): string {
  return details ? `${reason}: ${details}` : reason;
}
