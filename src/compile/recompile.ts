import { spawn } from 'node:child_process';
import { access, mkdir, rm, statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { codegenUnitsIn, LINKER_SHIM_ENV, OBJECTS_TO_ENV, objectKeeperOf, removeCodegenUnits, withoutCodegenOption } from '../capture/capture-record.js';
import { type CrateUnit, externPaths } from '../capture/crate-graph.js';
import { UserError } from '../errors/user-error.js';

export interface CompiledCrate {
  readonly unit: CrateUnit;
  /** The object files of the crate's codegen units: a binary's, or a library's (also in its rlib); none for a proc macro, whose code runs in the compiler. */
  readonly objects: string[];
  readonly milliseconds: number;
}

export interface RecompileOptions {
  /** Called once rustc has written the crate's metadata (`.rmeta`), before code generation: dependents can start. */
  readonly onMetadata?: (rmeta: string) => void;
  /** Stops rustc (another crate of the round failed). */
  readonly signal?: AbortSignal;
}

/** A compile stopped because the round it belonged to failed elsewhere. */
export class RecompileCancelled extends Error {
  override readonly name = 'RecompileCancelled';
  constructor(readonly crate: string) {
    super(`the compile of ${crate} was stopped`);
  }
}

export class CompileError extends Error {
  override readonly name = 'CompileError';
  constructor(
    readonly crate: string,
    /** rustc's diagnostics, rendered as cargo renders them. */
    readonly rendered: string,
  ) {
    super(`${crate} failed to compile`);
  }
}

/**
 * Replay rustc for one crate exactly as cargo ran it: the same arguments,
 * output directory and incremental cache, so that the first replay finds
 * the cache cargo's build just left, and a restart's cargo build finds the
 * replays' (rustc discards its incremental cache when the output paths or
 * emitted kinds change, and a crate then takes many times longer). Libraries
 * come out as rlibs (dependents need their metadata), a proc macro as the
 * shared library the compiler loads to expand its dependents. The binary is
 * "linked" by ipbp's object keeper, which keeps the objects rustc made for
 * the link in `objectsDir` and links nothing: the running binary's file
 * stays as it is. Every output lands where cargo's did, so a dependent's
 * recorded `--extern` names the new library (and expands the new macro).
 */
export async function recompileCrate(unit: CrateUnit, objectsDir: string, options: RecompileOptions = {}): Promise<CompiledCrate> {
  const env = { ...unit.record.env };
  let args = unit.record.args;
  // Objects of an earlier round must not be mistaken for this one's.
  removeCodegenUnits(unit.outDir, unit.stem);
  if (unit.isBinary) {
    const linkerShim = unit.record.env[LINKER_SHIM_ENV];
    if (!linkerShim) throw new UserError(`the recorded build of ${unit.name} names no linker wrapper`, 'build-files-missing', ['a fresh build records it again']);
    await rm(objectsDir, { recursive: true, force: true });
    await mkdir(objectsDir, { recursive: true });
    args = [...withoutCodegenOption(args, 'linker'), '-C', `linker=${objectKeeperOf(linkerShim)}`];
    env[OBJECTS_TO_ENV] = objectsDir;
  } else if (!unit.isProcMacro) {
    // The codegen units' objects stay beside the rlib, so the diff reads them as files (untracked: the incremental cache stays valid).
    args = [...args, '-C', 'save-temps'];
  }
  const missing = await missingLibraries(args, unit.record.cwd);
  if (missing.length > 0) {
    throw new UserError(`the build directory lost the libraries ${unit.name} is compiled against (was \`target/ipbp\` removed?)`, 'build-files-missing', missing.map((path) => `missing: ${path}`));
  }
  const started = performance.now();
  const { code, killedBy, diagnostics } = await runRustc(unit.record.rustc, args, unit.record.cwd, env, options);
  if (options.signal?.aborted) throw new RecompileCancelled(unit.name);
  const milliseconds = performance.now() - started;
  if (killedBy) {
    // A compiler that writes through memory-mapped files dies of a signal, not an error, when the disk fills up.
    if (await isFull(unit.outDir)) throw new UserError(`rustc died (${killedBy}) while compiling ${unit.name}: the disk holding ${unit.outDir} is full`, 'disk-full', ['free some space and save again']);
    throw new UserError(`rustc was killed (${killedBy}) while compiling ${unit.name}`, 'rustc-killed', ['save again to compile it again']);
  }
  if (code !== 0) throw new CompileError(unit.name, diagnostics);
  if (unit.isProcMacro) return { unit, objects: [], milliseconds };
  // The crate's own codegen units; rustc also links objects of its own making (`symbols.o`), which are not the crate's code.
  const objects = codegenUnitsIn(unit.isBinary ? objectsDir : unit.outDir, unit.stem);
  return { unit, objects, milliseconds };
}

/** Whether the filesystem holding `directory` has (next to) no space left for ordinary users. */
async function isFull(directory: string): Promise<boolean> {
  const space = await statfs(directory).catch(() => undefined);
  return space !== undefined && space.bavail * space.bsize < 1024 * 1024;
}

/** The `--extern` libraries of `args` that no longer exist. */
async function missingLibraries(args: readonly string[], cwd: string): Promise<string[]> {
  const missing: string[] = [];
  for (const path of externPaths(args)) {
    const absolute = resolve(cwd, path);
    if (!(await access(absolute).then(() => true, () => false))) missing.push(absolute);
  }
  return missing;
}

/** Runs rustc; `killedBy`: the signal that ended it (out of memory, a Ctrl-C, a `kill`), when one did. */
function runRustc(rustc: string, args: string[], cwd: string, env: Record<string, string>, options: RecompileOptions): Promise<{ code: number; killedBy: string | null; diagnostics: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(rustc, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const stop = (): void => void child.kill('SIGTERM');
    options.signal?.addEventListener('abort', stop, { once: true });
    let stderr = '';
    let scanned = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      // Cargo asks for `--json=artifacts`: rustc then says when each output is written.
      for (let end = stderr.indexOf('\n', scanned); end >= 0; end = stderr.indexOf('\n', scanned)) {
        const metadata = metadataArtifactOf(stderr.slice(scanned, end));
        if (metadata) options.onMetadata?.(metadata);
        scanned = end + 1;
      }
    });
    child.on('error', (error) => reject(new UserError(`cannot run ${rustc}: ${error.message}`, 'rustc-missing', ['is the toolchain that built the program still installed?'])));
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', stop);
      resolve({ code: code ?? 1, killedBy: signal, diagnostics: renderDiagnostics(stderr) });
    });
  });
}

/** The `.rmeta` an artifact notification names (`{"$message_type":"artifact","artifact":…,"emit":"metadata"}`), if the line is one. */
function metadataArtifactOf(line: string): string | undefined {
  if (!line.startsWith('{"$message_type":"artifact"')) return undefined;
  try {
    const message = JSON.parse(line) as { artifact?: string; emit?: string };
    return message.emit === 'metadata' ? message.artifact : undefined;
  } catch {
    return undefined;
  }
}

function renderDiagnostics(stderr: string): string {
  const rendered: string[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) {
      if (line.trim()) rendered.push(line);
      continue;
    }
    try {
      const message = JSON.parse(line) as { $message_type?: string; level?: string; rendered?: string };
      if (message.$message_type === 'diagnostic' && message.rendered && message.level !== 'warning') rendered.push(message.rendered.trimEnd());
    } catch {
      rendered.push(line);
    }
  }
  return rendered.join('\n');
}
