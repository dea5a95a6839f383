import { type FSWatcher, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { EditBurst } from './edit-burst.js';
import { WatchedPaths } from './watched-paths.js';

/** A live watch on one directory, and which directory it was made on. */
interface DirectoryWatch {
  readonly watcher: FSWatcher;
  /** A removed directory made again is another directory that happens to have the same path. */
  readonly identity: string;
}

/**
 * Watches the crates' source files and reports each burst of saves once,
 * whatever wrote them: an editor writing in place or renaming a copy over
 * the file, `git checkout` unlinking and re-creating it, `rm` and `cp`.
 *
 * Every event the kernel reports for a watched file's name counts: no
 * throttling and no comparing of modification times, which lose a second
 * save that comes within a few milliseconds of the first.
 */
export class SourceWatcher {
  private readonly paths = new WatchedPaths();
  private readonly watches = new Map<string, DirectoryWatch>();
  private readonly burst: EditBurst;
  private closed = false;

  constructor(
    files: readonly string[],
    onEdit: (files: string[], firstEventAt: number) => void,
    quietMs = 8,
    /** A directory that cannot be watched: saves in it would go unseen, which the developer must know. */
    private readonly onError: (error: Error) => void = () => {},
  ) {
    this.burst = new EditBurst(quietMs, onEdit);
    this.add(files);
  }

  /** Start watching files that appeared in a newer dep-info. */
  add(files: readonly string[]): void {
    if (this.closed) return;
    for (const directory of this.paths.add(files)) this.arm(directory);
  }

  /** The watches are in place once the constructor returns; kept so that callers need not know. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.burst.cancel();
    for (const { watcher } of this.watches.values()) watcher.close();
    this.watches.clear();
  }

  /**
   * Watches `directory` unless the directory there is the one already
   * watched. True when a new watch was made (a directory that exists and
   * was not watched as it is now).
   */
  private arm(directory: string): boolean {
    const identity = identityOf(directory);
    const current = this.watches.get(directory);
    if (current && current.identity === identity) return false;
    // The old watch died with the directory it was made on.
    current?.watcher.close();
    this.watches.delete(directory);
    if (identity === undefined) return false;
    try {
      const watcher = watch(directory, (_event, name) => this.onEvent(directory, name));
      watcher.on('error', (error) => this.onError(error));
      this.watches.set(directory, { watcher, identity });
      return true;
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }

  private onEvent(directory: string, name: string | null): void {
    if (this.closed) return;
    // Without a name (some platforms, an overflowed queue) any watched entry may have changed.
    const paths = name === null ? this.paths.entriesOf(directory) : [join(directory, name)];
    for (const path of paths) {
      if (this.paths.isFile(path)) this.burst.record(path);
      // A watched directory removed and made again (a checkout of a revision
      // without it, and back): its files were created before a watch on it could see them.
      if (this.paths.isDirectory(path) && this.arm(path)) {
        for (const file of this.paths.filesIn(path)) this.burst.record(file);
      }
    }
  }
}

/** Which directory is at `path` now (inode and birth time), or undefined if none is. */
function identityOf(path: string): string | undefined {
  try {
    const stats = statSync(path);
    return stats.isDirectory() ? `${stats.dev}:${stats.ino}:${stats.birthtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}
