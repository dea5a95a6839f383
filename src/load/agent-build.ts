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

const AGENT_LIBRARY = 'libipbp_agent.so';

export class AgentBuildError extends Error {
  override readonly name = 'AgentBuildError';
}

export interface AgentBuildOptions {
  /** The agent crate; found next to this module by default. */
  readonly crateDirectory?: string;
  /** Overrides `$IPBP_CACHE_DIR`, `$XDG_CACHE_HOME/ipbp` and `~/.cache/ipbp`. */
  readonly cacheRoot?: string;
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
  const key = `${crateDirectory}\0${cacheRoot}`;
  let build = builds.get(key);
  if (build === undefined) {
    build = buildIfMissing(crateDirectory, cacheRoot);
    // A failed build must not be remembered: the user may fix the cause.
    build.catch(() => builds.delete(key));
    builds.set(key, build);
  }
  return build;
}

async function buildIfMissing(crateDirectory: string, cacheRoot: string): Promise<string> {
  const fingerprint = await sourceFingerprint(crateDirectory);
  const outputDirectory = join(cacheRoot, `agent-${fingerprint}`);
  const library = join(outputDirectory, AGENT_LIBRARY);
  if (existsSync(library)) return library;

  const targetDirectory = join(cacheRoot, 'agent-target');
  const cargo = process.env['CARGO'] ?? 'cargo';
  const args = ['build', '--release', '--manifest-path', join(crateDirectory, 'Cargo.toml'), '--target-dir', targetDirectory];
  const { failed, output } = await run(cargo, args, crateDirectory);
  if (failed) throw new AgentBuildError(`building the ipbp agent failed (${cargo} ${args.join(' ')}):\n${output}`);

  // Copy then rename: another ipbp building at the same time never sees a
  // half-written library.
  await mkdir(outputDirectory, { recursive: true });
  const partial = `${library}.${process.pid}.partial`;
  await copyFile(join(targetDirectory, 'release', AGENT_LIBRARY), partial);
  await rename(partial, library);
  return library;
}

/** A hash of everything that goes into the library: sources and compiler. */
async function sourceFingerprint(crateDirectory: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await rustcVersion(crateDirectory));
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

