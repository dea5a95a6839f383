import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors/user-error.js';
import { type BuildScriptOutput, buildInputFiles } from './build-inputs.js';
import { externalCrateSources } from './external-sources.js';
import { type CargoWorkspace, readCargoWorkspace } from './cargo-metadata.js';
import { CAPTURE_DIR_ENV, LINKER_SHIM_ENV, type LinkRecord, type RustcRecord } from './capture-record.js';
import { runCargo } from './run-cargo.js';
import { targetTripleOf } from './target-triple.js';

export interface BuildSelection {
  readonly manifestPath?: string | undefined;
  readonly package?: string | undefined;
  readonly bin?: string | undefined;
  readonly example?: string | undefined;
  readonly features?: string | undefined;
  readonly release?: boolean | undefined;
}

/** Everything needed to replay the build of the running program. */
export interface CapturedBuild {
  readonly workspaceRoot: string;
  readonly binary: string;
  /** The target triple the program was built for. */
  readonly target: string;
  /** The latest rustc invocation of each workspace crate, in build order. */
  readonly crates: RustcRecord[];
  readonly link: LinkRecord;
  readonly captureDir: string;
  /** Files that define the build itself (manifests, lock file, build scripts…): a change to one is not patchable. */
  readonly buildInputs: string[];
  /** Sources of linked crates outside the workspace: ipbp cannot recompile them, so an edit means a fresh build. */
  readonly externalSources: string[];
}

const wrappersDir = join(dirname(fileURLToPath(import.meta.url)), 'wrappers');

/**
 * Run `cargo build` once with ipbp's rustc and linker wrappers. Cargo hashes
 * the workspace wrapper's path into the metadata of workspace crates only:
 * a path no capture used before makes it rebuild (and so record) those
 * crates and relink the program, while every dependency's cached build is
 * reused. `signal` stops the build (the error's code is then `build-interrupted`).
 */
export async function captureBuild(selection: BuildSelection, sessionDir: string, cwd: string, signal?: AbortSignal): Promise<CapturedBuild> {
  const workspace = await readCargoWorkspace(selection.manifestPath, cwd);
  const captureDir = join(sessionDir, 'capture');
  await rm(captureDir, { recursive: true, force: true });
  await mkdir(captureDir, { recursive: true });
  // Unique to this capture, not only to this session directory: a session
  // directory's path repeats from one `ipbp run` to the next, and with it
  // cargo would find the crates fresh, run no wrapper and link nothing.
  const shimDir = await mkdtemp(join(sessionDir, 'wrappers-'));
  const rustcShim = await writeShim(shimDir, 'rustc-wrapper', join(wrappersDir, 'rustc-wrapper.js'));
  const linkerShim = await writeShim(shimDir, 'linker-wrapper', join(wrappersDir, 'linker-wrapper.js'));

  const targetDirectory = join(workspace.targetDirectory, 'ipbp');
  await forgetUnhashedFingerprints(targetDirectory, workspace);
  const args = ['build', '--message-format=json-render-diagnostics', '--target-dir', targetDirectory];
  if (selection.manifestPath) args.push('--manifest-path', selection.manifestPath);
  if (selection.package) args.push('--package', selection.package);
  if (selection.bin) args.push('--bin', selection.bin);
  if (selection.example) args.push('--example', selection.example);
  if (selection.features) args.push('--features', selection.features);
  if (selection.release) args.push('--release');
  const env = { ...process.env, RUSTC_WORKSPACE_WRAPPER: rustcShim, [CAPTURE_DIR_ENV]: captureDir, [LINKER_SHIM_ENV]: linkerShim };
  const { executables, buildScripts } = await runCargo(args, env, cwd, signal);
  if (executables.length === 0) throw new UserError('cargo built no executable; choose one with --bin or --example', 'no-binary');
  if (executables.length > 1) {
    throw new UserError(`cargo built several executables; choose one with --bin or --example`, 'several-binaries', executables);
  }
  const binary = executables[0]!;
  const crates = await readRecords<RustcRecord>(join(captureDir, 'rustc'));
  const links = await readRecords<LinkRecord>(join(captureDir, 'link'), (entry) => join(entry, 'link.json'));
  const link = await findLinkOf(binary, links);
  if (!link) {
    throw new UserError(`cargo did not link ${binary} through ipbp's linker wrapper`, 'no-link-capture', [
      'a custom linker configuration may bypass `-C linker`; please report this project layout',
    ]);
  }
  // Build scripts run on the host: the program's own crates say what it was built for.
  const program = crates.find((record) => !record.crateName.startsWith('build_script_'));
  if (!program) throw new UserError(`cargo compiled no crate of ${basename(binary)} through ipbp's wrapper`, 'no-binary-capture');
  const target = await targetTripleOf(program);
  const buildInputs = await buildInputFiles(workspace, crates, workspaceBuildScripts(workspace, buildScripts));
  const externalSources = await externalCrateSources(link, crates, workspace);
  return { workspaceRoot: workspace.root, binary, target, crates, link, captureDir, buildInputs, externalSources };
}

