import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * Every file of a project copy except build output and the tests' event
 * logs, by relative path: to prove that ipbp never wrote to the user's files.
 */
export async function snapshotSources(directory: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const name = relative(directory, path);
      if (name === 'target' || /^events.*\.jsonl$/.test(name)) continue;
      if (entry.isDirectory()) await walk(path);
      else files.set(name, await readFile(path));
    }
  };
  await walk(directory);
  return files;
}

/** The files that differ between two snapshots, for an assertion message. */
export function differingFiles(expected: ReadonlyMap<string, Buffer>, actual: ReadonlyMap<string, Buffer>): string[] {
  const names = new Set([...expected.keys(), ...actual.keys()]);
  return [...names].filter((name) => {
    const a = expected.get(name);
    const b = actual.get(name);
    return !a || !b || !a.equals(b);
  });
}
