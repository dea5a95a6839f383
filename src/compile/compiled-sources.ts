import { readFile, stat } from 'node:fs/promises';
import { dependentsMayChange } from './body-only-edit.js';

/**
 * The text each source file had when the code that runs was compiled from
 * it, wherever that is certain: what tells whether an edit can change what
 * the crates depending on its crate compile (`dependentsMayChange`). A file
 * whose compiled text is unknown (saved while rustc ran, say) counts as
 * changing them.
 */
export class CompiledSources {
  private readonly texts = new Map<string, string>();

  /** The files of a crate a build compiled, those not saved since rustc wrote `depInfo` (after reading them). */
  async rememberBuilt(files: Iterable<string>, depInfo: string): Promise<void> {
    const built = await stat(depInfo).catch(() => undefined);
    if (!built) return;
    for (const file of files) {
      const source = await stat(file).catch(() => undefined);
      if (source && source.mtimeMs < built.mtimeMs) this.texts.set(file, await readFile(file, 'utf8'));
    }
  }

  /** What `files` hold now, read before a round compiles them. */
  async read(files: readonly string[]): Promise<Map<string, string>> {
    const snapshot = new Map<string, string>();
    for (const file of files) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined) snapshot.set(file, text);
    }
    return snapshot;
  }

  /**
   * Why compiling `files` as they are in `snapshot` may change what
   * dependents compile, against the code that runs; undefined when it cannot.
   */
  interfaceChange(files: readonly string[], snapshot: ReadonlyMap<string, string>): string | undefined {
    for (const file of files) {
      const before = this.texts.get(file);
      const after = snapshot.get(file);
      if (before === undefined || after === undefined) return `${file}: its compiled text is unknown`;
      const reason = dependentsMayChange(before, after);
      if (reason) return `${file}: ${reason}`;
    }
    return undefined;
  }

  /** The processes run what a round compiled from `snapshot`, read at `readAt` (wall clock); a file saved since may not be what rustc read. */
  async adopt(snapshot: ReadonlyMap<string, string>, readAt: number): Promise<void> {
    for (const [file, text] of snapshot) {
      const source = await stat(file).catch(() => undefined);
      if (source && source.mtimeMs < readAt) this.texts.set(file, text);
      else this.texts.delete(file);
    }
  }
}
