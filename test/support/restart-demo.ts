import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Event, IpbpRun } from './ipbp-run.js';

/** One line of examples/restart-demo. */
export interface DemoLine {
  readonly pid: number;
  readonly tick: number;
  readonly label: string;
  readonly limit: number;
  readonly scale: number;
  readonly local: number;
  readonly area: number;
  readonly note: string;
  readonly loudness: string;
  /** What the crate outside the workspace (`extlib`) says. */
  readonly ext: string;
  /** What `main` gets through the function pointer it took at startup. */
  readonly cb: number;
}

const LINE = /^pid=(\d+) tick=(\d+) label=(\S+) limit=(\d+) scale=(\d+) local=(\d+) area=(\d+) note=(\S+) (\S+) ext=(\S+) cb=(\d+)$/;

export function parseDemoLine(line: string): DemoLine | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const [, pid, tick, label, limit, scale, local, area, note, loudness, ext, cb] = match;
  return { pid: Number(pid), tick: Number(tick), label: label!, limit: Number(limit), scale: Number(scale), local: Number(local), area: Number(area), note: note!, loudness: loudness!, ext: ext!, cb: Number(cb) };
}

/** Waits for a line of process `pid` (from output index `from` on) for which `matches` holds. */
export async function waitForDemoLine(session: IpbpRun, pid: number, matches: (line: DemoLine) => boolean, from = 0, timeoutMs = 60_000): Promise<DemoLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = linesOf(session, pid, from).find(matches);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`no matching line from pid ${pid}\n--- last output:\n${session.stdout.slice(-5).join('\n')}\n--- stderr:\n${session.stderr.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The lines process `pid` printed from output index `from` on. */
export function linesOf(session: IpbpRun, pid: number, from = 0): DemoLine[] {
  return session.stdout
    .slice(from)
    .map(parseDemoLine)
    .filter((line): line is DemoLine => line?.pid === pid);
}

/**
 * Applies several replacements to one file of the copy in a single write,
 * as one save in an editor would, and records the new bytes in `written`
 * (what the test itself changed, for the "no edit is lost" check).
 */
export async function editAll(session: IpbpRun, relativePath: string, replacements: ReadonlyArray<readonly [string, string]>, written: Map<string, Buffer>): Promise<void> {
  const path = join(session.directory, relativePath);
  let text = await readFile(path, 'utf8');
  for (const [from, to] of replacements) {
    assert.equal(text.split(from).length, 2, `edit anchor must occur once in ${relativePath}: ${from}`);
    text = text.replace(from, to);
  }
  await writeFile(path, text);
  written.set(relativePath, Buffer.from(text));
}

/** Waits for the `count`-th event (1-based) of a kind, so that repeated kinds are told apart. */
export async function waitForNthEvent(session: IpbpRun, kind: string, count: number, timeoutMs = 120_000): Promise<Event> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await session.events()).filter((event) => event.event === kind);
    if (events.length >= count) return events[count - 1]!;
    if (Date.now() > deadline || session.exited) {
      throw new Error(`no ${kind} event #${count} (exited: ${session.exited})\n--- events:\n${JSON.stringify(await session.events())}\n--- stderr:\n${session.stderr.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function countEvents(session: IpbpRun, kind: string): Promise<number> {
  return (await session.events()).filter((event) => event.event === kind).length;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
