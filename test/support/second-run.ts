import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type Event, readEvents } from './ipbp-run.js';
import { REPOSITORY as repository } from './repository.js';


/**
 * Another `ipbp run` (or `ipbp attach`) in a project directory an earlier
 * session used: for the session lock (refused, or taken over from a killed
 * session) and for adopting the app a killed session left running.
 */
export class SecondRun {
  stderr = '';
  exitCode: number | null | undefined;
  readonly eventsPath: string;
  readonly child: ChildProcess;

  /** `env`: what the first session ran with beyond the test's environment (its `IpbpRun.env`). */
  constructor(directory: string, eventsName: string, command: 'run' | 'attach' = 'run', env: NodeJS.ProcessEnv = {}) {
    this.eventsPath = join(directory, eventsName);
    this.child = spawn(process.execPath, [join(repository, 'bin', 'ipbp.js'), command, '--events', this.eventsPath], {
      cwd: directory,
      env: { ...process.env, NO_COLOR: '1', ...env },
      // The app's own output is not what these tests look at.
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.child.on('exit', (code) => (this.exitCode = code));
  }

  async exit(timeoutMs = 60_000): Promise<number | null> {
    await this.until('ipbp to exit', timeoutMs, () => this.exitCode !== undefined);
    return this.exitCode ?? null;
  }

  async events(): Promise<Event[]> {
    return readEvents(this.eventsPath);
  }

  async waitForEvent(matches: (event: Event) => boolean, timeoutMs = 120_000): Promise<Event> {
    let found: Event | undefined;
    await this.until('an event', timeoutMs, async () => {
      found = (await this.events()).find(matches);
      return found !== undefined;
    });
    return found!;
  }

  async waitForStderr(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await this.until(`stderr matching ${pattern}`, timeoutMs, () => pattern.test(this.stderr));
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGINT');
    await this.exit(30_000).catch(() => this.child.kill('SIGKILL'));
  }

  private async until(what: string, timeoutMs: number, done: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- stderr:\n${this.stderr.slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
