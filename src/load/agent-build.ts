/**
 * Builds the agent library (`crates/ipbp-agent`) once per version of its
 * sources and toolchain, into a cache shared by every ipbp run.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors/user-error.js';

const AGENT_LIBRARY = 'libipbp_agent.so';

export class AgentBuildError extends Error {
  override readonly name = 'AgentBuildError';
}

export interface AgentBuildOptions {
  /** The agent crate; found next to this module by default. */
  readonly crateDirectory?: string;
  /** Overrides `$IPBP_CACHE_DIR`, `$XDG_CACHE_HOME/ipbp` and `~/.cache/ipbp`. */
  readonly cacheRoot?: string;
  /** The program's target triple, when it is not the host's: the agent is built for it too. */
  readonly target?: string | undefined;
  /** The linker the program was linked with (its `-C linker`): a cross target needs the same one. */
  readonly linker?: string | undefined;
}

const builds = new Map<string, Promise<string>>();

/**
 * The path of a `libipbp_agent.so` built from the current sources. The
 * first call for some sources runs `cargo build --release` (its output is
 * shown only if it fails); later calls, in this process or another, find
 * the cached library without running cargo.
 */
export function ensureAgentBuilt(options: AgentBuildOptions = {}): Promise<string> {
  const crateDirectory = options.crateDirectory ?? findAgentCrate();
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  const key = `${crateDirectory}\0${cacheRoot}\0${options.target ?? ''}\0${options.linker ?? ''}`;
  let build = builds.get(key);
  if (build === undefined) {
    build = buildIfMissing(crateDirectory, cacheRoot, options.target, options.linker);
    // A failed build must not be remembered: the user may fix the cause.
    build.catch(() => builds.delete(key));
    builds.set(key, build);
  }
  return build;
}

async function buildIfMissing(crateDirectory: string, cacheRoot: string, target: string | undefined, linker: string | undefined): Promise<string> {
  const cross = target !== undefined && target !== hostTripleOf(await rustcVersion(crateDirectory)) ? target : undefined;
  const fingerprint = await sourceFingerprint(crateDirectory, cross === undefined ? '' : `${cross}\0${linker ?? ''}`);
  const outputDirectory = join(cacheRoot, `agent-${fingerprint}`);
  const library = join(outputDirectory, AGENT_LIBRARY);
  if (existsSync(library)) return library;

  const targetDirectory = join(cacheRoot, 'agent-target');
  const cargo = process.env['CARGO'] ?? 'cargo';
  const args = ['build', '--release', '--manifest-path', join(crateDirectory, 'Cargo.toml'), '--target-dir', targetDirectory];
  if (cross !== undefined) {
    args.push('--target', cross);
    // The program's own linker: the agent crate's folder has no configuration of the user's.
    if (linker !== undefined) args.push('--config', `target.${cross}.linker=${JSON.stringify(linker)}`);
  }
  const { failed, output } = await run(cargo, args, crateDirectory);
  if (failed) {
    // Cargo's errors name the cause (a missing target, linker or system library) better than a summary would.
    const errors = output.split('\n').filter((line) => !/^\s*Compiling /.test(line));
    throw new UserError(`building the ipbp agent${cross === undefined ? '' : ` for ${cross}`} failed (${cargo} ${args.join(' ')})`, 'agent-build-failed', [
      ...errors.slice(-30),
      ...(cross === undefined ? [] : [`the agent is linked like the program: check cargo's target.${cross}.linker`]),
    ]);
  }

  // Copy then rename: another ipbp building at the same time never sees a
  // half-written library.
  await mkdir(outputDirectory, { recursive: true });
  const partial = `${library}.${process.pid}.partial`;
  await copyFile(join(targetDirectory, ...(cross === undefined ? [] : [cross]), 'release', AGENT_LIBRARY), partial);
  await rename(partial, library);
  return library;
}

/** A hash of everything that goes into the library: sources and compiler. */
async function sourceFingerprint(crateDirectory: string, target: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await rustcVersion(crateDirectory));
  hash.update(`\0${target}`);
  const files = [join(crateDirectory, 'Cargo.toml'), join(crateDirectory, 'Cargo.lock'), ...(await listFiles(join(crateDirectory, 'src')))];
  for (const file of files) {
    if (!existsSync(file)) continue;
    hash.update(`\0${relative(crateDirectory, file)}\0`);
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

const rustcVersions = new Map<string, Promise<string>>();

/** `rustc -vV`, run where cargo would run it so the same toolchain answers. */
function rustcVersion(crateDirectory: string): Promise<string> {
  let version = rustcVersions.get(crateDirectory);
  if (version === undefined) {
    version = run(process.env['RUSTC'] ?? 'rustc', ['-vV'], crateDirectory).then(({ failed, output }) => {
      if (failed) throw new AgentBuildError(`cannot run rustc to build the ipbp agent:\n${output}`);
      return output;
    });
    version.catch(() => rustcVersions.delete(crateDirectory));
    rustcVersions.set(crateDirectory, version);
  }
  return version;
}

function hostTripleOf(rustcVersionText: string): string | undefined {
  return /^host: (.+)$/m.exec(rustcVersionText)?.[1]?.trim();
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function defaultCacheRoot(): string {
  const explicit = process.env['IPBP_CACHE_DIR'];
  if (explicit) return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg ? xdg : join(homedir(), '.cache'), 'ipbp');
}

/**
 * The crate sits at `<package>/crates/ipbp-agent`; this module runs from
 * `<package>/dist/src/load/` (or `src/load/` uncompiled), so look
 * upwards rather than hard-coding the depth.
 */
function findAgentCrate(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, 'crates', 'ipbp-agent');
    if (existsSync(join(candidate, 'Cargo.toml'))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) throw new AgentBuildError(`cannot find crates/ipbp-agent above ${fileURLToPath(import.meta.url)}`);
    directory = parent;
  }
}

function run(command: string, args: readonly string[], cwd: string): Promise<{ failed: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trimEnd();
      resolve({ failed: error !== null, output: error && !output ? error.message : output });
    });
  });
}

