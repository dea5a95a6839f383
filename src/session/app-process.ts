import { type ChildProcess, spawn } from 'node:child_process';
import { startTicksOf } from './process-identity.js';
import { type RunningApp, terminate } from './running-app.js';

export interface AppLaunch {
  readonly binary: string;
  readonly args: readonly string[];
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
  const preload = [launch.agentLibrary, process.env.LD_PRELOAD].filter(Boolean).join(':');
  const child = spawn(launch.binary, [...launch.args], {
    cwd: launch.cwd,
    stdio: [launch.stdin, 'inherit', 'inherit'],
    env: { ...process.env, LD_PRELOAD: preload, IPBP_SOCKET: launch.socketPath },
  });
  return new LaunchedApp(child);
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
