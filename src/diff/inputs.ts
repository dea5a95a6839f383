import { readFile, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import type { ObjectFile } from '../object/model.js';
import { listObjectFiles, readObjects } from '../object/read.js';

export interface DiffInputs {
  readonly old: ObjectFile[];
  readonly new: ObjectFile[];
  /** Files byte-identical on both sides, which were not parsed. */
  readonly identicalFiles: number;
  /** Files read on each side, identical ones included. */
  readonly files: { readonly old: number; readonly new: number };
}

/**
 * The objects of two builds, minus the files that are byte-identical on both
 * sides. An identical file cannot hold a change: its symbols keep their
 * names, and its anonymous data is only reachable from inside it, so
 * skipping it changes no fingerprint of anything else. Most of a dependency
 * graph's archives are identical between two builds, and comparing bytes is
 * far cheaper than parsing them.
 */
export async function readDiffInputs(oldPath: string, newPath: string): Promise<DiffInputs> {
  const [oldFiles, newFiles] = await Promise.all([inputFiles(oldPath), inputFiles(newPath)]);
  const [oldBytes, newBytes] = await Promise.all([readAll(oldFiles), readAll(newFiles)]);
  const identical = new Set<string>();
  for (const [key, bytes] of oldBytes) {
    const other = newBytes.get(key);
    if (other && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(other)) identical.add(key);
  }
  return {
    old: parse(oldBytes, oldFiles, identical),
    new: parse(newBytes, newFiles, identical),
    identicalFiles: identical.size,
    files: { old: oldFiles.size, new: newFiles.size },
  };
}

/** Files keyed by their path relative to the given directory (or by '' for a single file). */
async function inputFiles(path: string): Promise<Map<string, string>> {
  if (!(await stat(path)).isDirectory()) return new Map([['', path]]);
  const files = await listObjectFiles(path);
  return new Map(files.map((file) => [relative(path, file), file]));
}

async function readAll(files: ReadonlyMap<string, string>): Promise<Map<string, Buffer>> {
  const entries = await Promise.all([...files].map(async ([key, file]) => [key, await readFile(file)] as const));
  return new Map(entries);
}

function parse(bytes: ReadonlyMap<string, Buffer>, files: ReadonlyMap<string, string>, skip: ReadonlySet<string>): ObjectFile[] {
  const objects: ObjectFile[] = [];
  for (const [key, data] of bytes) {
    if (!skip.has(key)) objects.push(...readObjects(files.get(key)!, data));
  }
  return objects;
}
