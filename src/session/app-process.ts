import { type ChildProcess, spawn } from 'node:child_process';
import { basename } from 'node:path';
import { startTicksOf } from './process-identity.js';
import { type RunningApp, terminate } from './running-app.js';

export interface AppLaunch {
  readonly binary: string;
  readonly args: readonly string[];
  /** Cargo's runner for the target, which the program runs under, as under `cargo run`. */
  readonly runner?: readonly string[] | undefined;
  readonly cwd: string;
  readonly agentLibrary: string;
  readonly socketPath: string;
  /** The terminal's stdin, as under `cargo run`, unless ipbp reads keys from it. */
  readonly stdin: 'inherit' | 'ignore';
}

/**
 * Start the program with the agent injected. Its stdout and stderr are the
 * terminal's, exactly as under `cargo run`, so it outlives a killed ipbp.
 */
export function launchApp(launch: AppLaunch): RunningApp {
  const [command, ...runnerArgs] = [...(launch.runner ?? []), launch.binary];
  const child = spawn(command!, [...runnerArgs, ...launch.args], {
    cwd: launch.cwd,
    stdio: [launch.stdin, 'inherit', 'inherit'],
    env: { ...process.env, ...preloadEnvironment(launch), IPBP_SOCKET: launch.socketPath },
  });
  return new LaunchedApp(child);
}

/**
 * How the agent gets into the program: `LD_PRELOAD`, for the program's own
 * loader. Under qemu-user the host's loader would read it first (and
 * complain of a library for another machine), so qemu is told to set it
 * for the program alone.
 */
function preloadEnvironment(launch: AppLaunch): Record<string, string> {
  const emulator = launch.runner !== undefined && /^qemu-/.test(basename(launch.runner[0] ?? ''));
  if (emulator) {
    if (launch.agentLibrary.includes(',')) throw new Error(`qemu cannot be given a preload path with a comma: ${launch.agentLibrary}`);
    return { QEMU_SET_ENV: [`LD_PRELOAD=${launch.agentLibrary}`, process.env.QEMU_SET_ENV].filter(Boolean).join(',') };
  }
  return { LD_PRELOAD: [launch.agentLibrary, process.env.LD_PRELOAD].filter(Boolean).join(':') };
}

/** A process ipbp started: its child, whose exit status it sees. */
class LaunchedApp implements RunningApp {
  readonly exitStatusKnown = true;
  readonly startTicks: string | undefined;

  constructor(private readonly child: ChildProcess) {
    this.startTicks = child.pid === undefined ? undefined : startTicksOf(child.pid);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.child.once('exit', listener);
  }

  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await terminate((signal) => child.kill(signal), exited, graceMs);
  }
}
