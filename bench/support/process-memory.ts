import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Resident set size of a live process, in bytes (VmRSS of /proc/<pid>/status). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** How many files below `directory` have names that pass `accept`, and their total bytes. */
export async function filesBelow(directory: string, accept: (name: string) => boolean = () => true): Promise<{ files: number; bytes: number }> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  let files = 0;
  let bytes = 0;
  for (const entry of entries) {
    if (!entry.isFile() || !accept(entry.name)) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}
