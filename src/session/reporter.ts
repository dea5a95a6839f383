import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { errorText } from '../errors/describe-error.js';

/**
 * The machine-readable events of a session, one JSON object per line, as
 * `schema/events.schema.json` describes them (the reporter adds `time` and
 * `session` to each).
 */
export type SessionEvent =
  /** Where agents connect, and what they load: lets tools attach more processes of the same build. */
  | { event: 'session'; socket: string; agent: string; binary: string }
  | { event: 'ready'; pid: number }
  /** A process a killed session launched, taken over by this one; `patches` are the ids it had applied. */
  | { event: 'adopted'; pid: number; patches: number[] }
  | {
      event: 'patched';
      patch: number;
      /** The saved files the patch comes from. */
      files: string[];
      changed: string[];
      added: string[];
      /** Types whose layout changed, migrated by the app's `ipbp::migrate` hooks. */
      migrated: string[];
      /** Functions patched only because code above them moved (their source positions changed). */
      moved: string[];
      /** What the judges want the user to know about this patch. */
      notes: string[];
      ms: { compile: number; diff: number; link: number; load: number; total: number };
      /** rustc's wall time for each crate compiled, in build order. */
      compiled: Array<{ crate: string; ms: number }>;
      pids: number[];
    }
  | { event: 'no-change'; files: string[] }
  | { event: 'compile-error'; message: string }
  /** `patch` is 0: the failure is the edit's round's (a refused patch, a killed or missing rustc or linker, a build script that failed when rerun). */
  | { event: 'patch-failed'; patch: number; message: string; pids: number[] }
  /** A change a patch cannot apply, with `restarting` false under --no-restart. */
  | { event: 'unpatchable'; reasons: string[]; details: string[]; restarting: boolean }
  /** `reason`: one short line naming the item and where the edit is; `details` explain it. */
  | { event: 'restart'; reason: string; details: string[] }
  /** The app faulted, aborted or panicked; `lastPatch` is the newest patch sent to it (`confirmed` once it said it was live). */
  | { event: 'crashed'; pid: number; signal: string | null; code: number | null; lastPatch: { patch: number; changed: string[]; confirmed: boolean } | null }
  | { event: 'exited'; pid: number; code: number | null; signal: string | null }
  /** The first client the channel refused for a reason (the rest are counted): a reset, a wrong token, a flood… */
  | { event: 'refused'; kind: string; peer: string; detail: string };

/**
 * Everything the session tells the developer: short lines on stderr (the
 * app owns stdout), and the same facts as JSON lines for editors and tests.
 */
export class Reporter {
  /** `--events -`: the events go to stdout. */
  private readonly eventsToStdout: boolean;
  /**
   * The files the events go to: `--events FILE` and the session directory's
   * log (`session-log.ts`). One that fails (a full disk) is dropped, with a
   * warning, and the session goes on.
   */
  private readonly files = new Set<WriteStream>();
  private readonly color: boolean;
  /** Names this session in every event: a tool following the file tells sessions apart. */
  private readonly sessionId = randomBytes(8).toString('hex');

  constructor(
    eventsPath: string | undefined,
    private readonly listener?: (event: SessionEvent) => void,
    /** -1 under `--quiet`, the number of `-v`s otherwise. */
    private readonly verbosity = 0,
  ) {
    this.eventsToStdout = eventsPath === '-';
    // Afresh per session: a tool that reads it follows one session.
    if (eventsPath && eventsPath !== '-') this.writeTo(eventsPath, { flags: 'w' }, `the events file ${eventsPath}`, 'no more events go to it');
    const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
    this.color = forced || (process.stderr.isTTY === true && process.env.NO_COLOR === undefined);
  }

  /** What the session is doing: not under `--quiet`. */
  info(message: string): void {
    if (this.verbosity >= 0) this.notice(message);
  }

  /** What the developer must see even under `--quiet`: the app restarts, or does not when it would have. */
  notice(message: string): void {
    process.stderr.write(`${this.paint('36', '[ipbp]')} ${message}\n`);
  }

  /** More of it, under `-v`. */
  detail(message: string): void {
    if (this.verbosity > 0) process.stderr.write(`${this.paint('2', '[ipbp]')} ${message}\n`);
  }

  warn(message: string): void {
    process.stderr.write(`${this.paint('33', '[ipbp] warning:')} ${message}\n`);
  }

  error(message: string): void {
    process.stderr.write(`${this.paint('31', '[ipbp] error:')} ${message}\n`);
  }

  /** Text as rustc rendered it (already coloured or plain). */
  raw(text: string): void {
    process.stderr.write(this.color ? `${text}\n` : `${stripAnsi(text)}\n`);
  }

  /** Also writes every event from now on to `path`, after what it holds (an adopting session goes on with its log). */
  logTo(path: string): void {
    this.writeTo(path, { flags: 'a', mode: 0o600 }, `the session log ${path}`, '`ipbp log` and `ipbp status` miss what follows');
  }

  emit(event: SessionEvent): void {
    const stamped = { ...event, time: new Date().toISOString(), session: this.sessionId };
    // rustc's messages come coloured for the terminal; a file for tools holds the text alone.
    const line = `${JSON.stringify(stamped, (_key, value: unknown) => (typeof value === 'string' ? stripAnsi(value) : value))}\n`;
    if (this.eventsToStdout) process.stdout.write(line);
    for (const file of this.files) file.write(line);
    this.listener?.(event);
  }

  async close(): Promise<void> {
    // (A file that failed was dropped: destroyed, it would never call back.)
    for (const file of this.files) await new Promise<void>((resolve) => file.end(resolve));
  }

  private writeTo(path: string, options: { flags: 'w' | 'a'; mode?: number }, what: string, consequence: string): void {
    const file = createWriteStream(path, options);
    file.on('error', (error) => {
      if (this.files.delete(file)) this.warn(`cannot write ${what} (${errorText(error)}); ${consequence}`);
    });
    this.files.add(file);
  }

  private paint(code: string, text: string): string {
    return this.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
