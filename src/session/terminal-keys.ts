import { readFileSync } from 'node:fs';

/** What each key does, in the order `h` lists them. */
export interface KeyActions {
  readonly restart: () => void;
  readonly togglePause: () => void;
  readonly quit: () => void;
  readonly help: () => void;
}

/** The keys and what `h` says of them. */
export const KEY_HELP: ReadonlyArray<readonly [key: string, meaning: string]> = [
  ['r', 'restart the app now, on a fresh build'],
  ['p', 'pause patching (saves wait), or resume it'],
  ['q', 'quit (Ctrl-C too)'],
  ['h', 'show these keys'],
];

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';

/**
 * One-key commands from an interactive terminal, as dev servers offer
 * them. The terminal is put in raw mode, so Ctrl-C arrives as a key rather
 * than a signal to the whole foreground group (the app included); it quits
 * as `q` does. The app then gets no stdin: `--no-keys` hands it back.
 */
export class TerminalKeys {
  private constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly onData: (chunk: string) => void,
  ) {}

  /**
   * Starts reading keys if stdin is a terminal and ipbp runs in its
   * foreground; undefined otherwise (a pipe, /dev/null, a CI job, `ipbp run &`,
   * where changing the terminal's mode would stop ipbp with SIGTTOU).
   */
  static start(actions: KeyActions, input: NodeJS.ReadStream = process.stdin): TerminalKeys | undefined {
    if (!input.isTTY || !inTerminalForeground()) return undefined;
    const onData = (chunk: string): void => {
      for (const key of chunk) {
        if (key === 'r') actions.restart();
        else if (key === 'p') actions.togglePause();
        else if (key === 'q' || key === CTRL_C || key === CTRL_D) actions.quit();
        else if (key === 'h' || key === '?') actions.help();
      }
    };
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
    const keys = new TerminalKeys(input, onData);
    // Whatever ends the process, the terminal must not stay raw (no echo, no line editing).
    process.once('exit', keys.restoreTerminal);
    return keys;
  }

  /** Gives the terminal back as it was. */
  close(): void {
    this.input.off('data', this.onData);
    this.input.pause();
    this.restoreTerminal();
    process.off('exit', this.restoreTerminal);
  }

  private readonly restoreTerminal = (): void => {
    if (this.input.isTTY) this.input.setRawMode(false);
  };
}

/**
 * Whether this process's group is the foreground group of its terminal
 * (`/proc/self/stat`: the process group, and the terminal's foreground one).
 */
function inTerminalForeground(): boolean {
  try {
    // After the command name, which may hold spaces and parentheses: state, ppid, pgrp, session, tty_nr, tpgid.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[2] !== undefined && fields[2] === fields[5];
  } catch {
    return false;
  }
}
