import { existsSync } from 'node:fs';

/**
 * Folds a burst of file events into one edit, reported after a quiet period.
 * Editors write a file several times (truncate, write, rename) and version
 * control replaces it (unlink, create); only what is there once the burst
 * is over counts. A file missing then is left out: it is either being
 * re-created, and its creation starts a burst of its own, or it was deleted
 * for good, which is no edit to compile.
 */
export class EditBurst {
  private pending = new Set<string>();
  private firstEventAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly quietMs: number,
    private readonly onEdit: (files: string[], firstEventAt: number) => void,
    private readonly exists: (path: string) => boolean = existsSync,
  ) {}

  record(path: string): void {
    if (this.pending.size === 0) this.firstEventAt = performance.now();
    this.pending.add(path);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.quietMs);
  }

  /** Drops what is pending: nothing is reported after this. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = new Set();
  }

  private flush(): void {
    this.timer = undefined;
    const present = [...this.pending].filter((path) => this.exists(path));
    this.pending = new Set();
    if (present.length > 0) this.onEdit(present, this.firstEventAt);
  }
}
