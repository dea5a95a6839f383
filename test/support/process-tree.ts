import { readdir } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';

/** One process as `/proc` shows it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly parent: number;
  /** The command name (`/proc/<pid>/stat`), e.g. `rustc`. */
  readonly name: string;
  /** The arguments, NUL-separated in `/proc/<pid>/cmdline`, here as a list. */
  readonly argv: string[];
}

async function processes(): Promise<ProcessEntry[]> {
  const entries: ProcessEntry[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const found = entryOf(Number(entry));
    if (found) entries.push(found);
  }
  return entries;
}

/** One process, read from `/proc` (undefined once it is gone). */
export function entryOf(pid: number): ProcessEntry | undefined {
  const stat = readOr(`/proc/${pid}/stat`);
  // The command name is in parentheses and may hold spaces; the parent pid is the second field after it.
  const match = /^\d+ \((.*)\) \S+ (\d+) /.exec(stat);
  if (!match) return undefined;
  const argv = readOr(`/proc/${pid}/cmdline`).split('\0').filter(Boolean);
  return { pid, parent: Number(match[2]), name: match[1]!, argv };
}

/** The children of `pid`, as the kernel lists them for each of its threads. */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((task) => readOr(`/proc/${pid}/task/${task}/children`).split(' ').filter(Boolean).map(Number));
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Every process below `root` (children, their children…). Read from the
 * kernel's lists of children rather than from all of `/proc`: a few files
 * instead of hundreds, so that a short-lived compiler is not missed.
 */
export async function descendantsOf(root: number): Promise<ProcessEntry[]> {
  const found: ProcessEntry[] = [];
  const parents = [root];
  while (parents.length > 0) {
    for (const child of childrenOf(parents.pop()!)) {
      const entry = entryOf(child);
      if (!entry) continue;
      found.push(entry);
      parents.push(child);
    }
  }
  return found;
}

/**
 * Waits until a process below `root` runs `name` with arguments that
 * `matches` accepts, and returns every process below `root` at that moment:
 * a defined moment inside a build (rustc compiling a given crate), and the
 * processes that must all be gone once ipbp has quit.
 */
export async function waitForDescendant(root: number, name: string, matches: (argv: string[]) => boolean = () => true, timeoutMs = 120_000): Promise<ProcessEntry[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const below = await descendantsOf(root);
    if (below.some((entry) => entry.name === name && matches(entry.argv))) return below;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`no ${name} ran below process ${root} within ${timeoutMs} ms`);
}

/** Whether `pid` still runs: a zombie nobody reaped yet counts as gone. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** The running processes whose command line mentions `text` (a project copy's directory: its app, cargo, rustc). */
export async function runningProcessesMentioning(text: string): Promise<ProcessEntry[]> {
  return (await processes()).filter((entry) => entry.argv.some((arg) => arg.includes(text)) && isRunning(entry.pid));
}
