import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAST_RESORT_MARK } from '../../src/cli/last-resort.js';
import { sessionDirectoryOf } from '../../src/deliver/session-directory.js';
import { eventsOffSchema } from './events-schema.js';
import { REPOSITORY as repository } from './repository.js';
import { completeLines } from '../../src/session/session-log.js';


export type Event = Record<string, unknown> & { event: string };

/**
 * One cargo target directory for the tests' real-world apps: their
 * crates.io dependencies (tokio, tracing, bevy) are built once per machine,
 * not once per test. Each copy stays its own project (ipbp keys a session by
 * workspace and target directory).
 */
export const SHARED_TARGET_DIRECTORY = join(tmpdir(), 'ipbp-test-apps-target');

/**
 * A real `ipbp run` on a temporary copy of one of `examples/`: the tests edit
 * the copy's sources and read what the running app prints (its stdout) and
 * what ipbp reports (its stderr and its `--events` file).
 */
export class IpbpRun {
  readonly stdout: string[] = [];
  stderr = '';
  private partial = '';
  private readonly waiters = new Set<() => void>();
  private exitCode: number | null | undefined;

  private constructor(
    readonly directory: string,
    /** Cargo's target directory for the copy: its own, or the one the real-app tests share. */
    readonly targetDirectory: string,
    /** What ipbp ran with beyond the test's environment: another ipbp in the project needs the same. */
    readonly env: NodeJS.ProcessEnv,
    readonly eventsPath: string,
    readonly child: ChildProcess,
    /** Run in a pseudo-terminal: what ipbp and the app write arrives mixed, as a developer sees it. */
    private readonly terminal = false,
  ) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (received: string) => {
      // A terminal's lines end in CRLF, and cargo colours what it says there.
      const chunk = terminal ? received.replace(/\r/g, '').replace(/\u001b\[[0-9;]*m/g, '') : received;
      if (terminal) this.stderr += chunk;
      const text = this.partial + chunk;
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      this.stdout.push(...lines);
      this.notify();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    child.on('exit', (code) => {
      this.exitCode = code;
      this.notify();
    });
  }

  /**
   * `env.CARGO_TARGET_DIR` (e.g. `SHARED_TARGET_DIRECTORY`) builds the copy there instead of in its own `target/`.
   * `processGroup` starts ipbp in a process group of its own, which `interruptGroup` signals as a terminal's Ctrl-C would.
   * `launcher`: a command that runs ipbp's command line (given as its last arguments) by `exec`, in a world of its own (a mount namespace).
   * `beforeLaunch`: what the user did in the copy before `ipbp run` (a `cargo build`, say).
   * `terminal`: runs ipbp in a pseudo-terminal (util-linux `script`), where it reads keys: `press` types them.
   *   Its output and the app's are one stream there, so `stdout` and `stderr` both hold all of it.
   */
  static async start(
    example: string,
    args: readonly string[] = [],
    env: NodeJS.ProcessEnv = {},
    options: { processGroup?: boolean; launcher?: readonly string[]; beforeLaunch?: (directory: string) => Promise<void>; terminal?: boolean } = {},
  ): Promise<IpbpRun> {
    const directory = await mkdtemp(join(tmpdir(), `ipbp-e2e-${example}-`));
    await cp(join(repository, 'examples', example), directory, { recursive: true, filter: (source) => !source.includes('/target') });
    // Examples that depend on the repository's crates name them relative to examples/.
    const manifest = join(directory, 'Cargo.toml');
    const text = await readFile(manifest, 'utf8').catch(() => undefined);
    if (text !== undefined) await writeFile(manifest, text.replaceAll('path = "../../crates/', `path = "${join(repository, 'crates')}/`));
    await options.beforeLaunch?.(directory);
    return IpbpRun.launch(directory, env.CARGO_TARGET_DIR ?? join(directory, 'target'), env, 'events.jsonl', args, options.processGroup ?? false, options.launcher, options.terminal);
  }

  /** Another `ipbp run` in the project directory of an earlier one (which has ended), with its own events file. */
  static again(previous: IpbpRun, eventsName: string, args: readonly string[] = []): IpbpRun {
    return IpbpRun.launch(previous.directory, previous.targetDirectory, previous.env, eventsName, args, false);
  }

  private static launch(
    directory: string,
    targetDirectory: string,
    env: NodeJS.ProcessEnv,
    eventsName: string,
    args: readonly string[],
    processGroup: boolean,
    launcher: readonly string[] = [],
    terminal = false,
  ): IpbpRun {
    const eventsPath = join(directory, eventsName);
    const commandLine = [...launcher, process.execPath, join(repository, 'bin', 'ipbp.js'), 'run', '--events', eventsPath, ...args];
    // `script -c` runs one shell command line in a new pseudo-terminal, and passes its own stdin on as typed keys.
    const [command, ...commandArgs] = terminal ? ['script', '-qfec', commandLine.map(shellQuoted).join(' '), '/dev/null'] : commandLine;
    const child = spawn(command!, commandArgs, {
      cwd: directory,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: [terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: processGroup,
    });
    return new IpbpRun(directory, targetDirectory, env, eventsPath, child, terminal);
  }

  /** Types `keys` at the terminal (a session started with `terminal`). */
  press(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Waits until the app is patchable and has printed a line matching `firstLine`; returns its pid. */
  async untilRunning(firstLine: RegExp, timeoutMs = 180_000): Promise<number> {
    const pid = (await this.waitForEvent((event) => event.event === 'ready', timeoutMs)).pid as number;
    await this.waitForLine(firstLine);
    return pid;
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  async events(): Promise<Event[]> {
    return readEvents(this.eventsPath);
  }

  /** Waits for an app output line matching `pattern`, among lines from index `from` on. */
  async waitForLine(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<{ line: string; index: number; match: RegExpMatchArray }> {
    return this.waitFor(`a line matching ${pattern}`, timeoutMs, () => this.lineMatching(pattern, from));
  }

  /** Waits for an app output line, from index `from` on, that `parse` reads and `matches` accepts; returns what `parse` made of it. */
  async waitForParsedLine<T>(parse: (line: string) => T | undefined, matches: (parsed: T) => boolean, from = 0, timeoutMs = 60_000): Promise<T> {
    return this.waitFor('a line the test is waiting for', timeoutMs, () => {
      for (let i = from; i < this.stdout.length; i++) {
        const parsed = parse(this.stdout[i]!);
        if (parsed !== undefined && matches(parsed)) return parsed;
      }
      return undefined;
    });
  }

  /** As `waitForLine`, after this ipbp was killed: the app outlives it and still writes to the pipe it got from it. */
  async waitForOrphanLine(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<{ line: string; index: number; match: RegExpMatchArray }> {
    return this.waitFor(`a line matching ${pattern}`, timeoutMs, () => this.lineMatching(pattern, from), { afterExit: true });
  }

  private lineMatching(pattern: RegExp, from: number): { line: string; index: number; match: RegExpMatchArray } | undefined {
    for (let i = from; i < this.stdout.length; i++) {
      const match = this.stdout[i]!.match(pattern);
      if (match) return { line: this.stdout[i]!, index: i, match };
    }
    return undefined;
  }

  /** The first event matching, among events from index `from` on. */
  async waitForEvent(matches: (event: Event) => boolean, timeoutMs = 60_000, from = 0): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.events()).slice(from).find(matches);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for an event\n--- events:\n${JSON.stringify(await this.events())}\n--- stderr:\n${this.stderr.slice(-4000)}`);
      if (this.exited) throw new Error(`ipbp exited (${this.exitCode}) while waiting for an event\n--- stderr:\n${this.stderr.slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async waitForStderr(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return this.waitFor(`stderr matching ${pattern}`, timeoutMs, () => this.stderr.match(pattern) ?? undefined);
  }

  /** Replace `from` by `to` in a source file of the copy (the anchor must occur exactly once). */
  async edit(relativePath: string, from: string, to: string): Promise<void> {
    const path = join(this.directory, relativePath);
    const text = await readFile(path, 'utf8');
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`edit anchor must occur once in ${relativePath}: ${from}`);
    await writeFile(path, text.slice(0, at) + to + text.slice(at + from.length));
  }

  /** Waits for ipbp to exit on its own (after a signal the test sent); resolves with its exit code. */
  async waitForExit(timeoutMs = 30_000): Promise<number | null> {
    await this.waitFor('ipbp to exit', timeoutMs, () => (this.exited ? true : undefined));
    return this.exitCode ?? null;
  }

  /** Ctrl-C at a terminal: SIGINT to ipbp's whole process group (started with `processGroup`), the app and any compiler included. */
  interruptGroup(): void {
    process.kill(-this.child.pid!, 'SIGINT');
  }

  /** Ctrl-C, as a developer would; resolves with ipbp's exit code. */
  async stop(): Promise<number | null> {
    if (!this.exited) {
      // In a terminal ipbp reads Ctrl-C as a key; `script` itself would only pass a signal on.
      if (this.terminal) this.press('\u0003');
      else this.child.kill('SIGINT');
      await this.waitFor('ipbp to exit', 30_000, () => (this.exited ? true : undefined)).catch(() => this.child.kill('SIGKILL'));
    }
    return this.exitCode ?? null;
  }

  /** Stops ipbp and removes the project copy, and the session directory a killed ipbp would leave behind. */
  async remove(): Promise<void> {
    await this.stop();
    // Every event the session wrote is as the schema editors build on says.
    const offSchema = eventsOffSchema(await this.events().catch(() => []));
    const session = await sessionDirectoryOf(this.directory, this.targetDirectory).catch(() => undefined);
    if (session) await rm(session, { recursive: true, force: true });
    await rm(this.directory, { recursive: true, force: true });
    // Every suite's last check: no error escaped to ipbp's last-resort handler.
    if (this.stderr.includes(LAST_RESORT_MARK)) throw new Error(`an error escaped to ipbp's last-resort handler:\n${this.stderr.slice(-4000)}`);
    if (offSchema.length > 0) throw new Error(`events off schema/events.schema.json:\n${offSchema.join('\n')}`);
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  private waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined, options: { afterExit?: boolean } = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): boolean => {
        const result = check();
        if (result === undefined) return false;
        cleanup();
        resolve(result);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}\n--- last output:\n${this.stdout.slice(-5).join('\n')}\n--- stderr:\n${this.stderr.slice(-4000)}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (attempt()) return;
        if (this.exited && !options.afterExit) {
          cleanup();
          reject(new Error(`ipbp exited (${this.exitCode}) while waiting for ${what}\n--- stderr:\n${this.stderr.slice(-4000)}`));
        }
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      attempt();
    });
  }
}

/** The events an `--events` file holds so far (none if it does not exist yet). */
export async function readEvents(path: string): Promise<Event[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return completeLines(text).map((line) => JSON.parse(line) as Event);
}

function shellQuoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
