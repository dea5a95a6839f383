import { type FSWatcher, watch } from 'chokidar';

/**
 * Watches the crates' source files and reports each burst of saves once.
 * Editors write a file several times (truncate, write, rename); a short
 * quiet period folds those into one edit.
 */
export class SourceWatcher {
  private readonly watcher: FSWatcher;
  private pending = new Set<string>();
  private firstEventAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    files: readonly string[],
    private readonly onEdit: (files: string[], firstEventAt: number) => void,
    private readonly quietMs = 8,
  ) {
    this.watcher = watch([...files], { ignoreInitial: true, atomic: true });
    this.watcher.on('change', (path) => this.record(path));
    this.watcher.on('add', (path) => this.record(path));
  }

  /** Start watching files that appeared in a newer dep-info. */
  add(files: readonly string[]): void {
    this.watcher.add([...files]);
  }

  ready(): Promise<void> {
    return new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.watcher.close();
  }

  private record(path: string): void {
    if (this.pending.size === 0) this.firstEventAt = performance.now();
    this.pending.add(path);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const files = [...this.pending];
      this.pending = new Set();
      this.onEdit(files, this.firstEventAt);
    }, this.quietMs);
  }
}
