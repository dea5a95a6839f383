import { type ChildProcess, spawn } from 'node:child_process';
import { UserError } from '../errors/user-error.js';

export interface CargoOutcome {
  readonly executables: string[];
  /** Each build script run: which package, and its OUT_DIR. */
  readonly buildScripts: Array<{ packageId: string; outDir: string }>;
}

/** How long an aborted build may take to stop on SIGINT before it is killed. */
const STOP_GRACE_MS = 3000;

/**
 * Runs cargo, passing its rendered diagnostics through, and returns the
 * executables and build script runs it reported.
 *
 * Cargo runs in a process group of its own, and `signal` stops the whole
 * group: cargo and everything it started (the wrappers, rustc, the linker),
 * so that no compiler is left running when ipbp quits mid-build. The
 * terminal's Ctrl-C therefore reaches ipbp alone, which aborts the build
 * this way; an aborted build rejects with the code `build-interrupted`.
 */
export function runCargo(args: string[], env: NodeJS.ProcessEnv, cwd: string, signal?: AbortSignal): Promise<CargoOutcome> {
  if (signal?.aborted) return Promise.reject(interrupted());
  return new Promise((resolvePromise, reject) => {
    const child = spawn('cargo', args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    const executables: string[] = [];
    const buildScripts: CargoOutcome['buildScripts'] = [];
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      signalGroup(child, 'SIGINT');
      killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_GRACE_MS);
    };
    signal?.addEventListener('abort', stop, { once: true });
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const message = parseLine(line);
        if (message?.reason === 'compiler-artifact' && typeof message.executable === 'string') executables.push(message.executable);
        if (message?.reason === 'build-script-executed' && typeof message.package_id === 'string' && typeof message.out_dir === 'string') {
          buildScripts.push({ packageId: message.package_id, outDir: message.out_dir });
        }
      }
    });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', stop);
      reject(new UserError(`cannot run cargo: ${error.message}`, 'cargo-missing'));
    });
    child.on('close', (code, killedBy) => {
      signal?.removeEventListener('abort', stop);
      clearTimeout(killTimer);
      if (signal?.aborted) {
        // Whatever of the group outlived cargo goes too: nothing of an abandoned build keeps running.
        signalGroup(child, 'SIGKILL');
        reject(interrupted());
      } else if (code === 0) {
        resolvePromise({ executables, buildScripts });
      } else if (killedBy) {
        reject(new UserError(`cargo build was killed by ${killedBy}`, 'build-failed'));
      } else {
        reject(new UserError(`cargo build failed (exit code ${code})`, 'build-failed'));
      }
    });
  });
}

function interrupted(): UserError {
  return new UserError('the build was interrupted', 'build-interrupted');
}

/** Signals cargo's process group; a group already gone is no error. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: every process of the group has exited.
  }
}

interface CargoMessage {
  reason?: string;
  executable?: unknown;
  package_id?: unknown;
  out_dir?: unknown;
}

function parseLine(line: string): CargoMessage | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as CargoMessage;
  } catch {
    return undefined;
  }
}
