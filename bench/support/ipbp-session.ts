import { type ChildProcess, spawn } from 'node:child_process';
import type { CrossTarget } from '../apps.js';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LineStream } from './line-stream.js';
import { sleep } from './stats.js';
import { ROOT } from './work-copy.js';
import { completeLines } from '../../src/session/session-log.js';

/** The fields of ipbp's `--events` lines that the benchmark reads. */
export interface PatchStages {
  readonly compile: number;
  readonly diff: number;
  readonly link: number;
  readonly load: number;
  readonly total: number;
}

export type IpbpEvent =
  | { event: 'session'; socket: string; agent: string; binary: string }
  | { event: 'ready'; pid: number }
  | { event: 'patched'; patch: number; changed: string[]; added: string[]; ms: PatchStages; pids: number[] }
  | { event: 'no-change' | 'compile-error' | 'patch-failed' | 'unpatchable' | 'restart' | 'crashed' | 'exited'; [field: string]: unknown };

/** Events that end the handling of one edit (`unpatchable` is followed by `restart` unless --no-restart). */
export const OUTCOMES: ReadonlySet<string> = new Set(['patched', 'no-change', 'compile-error', 'patch-failed', 'unpatchable', 'restart', 'crashed']);
const EVENT_POLL_MS = 20;

/**
 * `ipbp run --events FILE` in a work copy, driven as a developer would: the
 * benchmark edits files and reads the app's output (ipbp's stdout) and
 * ipbp's events. stdin is a pipe the app inherits, for its commands.
 */
export class IpbpSession {
  readonly output: LineStream;
  private stderr = '';
  private consumed = 0;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly eventsPath: string,
  ) {
    this.output = new LineStream(child.stdout!);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      // Only the tail is ever shown; a long session must not grow without bound.
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    child.on('exit', (code) => (this.exitCode = code));
  }

  /** `target`: another target than the host's (`ipbp run --target`), with cargo's configuration of it. */
  static async start(directory: string, appArgs: readonly string[], target?: CrossTarget): Promise<IpbpSession> {
    const eventsPath = join(directory, 'ipbp-events.jsonl');
    await rm(eventsPath, { force: true });
    const targetArgs = target ? ['--target', target.triple] : [];
    const child = spawn(process.execPath, [join(ROOT, 'bin/ipbp.js'), 'run', '--events', eventsPath, ...targetArgs, '--', ...appArgs], {
      cwd: directory,
      env: { ...process.env, NO_COLOR: '1', ...target?.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new IpbpSession(child, eventsPath);
  }

  /** Sends one command line to the app's stdin. */
  command(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  async allEvents(): Promise<IpbpEvent[]> {
    const text = await readFile(this.eventsPath, 'utf8').catch(() => '');
    return completeLines(text).map((line) => JSON.parse(line) as IpbpEvent);
  }

  /** The next event of one of `kinds` after those already consumed. */
  async nextEvent(kinds: ReadonlySet<string>, timeoutMs: number): Promise<IpbpEvent> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const events = await this.allEvents();
      while (this.consumed < events.length) {
        const event = events[this.consumed++]!;
        if (kinds.has(event.event)) return event;
      }
      if (this.exitCode !== undefined) throw new Error(`ipbp exited (${this.exitCode})\n${this.stderrTail()}`);
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${[...kinds].join('/')} from ipbp\n${this.stderrTail()}`);
      await sleep(EVENT_POLL_MS);
    }
  }

  /** How ipbp handled the latest edit. */
  nextOutcome(timeoutMs: number): Promise<IpbpEvent> {
    return this.nextEvent(OUTCOMES, timeoutMs);
  }

  async session(timeoutMs: number): Promise<{ socket: string; binary: string; sessionDirectory: string }> {
    const event = await this.nextEvent(new Set(['session']), timeoutMs);
    if (event.event !== 'session') throw new Error('unreachable');
    return { socket: event.socket, binary: event.binary, sessionDirectory: dirname(event.socket) };
  }

  async ready(timeoutMs: number): Promise<number> {
    const event = await this.nextEvent(new Set(['ready']), timeoutMs);
    if (event.event !== 'ready') throw new Error('unreachable');
    return event.pid;
  }

  stderrTail(): string {
    return `--- ipbp stderr (tail):\n${this.stderr.slice(-3000)}\n--- app output (tail):\n${this.output.lastLines()}`;
  }

  /** Ctrl-C, as a developer ends a session; SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