/**
 * The new wrapper path makes cargo rebuild a workspace crate only where it
 * changes the crate's file names: a package whose library is also a
 * `cdylib`, `staticlib` or `dylib` has unhashed output names, and cargo
 * (1.95) then finds it fresh, so no rustc record of it is made and its
 * sources go unwatched (a second `ipbp run`, or any restart, left its edits
 * silently unpatched). Removing cargo's fingerprints of those packages
 * (`<target>/[<triple>/]<profile>/.fingerprint/<package>-<hash>/`) makes cargo
 * recompile them through the wrapper, as it does every other workspace
 * crate; their outputs stay in place until the new build replaces them.
 */
async function forgetUnhashedFingerprints(targetDirectory: string, workspace: CargoWorkspace): Promise<void> {
  const names = new Set(workspace.members.filter((member) => member.unhashedLibrary).map((member) => member.name));
  if (names.size === 0) return;
  const fingerprintDirs: string[] = [];
  for (const profileOrTriple of await subdirectories(targetDirectory)) {
    fingerprintDirs.push(join(profileOrTriple, '.fingerprint'));
    for (const profile of await subdirectories(profileOrTriple)) fingerprintDirs.push(join(profile, '.fingerprint'));
  }
  for (const directory of fingerprintDirs) {
    for (const entry of await readdir(directory).catch(() => [] as string[])) {
      const match = /^(.+)-[0-9a-f]{16}$/.exec(entry);
      if (match && names.has(match[1]!)) await rm(join(directory, entry), { recursive: true, force: true });
    }
  }
}

async function subdirectories(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => join(directory, entry.name));
}

/** The build script runs of workspace packages; those of registry dependencies are covered by Cargo.lock. */
function workspaceBuildScripts(workspace: CargoWorkspace, runs: ReadonlyArray<{ packageId: string; outDir: string }>): BuildScriptOutput[] {
  const outputs: BuildScriptOutput[] = [];
  for (const run of runs) {
    const member = workspace.members.find((candidate) => candidate.id === run.packageId);
    if (member) outputs.push({ packageDirectory: dirname(member.manifestPath), outDir: run.outDir });
  }
  return outputs;
}

async function writeShim(directory: string, name: string, script: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  await chmod(path, 0o755);
  return path;
}

/** The JSON records the wrappers wrote below `directory`, one per entry; `fileOf` names the file of an entry. */
async function readRecords<T>(directory: string, fileOf: (entry: string) => string = (entry) => entry): Promise<T[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  const records: T[] = [];
  for (const name of names.sort()) records.push(JSON.parse(await readFile(join(directory, fileOf(name)), 'utf8')) as T);
  return records;
}

/** Cargo hard-links `target/<profile>/<bin>` to the linker's output in `deps/`. */
async function findLinkOf(binary: string, links: readonly LinkRecord[]): Promise<LinkRecord | undefined> {
  const target = await stat(binary);
  for (const link of links) {
    const output = await stat(link.output).catch(() => undefined);
    if (output && output.ino === target.ino && output.dev === target.dev) return link;
  }
  return links.find((link) => link.output === binary);
}
