import { spawn } from 'node:child_process';
import { access, mkdir, readdir, rm, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { codegenOption, libraryFileStem, procMacroFileName, rlibFileName } from '../capture/capture-record.js';
import { type CrateUnit, externPaths } from '../capture/crate-graph.js';
import { UserError } from '../errors/user-error.js';

export interface CompiledCrate {
  readonly unit: CrateUnit;
  /** The new rlib of a library crate (its objects, and metadata for dependents). */
  readonly rlib: string | undefined;
  /** Object files of a binary crate. */
  readonly objects: string[];
  /** What dependents' `--extern` names now: a library's new rlib, or a proc macro's new shared library (which the compiler loads; it is not program code). */
  readonly library: string | undefined;
  readonly milliseconds: number;
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
 * Replay rustc for one crate with the arguments cargo used, into a fresh
 * output directory. Libraries are rebuilt as rlibs (dependents need their
 * metadata); a proc macro as the shared library the compiler loads to expand
 * its dependents; the binary is compiled to objects only, never linked.
 * `rebuilt` maps each crate rebuilt earlier to its new library, so `--extern`
 * points at the new code (and a dependent expands the new macro).
 */
export async function recompileCrate(unit: CrateUnit, outDir: string, rebuilt: ReadonlyMap<string, string>): Promise<CompiledCrate> {
  await mkdir(outDir, { recursive: true });
  // The directory is reused across rounds; objects of an earlier round must not be mistaken for this one's.
  if (unit.isBinary) await Promise.all((await readdir(outDir)).filter((name) => name.endsWith('.o')).map((name) => rm(join(outDir, name), { force: true })));
  const args = rewriteArgs(unit, outDir, rebuilt);
  const missing = await missingLibraries(args, unit.record.cwd);
  if (missing.length > 0) {
    throw new UserError(`the build directory lost the libraries ${unit.name} is compiled against (was \`target/ipbp\` removed?)`, 'build-files-missing', missing.map((path) => `missing: ${path}`));
  }
  const started = performance.now();
  const { code, killedBy, diagnostics } = await runRustc(unit.record.rustc, args, unit.record.cwd, unit.record.env);
  const milliseconds = performance.now() - started;
  if (killedBy) {
    // A compiler that writes through memory-mapped files dies of a signal, not an error, when the disk fills up.
    if (await isFull(outDir)) throw new UserError(`rustc died (${killedBy}) while compiling ${unit.name}: the disk holding ${outDir} is full`, 'disk-full', ['free some space and save again']);
    throw new UserError(`rustc was killed (${killedBy}) while compiling ${unit.name}`, 'rustc-killed', ['save again to compile it again']);
  }
  if (code !== 0) throw new CompileError(unit.name, diagnostics);
  if (unit.isBinary) {
    const objects = (await readdir(outDir)).filter((name) => name.endsWith('.o')).sort().map((name) => join(outDir, name));
    return { unit, rlib: undefined, objects, library: undefined, milliseconds };
  }
  if (unit.isProcMacro) return { unit, rlib: undefined, objects: [], library: join(outDir, procMacroFileName(unit.stem)), milliseconds };
  const rlib = join(outDir, rlibFileName(unit.stem));
  return { unit, rlib, objects: [], library: rlib, milliseconds };
}

function rewriteArgs(unit: CrateUnit, outDir: string, rebuilt: ReadonlyMap<string, string>): string[] {
  const args: string[] = [];
  const input = unit.record.args;
  for (let i = 0; i < input.length; i++) {
    const arg = input[i]!;
    if (arg === '--out-dir') {
      args.push(arg, outDir);
      i++;
    } else if (arg.startsWith('--out-dir=')) {
      args.push(`--out-dir=${outDir}`);
    } else if (unit.isBinary && (arg === '--emit' || arg.startsWith('--emit='))) {
      if (arg === '--emit') i++;
      args.push('--emit=dep-info,obj');
    } else if (arg === '--extern' && i + 1 < input.length) {
      args.push(arg, redirectExtern(input[++i]!, rebuilt));
    } else {
      args.push(arg);
    }
  }
  // With `--emit=obj` and no explicit codegen-units, an incremental build
  // falls back to one unit: no parallel codegen, no reuse of unchanged
  // units. Ask for the 256 that cargo's incremental build got by default. A
  // build that is not incremental (release) is partitioned as cargo's was
  // only if left to rustc's default: an explicit count splits it otherwise,
  // and what the optimizer inlines across units changes with the split.
  if (unit.isBinary && codegenOption(input, 'codegen-units') === undefined && codegenOption(input, 'incremental') !== undefined) {
    args.push('-C', 'codegen-units=256');
  }
  // Transitive lookups by crate hash must find the new metadata first.
  for (const library of rebuilt.values()) args.push('-L', `dependency=${join(library, '..')}`);
  return args;
}

function redirectExtern(value: string, rebuilt: ReadonlyMap<string, string>): string {
  const equals = value.indexOf('=');
  if (equals < 0) return value;
  const stem = libraryFileStem(value.slice(equals + 1));
  for (const library of rebuilt.values()) {
    if (libraryFileStem(library) === stem) return `${value.slice(0, equals)}=${library}`;
  }
  return value;
}

/** Runs rustc and renders its JSON diagnostics (cargo asks for `--error-format=json`). */
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
function runRustc(rustc: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number; killedBy: string | null; diagnostics: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(rustc, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => reject(new UserError(`cannot run ${rustc}: ${error.message}`, 'rustc-missing', ['is the toolchain that built the program still installed?'])));
    child.on('close', (code, signal) => resolve({ code: code ?? 1, killedBy: signal, diagnostics: renderDiagnostics(stderr) }));
  });
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
