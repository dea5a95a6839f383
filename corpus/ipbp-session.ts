import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputLog } from './output-log.js';
import { completeLines } from '../src/session/session-log.js';

/** Compiled to dist/corpus/, so the repository root is two levels up. */
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const IPBP = join(REPOSITORY, 'bin', 'ipbp.js');

/** The terminal a TUI gets: a fixed size, so every run draws the same screen. */
const TERMINAL_ROWS = 30;
const TERMINAL_COLUMNS = 100;

export type IpbpEvent = Record<string, unknown> & { event: string };

export interface SessionOptions {
  readonly directory: string;
  readonly targetDirectory: string;
  readonly ipbpArgs: readonly string[];
  readonly appArgs: readonly string[];
  /** Give ipbp (and so the app, which inherits it) a pseudo-terminal. */
  readonly terminal: boolean;
  readonly eventsPath: string;
  /** Added to ipbp's environment, which the app inherits. */
  readonly env?: Record<string, string>;
}

/**
 * One real `ipbp run`, as a developer starts it in a terminal: the corpus
 * reads what it shows (`output`) and what it reports (its `--events`
 * file), and stops it with Ctrl-C's signal.
 *
 * A program that draws a screen needs a terminal: ipbp then runs under
 * util-linux `script`, which gives it a pseudo-terminal of a fixed size;
 * the app inherits it as its stdin, stdout and stderr.
 */
export class IpbpSession {
  readonly output = new OutputLog();
  private readonly child: ChildProcess;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(private readonly options: SessionOptions) {
    const ipbpCommand = [process.execPath, IPBP, 'run', '--events', options.eventsPath, ...options.ipbpArgs, '--', ...options.appArgs];
    const env = { ...process.env, NO_COLOR: '1', CARGO_TARGET_DIR: options.targetDirectory, ...options.env };
    if (options.terminal) {
      // `exec` makes ipbp the shell's successor, so it is `script`'s only child; -e passes its exit code on.
      const shell = `stty rows ${TERMINAL_ROWS} cols ${TERMINAL_COLUMNS}; exec ${ipbpCommand.map(shellQuote).join(' ')}`;
      // stdin stays an open pipe: `script` ends the session when its input closes.
      this.child = spawn('script', ['-qfec', shell, '/dev/null'], { cwd: options.directory, env, stdio: ['pipe', 'pipe', 'pipe'] });
    } else {
      this.child = spawn(ipbpCommand[0]!, ipbpCommand.slice(1), { cwd: options.directory, env, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.output.append(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => this.output.append(chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  /** Whether ipbp has exited, and how. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exit;
  }

  async events(): Promise<IpbpEvent[]> {
    const text = await readFile(this.options.eventsPath, 'utf8').catch(() => '');
    return completeLines(text).map((line) => JSON.parse(line) as IpbpEvent);
  }

  /**
   * Ctrl-C: SIGINT to ipbp itself (under `script`, its child; the app may
   * have put the terminal in raw mode, so a typed ^C would not become a
   * signal). Resolves with ipbp's exit code, or a description of how it
   * failed to exit within `timeoutMs` (it is then killed).
   */
  async interrupt(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }> {
    if (!this.exit) {
      const ipbpPid = this.options.terminal ? childrenOf(this.child.pid!)[0] : this.child.pid;
      if (ipbpPid !== undefined) signal(ipbpPid, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([this.exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
      // A pending timer would keep the corpus process alive after its last project.
      clearTimeout(timer);
      if (timedOut) {
        this.kill();
        await this.exited;
        return { ...this.exit!, timedOut: true };
      }
    }
    return { ...this.exit!, timedOut: false };
  }

  /** Last resort after a failure: ipbp and, under `script`, the terminal session. */
  kill(): void {
    if (this.exit) return;
    if (this.options.terminal) for (const pid of childrenOf(this.child.pid!)) signal(pid, 'SIGKILL');
    signal(this.child.pid!, 'SIGKILL');
  }
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself hold spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A process's children, from every one of its threads' `children` list. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) children.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // Gone already: no children to signal.
  }
  return children;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
