import { type ChildProcess, spawn } from 'node:child_process';
import { LineStream } from './line-stream.js';

/** The app run directly, as after `cargo build`: no agent, no ipbp. */
export class PlainApp {
  readonly output: LineStream;
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    this.output = new LineStream(child.stdout!);
    child.on('exit', () => (this.exited = true));
  }

  /** `env` is added to the benchmark's environment; `runner` (an emulator) runs the program, as cargo's runner would. */
  static start(binary: string, args: readonly string[], cwd: string, env: Record<string, string> = {}, runner: readonly string[] = []): PlainApp {
    const [command, ...runnerArgs] = [...runner, binary];
    return new PlainApp(spawn(command!, [...runnerArgs, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  command(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
