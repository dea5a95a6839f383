import { readFileSync } from 'node:fs';
import { type Atom, type AtomIndex, indexAtoms } from '../diff/atoms.js';
import { readObjects } from '../object/read.js';
import type { ObjectFile } from '../object/model.js';

/**
 * The rlibs and archives on the program's link line, indexed by the symbols
 * they define. Consulted only when a patch needs a symbol the running binary
 * never linked (the first call of a std function), so it loads on first use.
 */
export class LibraryIndex {
  private loaded: { byName: Map<string, Atom>; indexes: Map<ObjectFile, AtomIndex> } | undefined;

  constructor(private readonly archives: readonly string[]) {}

  find(name: string): Atom | undefined {
    return this.load().byName.get(name);
  }

  indexOf(object: ObjectFile): AtomIndex | undefined {
    return this.loaded?.indexes.get(object);
  }

  /** Loads every archive; synchronous reads keep the planner simple and happen once a session. */
  private load(): { byName: Map<string, Atom>; indexes: Map<ObjectFile, AtomIndex> } {
    if (this.loaded) return this.loaded;
    const byName = new Map<string, Atom>();
    const indexes = new Map<ObjectFile, AtomIndex>();
    for (const archive of this.archives) {
      let objects: ObjectFile[];
      try {
        objects = readObjects(archive, readFileSync(archive));
      } catch {
        continue;
      }
      const index = indexAtoms(objects);
      for (const object of objects) indexes.set(object, index);
      for (const [name, atoms] of index.byName) {
        const definition = atoms.find((atom) => atom.symbol?.binding !== 'local') ?? atoms[0]!;
        if (!byName.has(name)) byName.set(name, definition);
      }
    }
    this.loaded = { byName, indexes };
    return this.loaded;
  }
}

