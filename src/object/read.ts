import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readArchive } from './archive/index.js';
import { readElf } from './elf/index.js';
import { ObjectFormatError } from './errors.js';
import { detectFormat } from './formats.js';
import { readMachO } from './macho/index.js';
import type { ObjectFile } from './model.js';

/**
 * Parse one buffer holding an object or an archive of objects. Archive members
 * that are not objects (an rlib's `lib.rmeta`) are skipped; a member that
 * claims to be an object but is corrupt is an error.
 */
export function readObjects(path: string, bytes: Uint8Array): ObjectFile[] {
  const format = detectFormat(bytes);
  switch (format) {
    case 'elf':
      return [readElf(path, bytes)];
    case 'macho':
      return [readMachO(path, bytes)];
    case 'archive':
      return readArchive(path, bytes).flatMap((member) => {
        const memberFormat = detectFormat(member.data);
        if (memberFormat !== 'elf' && memberFormat !== 'macho') return [];
        return readObjects(memberPath(path, member.name), member.data);
      });
    case 'unknown':
      throw new ObjectFormatError(path, 'file magic', 0, bytes.length === 0 ? 'the file is empty' : 'not an ELF or Mach-O object, nor an archive');
    default: {
      const unreachable: never = format;
      return unreachable;
    }
  }
}

/** `archive(member)`; control characters of a corrupt member name are escaped so errors stay on one line. */
function memberPath(path: string, name: string): string {
  const printable = name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${path}(${printable})`;
}

/** Read a file, or every object and archive below a directory, in a stable order. */
export async function readObjectPath(path: string): Promise<ObjectFile[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return readObjects(path, await readFile(path));
  const files = await listObjectFiles(path);
  const objects: ObjectFile[] = [];
  for (const file of files) objects.push(...readObjects(file, await readFile(file)));
  return objects;
}

const OBJECT_SUFFIXES = ['.o', '.obj', '.a', '.rlib'];

export async function listObjectFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && OBJECT_SUFFIXES.some((suffix) => entry.name.endsWith(suffix)))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}
