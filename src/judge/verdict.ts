/**
 * What a judge decided about one change of an edit. A change no judge speaks
 * about is patched plainly; a `note` patches and tells the user something
 * they should know; a `restart` means a patch cannot make the running
 * program behave like the saved code, and says why in words the user reads.
 */
export interface Verdict {
  readonly action: 'note' | 'restart';
  /** The judge that decided: for events and tests. */
  readonly judge: string;
  readonly reason: string;
}

export function restart(judge: string, reason: string): Verdict {
  return { action: 'restart', judge, reason };
}

export function note(judge: string, reason: string): Verdict {
  return { action: 'note', judge, reason };
}

/** The reasons of the verdicts that need a restart, each once. */
export function restartReasons(verdicts: readonly Verdict[]): string[] {
  return [...new Set(verdicts.filter((verdict) => verdict.action === 'restart').map((verdict) => verdict.reason))];
}
