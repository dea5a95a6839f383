import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { SessionEvent } from './reporter.js';

/**
 * A session's events, as `--events` writes them, kept in the project's
 * session directory (private to the user) for as long as the session's
 * record: what `ipbp log` and `ipbp status` read from another terminal, so
 * that following a session needs no second protocol.
 */
export function sessionLogPath(sessionDirectory: string): string {
  return join(sessionDirectory, 'events.jsonl');
}

/**
 * The whole lines of an events file that may still be being written (by
 * `--events`, or into the log): a reader can see the last line half
 * written, which is no event yet.
 */
export function completeLines(text: string): string[] {
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** A logged event: what the reporter wrote, stamped. */
export type LoggedEvent = SessionEvent & { readonly time: string; readonly session: string };

/** Where a reader of the log got to: the file (a new session writes a new one) and the bytes read of it. */
export interface LogPosition {
  readonly file: bigint;
  readonly offset: number;
}

/**
 * The events logged since `from`, and where the next read starts; an
 * incomplete last line waits for the next read. A log that is another file
 * than `from`'s (a new session started) is read from its start. Undefined
 * when there is no log.
 */
export async function readSessionLog(path: string, from?: LogPosition): Promise<{ events: LoggedEvent[]; next: LogPosition } | undefined> {
  const info = await stat(path, { bigint: true }).catch(() => undefined);
  const bytes = info && (await readFile(path).catch(() => undefined));
  if (!info || !bytes) return undefined;
  const offset = from?.file === info.ino && from.offset <= bytes.length ? from.offset : 0;
  const end = Math.max(offset, bytes.lastIndexOf(0x0a) + 1);
  const events: LoggedEvent[] = [];
  for (const line of bytes.subarray(offset, end).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as LoggedEvent);
    } catch {
      // A line another writer left half-written (ipbp killed mid-write): not an event.
    }
  }
  return { events, next: { file: info.ino, offset: end } };
}

/** One line of `ipbp log` for an event that says what became of an edit or a process; undefined for the others. */
export function logLine(event: LoggedEvent, root: string): string | undefined {
  const at = event.time.slice(11, 19);
  switch (event.event) {
    case 'patched': {
      const names = [...event.changed, ...event.added.map((name) => `+${name}`)].join(', ');
      const files = event.files.map((file) => relative(root, file)).join(', ');
      return `${at}  patch ${event.patch} live in ${Math.round(event.ms.total)} ms  ${files}: ${names}`;
    }
    case 'no-change':
      return `${at}  no code change  ${event.files.map((file) => relative(root, file)).join(', ')}`;
    case 'compile-error':
      return `${at}  compile error  ${event.message.split('\n').find((line) => line.trim() !== '') ?? ''}`;
    case 'patch-failed':
      return `${at}  patch failed  ${event.message.split('\n')[0]}`;
    case 'restart':
      return `${at}  restart  ${event.reason}`;
    case 'ready':
      return `${at}  pid ${event.pid} running, patchable`;
    case 'crashed':
      return `${at}  pid ${event.pid} crashed (${event.signal ?? `exit code ${event.code}`})`;
    case 'exited':
      return `${at}  pid ${event.pid} exited (${event.signal ?? `code ${event.code}`})`;
    default:
      return undefined;
  }
}

/** The processes of the session that run, as its log tells: started (or adopted), and not exited or crashed since. */
export function runningPids(events: readonly LoggedEvent[]): number[] {
  const running = new Set<number>();
  for (const event of events) {
    if (event.event === 'ready' || event.event === 'adopted') running.add(event.pid);
    else if (event.event === 'exited' || event.event === 'crashed') running.delete(event.pid);
  }
  return [...running];
}
