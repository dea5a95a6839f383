import { type ChildProcess, spawn } from 'node:child_process';

export interface AppLaunch {
  readonly binary: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly agentLibrary: string;
  readonly socketPath: string;
}

/**
 * Start the program with the agent injected. Its stdout and stderr are the
 * terminal's, exactly as under `cargo run`.
 */
export function launchApp(launch: AppLaunch): ChildProcess {
  const preload = [launch.agentLibrary, process.env.LD_PRELOAD].filter(Boolean).join(':');
  return spawn(launch.binary, [...launch.args], {
    cwd: launch.cwd,
    stdio: ['inherit', 'inherit', 'inherit'],
    env: { ...process.env, LD_PRELOAD: preload, IPBP_SOCKET: launch.socketPath },
  });
}

/** Stop the program: SIGTERM, then SIGKILL if it lingers. */
export async function stopApp(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
