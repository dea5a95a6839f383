import { dirname, resolve } from 'node:path';

/**
 * The files whose saves matter, and the directories watched to see them.
 * A file is watched through its directory, never by itself: a watch on a
 * file follows its inode, which an atomic save (write a copy, rename it over)
 * or a `git checkout` (unlink, create) replaces. The directory's parent is
 * watched too, to see the directory itself come back after a checkout that
 * removed it.
 */
export class WatchedPaths {
  private readonly files = new Set<string>();
  /** Directories holding watched files. */
  private readonly directories = new Set<string>();
  /** Their parents: where a removed directory reappears. */
  private readonly parents = new Set<string>();

  /** Adds `files`; returns the directories to watch that were not watched yet. */
  add(files: Iterable<string>): string[] {
    const roots = new Set([...this.directories, ...this.parents]);
    const added: string[] = [];
    const watch = (directory: string): void => {
      if (roots.has(directory)) return;
      roots.add(directory);
      added.push(directory);
    };
    for (const file of files) {
      const path = resolve(file);
      this.files.add(path);
      const directory = dirname(path);
      this.directories.add(directory);
      watch(directory);
      this.parents.add(dirname(directory));
      watch(dirname(directory));
    }
    return added;
  }

  isFile(path: string): boolean {
    return this.files.has(path);
  }

  isDirectory(path: string): boolean {
    return this.directories.has(path);
  }

  /** The watched files and directories directly inside `directory`. */
  entriesOf(directory: string): string[] {
    return [...this.files, ...this.directories].filter((path) => dirname(path) === directory);
  }

  /** The watched files inside `directory`. */
  filesIn(directory: string): string[] {
    return [...this.files].filter((file) => dirname(file) === directory);
  }
}
