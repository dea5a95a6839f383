import { readdir, readFile } from 'node:fs/promises';

/**
 * Waits until process `parent` has a child running the program `name` (as
 * `/proc/<pid>/stat` names it) and returns its pid: a defined moment inside
 * a pipeline stage, such as rustc compiling an edit.
 */
export async function waitForChild(parent: number, name: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      // The command name is in parentheses and may hold spaces; the parent pid is the second field after it.
      const match = /^\d+ \((.*)\) \S+ (\d+) /.exec(stat);
      if (match && match[1] === name && Number(match[2]) === parent) return Number(entry);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`process ${parent} started no ${name} within ${timeoutMs} ms`);
}
