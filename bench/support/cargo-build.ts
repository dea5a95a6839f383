import { spawn } from 'node:child_process';

export interface CargoBuild {
  readonly ms: number;
  readonly executable: string;
  /** Every rlib the build used or produced (dependencies and workspace libraries). */
  readonly rlibs: string[];
}

interface ArtifactMessage {
  reason?: string;
  executable?: string | null;
  filenames?: string[];
}

/**
 * A plain `cargo build` (debug) into `targetDirectory`, the directory the
 * ipbp session built into, so dependencies are shared and the build is
 * incremental exactly as a developer's would be. `args` select the package
 * or binary, as they did for `ipbp run`.
 */
export function cargoBuild(directory: string, targetDirectory: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<CargoBuild> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('cargo', ['build', '--message-format=json-render-diagnostics', '--target-dir', targetDirectory, ...args], {
      cwd: directory,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`cargo build failed (exit ${code}) in ${directory}\n${stderr}`));
      const executables: string[] = [];
      const rlibs = new Set<string>();
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        const message = JSON.parse(line) as ArtifactMessage;
        if (message.reason !== 'compiler-artifact') continue;
        if (message.executable) executables.push(message.executable);
        for (const file of message.filenames ?? []) if (file.endsWith('.rlib')) rlibs.add(file);
      }
      if (executables.length !== 1) return reject(new Error(`expected one executable from cargo build, got ${executables.length}`));
      resolve({ ms, executable: executables[0]!, rlibs: [...rlibs].sort() });
    });
  });
}
