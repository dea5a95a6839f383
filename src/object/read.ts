import type { BigIntStats } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
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
  return readObjectsOf(path, bytes, undefined);
}

/**
 * `readObjects` of each of `files` (objects or archives), handing back the
 * very object of `earlier` (what an earlier read returned) wherever one has
 * the same bytes. Parsing is most of the cost of reading a build, and
 * rustc's incremental build rewrites only the codegen units an edit
 * touched; the diff also knows an object it has seen by its identity.
 * Objects are matched by content, not name: rustc names a unit's object
 * after the compiler session that made it. A file that is still the inode
 * an earlier object was read from, unmodified since, is not even read:
 * rustc hard-links the objects of the codegen units it reuses from its
 * incremental cache, so those keep their inode from build to build.
 */
export async function readObjectFilesReusing(files: readonly string[], earlier: readonly ObjectFile[]): Promise<ObjectFile[]> {
  const reusable = new ReusableObjects(earlier);
  const objects: ObjectFile[] = [];
  for (const file of files) {
    const identity = fileIdentity(await stat(file, { bigint: true }));
    const same = reusable.takeFile(identity);
    if (same) {
      objects.push(same);
      continue;
    }
    const read = readObjectsOf(file, await readFile(file), reusable);
    if (read.length === 1) fileIdentities.set(read[0]!, identity);
    objects.push(...read);
  }
  return objects;
}

/** The bytes each parsed object was read from. */
const sourceBytes = new WeakMap<ObjectFile, Uint8Array>();
/** The file each object read from a file of its own was read from, as it was then. */
const fileIdentities = new WeakMap<ObjectFile, string>();

/** A file's inode, size and modification time: equal, and the file holds the same bytes. */
function fileIdentity(info: BigIntStats): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
}

/** Earlier objects by size and by file, each handed out at most once (two units could be alike, and each must stay its own object). */
class ReusableObjects {
  private readonly bySize = new Map<number, ObjectFile[]>();
  private readonly byFile = new Map<string, ObjectFile>();

  constructor(objects: readonly ObjectFile[]) {
    for (const object of objects) {
      const bytes = sourceBytes.get(object);
      if (!bytes) continue;
      const list = this.bySize.get(bytes.byteLength);
      if (list) list.push(object);
      else this.bySize.set(bytes.byteLength, [object]);
      const file = fileIdentities.get(object);
      if (file !== undefined) this.byFile.set(file, object);
    }
  }

  takeFile(identity: string): ObjectFile | undefined {
    const object = this.byFile.get(identity);
    if (object) this.remove(object);
    return object;
  }

  take(bytes: Uint8Array): ObjectFile | undefined {
    const candidates = this.bySize.get(bytes.byteLength);
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const object = candidates?.find((candidate) => view.equals(sourceBytes.get(candidate)!));
    if (object) this.remove(object);
    return object;
  }

  private remove(object: ObjectFile): void {
    const list = this.bySize.get(sourceBytes.get(object)!.byteLength)!;
    list.splice(list.indexOf(object), 1);
    const file = fileIdentities.get(object);
    if (file !== undefined && this.byFile.get(file) === object) this.byFile.delete(file);
  }
}

function readObjectsOf(path: string, bytes: Uint8Array, reusable: ReusableObjects | undefined): ObjectFile[] {
  const format = detectFormat(bytes);
  switch (format) {
    case 'elf':
    case 'macho': {
      const earlier = reusable?.take(bytes);
      if (earlier) return [earlier];
      const object = format === 'elf' ? readElf(path, bytes) : readMachO(path, bytes);
      sourceBytes.set(object, bytes);
      return [object];
    }
    case 'archive':
      return readArchive(path, bytes).flatMap((member) => {
        const memberFormat = detectFormat(member.data);
        if (memberFormat !== 'elf' && memberFormat !== 'macho') return [];
        const earlier = reusable?.take(member.data);
        if (earlier) return [earlier];
        // A session keeps the few members an edit changed for many edits: each in a buffer of its own, not a view that keeps the whole archive.
        // Uint8Array.from copies; a Buffer's `slice` would be a view.
        return readObjectsOf(memberPath(path, member.name), reusable ? Uint8Array.from(member.data) : member.data, undefined);
      });
    case 'unknown':
      throw new ObjectFormatError(path, 'file magic', 0, bytes.length === 0 ? 'the file is empty' : 'not an ELF or Mach-O object, nor an archive');
    default: {
      const unreachable: never = format;
      return unreachable;
    }
  }
}

/** The member name in an archive member's path (`archive(member)`), or the path's file name. */
export function archiveMemberName(path: string): string {
  const member = /\(([^()]*)\)$/.exec(path);
  return member ? member[1]! : basename(path);
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
