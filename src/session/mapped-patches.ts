import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** A patch library mapped into a process, as its memory map shows it. */
export interface MappedPatch {
  readonly id: number;
  /** The library's path, without the ` (deleted)` Linux appends once the file is gone. */
  readonly path: string;
  /** The lowest address of its mappings: where its first byte was loaded. */
  readonly start: bigint;
}

/**
 * The patch libraries ipbp linked for process `pid` (`patch-<id>-<pid>.so`)
 * that it has loaded, read from `/proc/<pid>/maps`, lowest id first. The
 * agent keeps a patch it received even if ipbp died meanwhile, so what is
 * mapped is what the process runs; a patch it never received is not mapped.
 */
export async function mappedPatchesOf(pid: number): Promise<MappedPatch[]> {
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
  const byPath = new Map<string, MappedPatch>();
  for (const line of maps.split('\n')) {
    // start-end perms offset dev inode path; the path may hold spaces.
    const match = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \S+\s+(\/.*)$/.exec(line);
    if (!match) continue;
    const path = match[2]!.replace(/ \(deleted\)$/, '');
    const name = /^patch-(\d+)-(\d+)\.so$/.exec(basename(path));
    if (!name || Number(name[2]) !== pid) continue;
    const start = BigInt(`0x${match[1]}`);
    const known = byPath.get(path);
    if (!known || start < known.start) byPath.set(path, { id: Number(name[1]), path, start });
  }
  return [...byPath.values()].sort((a, b) => a.id - b.id);
}

/** Whether `patch` was linked in `directory` (a generation's patch directory, as realpath gives it). */
export function isInDirectory(patch: MappedPatch, directory: string): boolean {
  return dirname(patch.path) === directory;
}
