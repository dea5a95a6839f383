import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors/user-error.js';
import { buildInputFiles } from './build-inputs.js';
import { profileOverrides } from './profile-overrides.js';
import { type ProjectSettings, readProjectSettings } from './project-settings.js';
import { DEFAULT_PROFILE, profileDirectoryOf } from './profiles.js';
import type { BuildScriptRun } from './build-script-runs.js';
import { externalCrateSources } from './external-sources.js';
import { type CargoWorkspace, readCargoWorkspace } from './cargo-metadata.js';
import { CAPTURE_DIR_ENV, codegenOption, LINKER_SHIM_ENV, type LinkRecord, OBJECT_KEEPER, type RustcRecord } from './capture-record.js';
import { checkBinaryChoice } from './binary-choice.js';
import { runCargo } from './run-cargo.js';
import { seedDependencyBuilds } from './seed-dependencies.js';
import { targetRunnerOf } from './target-runner.js';
import { targetTripleOf } from './target-triple.js';

export interface BuildSelection {
  readonly manifestPath?: string | undefined;
  readonly package?: string | undefined;
  readonly bin?: string | undefined;
  readonly example?: string | undefined;
  readonly features?: string | undefined;
  /** Cargo's profile (`--profile`; `--release` is `release`); `dev` when not given. */
  readonly profile?: string | undefined;
  /** `--target`: the triple to build for; cargo's configured `build.target` or the host when not given. */
  readonly target?: string | undefined;
  /** `--target-dir`, as given (relative to the working directory): cargo's target directory instead of the configured one. */
  readonly targetDir?: string | undefined;
  /** How much cargo says: -1 for `--quiet`, 1 or 2 for `-v` or `-vv`. It changes nothing in what is built. */
  readonly verbosity?: number | undefined;
  /** Cargo's own build flags, passed on as given: `--no-default-features`, `--all-features`, `--locked`, `--frozen`, `--offline`, `-j N`, `--config X`. */
  readonly cargoFlags?: readonly string[] | undefined;
}

/** Everything needed to replay the build of the running program. */
export interface CapturedBuild {
  readonly workspaceRoot: string;
  /** Cargo's target directory: what lies below it (build script outputs) only builds write. */
  readonly targetDirectory: string;
  readonly binary: string;
  /** The target triple the program was built for. */
  readonly target: string;
  /** Cargo's `runner` for that target: the command the program runs under (an emulator, a device launcher). */
  readonly runner?: string[] | undefined;
  /** The linker the program was linked with, as rustc was told (`-C linker`). */
  readonly linker?: string | undefined;
  /** The latest rustc invocation of each workspace crate, in build order. */
  readonly crates: RustcRecord[];
  readonly link: LinkRecord;
  readonly captureDir: string;
  /** Files that define the build itself (manifests, lock file, build scripts…): a change to one is not patchable. */
  readonly buildInputs: string[];
  /** Sources of linked crates ipbp did not capture: it cannot recompile them, so an edit means a fresh build. */
  readonly externalSources: string[];
  /** The local packages' build script runs: a change to a file one reads reruns it. */
  readonly buildScripts: BuildScriptRun[];
  /** Settings of the profile ipbp built without (`strip = true`, `lto = "fat"`): no patch could work with them. */
  readonly profileOverrides: string[];
  /** How to run cargo again on this build (its arguments and the wrappers' environment), as a build script rerun does. */
  readonly cargo: CargoInvocation;
  /** Dependencies whose builds a fresh `target/ipbp` took from the user's own `cargo build`. */
  readonly seededDependencies?: number;
  /** The project's `[*.metadata.ipbp]` defaults, as they were for this build (a record from an older ipbp has none). */
  readonly settings?: ProjectSettings;
}

export interface CargoInvocation {
  readonly cwd: string;
  /** After the subcommand: the selection, the profile and ipbp's target directory. */
  readonly args: string[];
  /** The wrappers and where they record. */
  readonly env: Record<string, string>;
}

const wrappersDir = join(dirname(fileURLToPath(import.meta.url)), 'wrappers');

/**
 * Run `cargo build` once with ipbp's rustc and linker wrappers, in ipbp's
 * own build tree (`target/ipbp`): cargo hashes the workspace wrapper's path
 * into the metadata of workspace crates, which would otherwise take the
 * place of the user's. Every local crate is recompiled (and so recorded)
 * from its incremental cache, and the program relinked, while every
 * dependency's build is reused. `signal` stops the build (the error's code
 * is then `build-interrupted`).
 */
export async function captureBuild(selection: BuildSelection, sessionDir: string, cwd: string, signal?: AbortSignal): Promise<CapturedBuild> {
  const features = selection.features === undefined ? [] : ['--features', selection.features];
  const workspace = await readCargoWorkspace(selection.manifestPath, cwd, { targetDirectory: selection.targetDir, cargoFlags: [...features, ...(selection.cargoFlags ?? [])] });
  await checkBinaryChoice(workspace, selection, cwd);
  const settings = await readProjectSettings(workspace, selection, cwd);
  const captureDir = join(sessionDir, 'capture');
  await rm(captureDir, { recursive: true, force: true });
  await mkdir(captureDir, { recursive: true });
  const targetDirectory = join(workspace.targetDirectory, 'ipbp');
  // One path for every capture into this target directory: cargo hashes the
  // workspace wrapper's path into the crates' metadata, and with a new one
  // each time every capture compiled them afresh, under new names, with a
  // new incremental cache (slow, and the target directory grew each time).
  const shimDir = join(targetDirectory, 'wrappers');
  await mkdir(shimDir, { recursive: true });
  const rustcShim = await writeShim(shimDir, 'rustc-wrapper', join(wrappersDir, 'rustc-wrapper.js'));
  const linkerShim = await writeShim(shimDir, 'linker-wrapper', join(wrappersDir, 'linker-wrapper.js'));
  await writeExecutable(join(shimDir, OBJECT_KEEPER), OBJECT_KEEPER_SCRIPT);
  const profile = selection.profile ?? DEFAULT_PROFILE;
  const profileDirectory = profileDirectoryOf(profile);
  // Cargo puts the output of a `--target` build one folder deeper, under the triple.
  const outputDirectory = selection.target === undefined ? profileDirectory : join(selection.target, profileDirectory);
  const seeded = await seedDependencyBuilds(join(workspace.targetDirectory, outputDirectory), join(targetDirectory, outputDirectory), new Set(workspace.localPackages.map((pkg) => pkg.name)));
  // Cargo would find unchanged crates fresh and run no wrapper; ipbp needs every one compiled (and so recorded) and the program linked.
  await forgetFingerprints(targetDirectory, packagesToRecompile(workspace));
  const selectionArgs = ['--target-dir', targetDirectory];
  if (selection.manifestPath) selectionArgs.push('--manifest-path', selection.manifestPath);
  if (selection.package) selectionArgs.push('--package', selection.package);
  if (selection.bin) selectionArgs.push('--bin', selection.bin);
  if (selection.example) selectionArgs.push('--example', selection.example);
  if (selection.features) selectionArgs.push('--features', selection.features);
  if (selection.profile !== undefined) selectionArgs.push('--profile', selection.profile);
  if (selection.target !== undefined) selectionArgs.push('--target', selection.target);
  selectionArgs.push(...(selection.cargoFlags ?? []));
  const overrides = await profileOverrides(workspace.root, profile);
  for (const override of overrides) selectionArgs.push('--config', override.config);
  const wrapperEnv: Record<string, string> = { RUSTC_WORKSPACE_WRAPPER: rustcShim, [CAPTURE_DIR_ENV]: captureDir, [LINKER_SHIM_ENV]: linkerShim };
  if (workspace.pathDependencies.length > 0) {
    const directories = workspace.pathDependencies.map((pkg) => dirname(pkg.manifestPath));
    wrapperEnv.RUSTC_WRAPPER = await writePathDependencyFilter(shimDir, rustcShim, directories, process.env.RUSTC_WRAPPER || undefined);
  }
  const args = ['build', '--message-format=json-render-diagnostics', ...verbosityFlags(selection.verbosity), ...selectionArgs];
  const env = { ...process.env, ...wrapperEnv };
  const { executables, buildScripts } = await runCargo(args, env, cwd, signal);
  if (executables.length === 0) throw new UserError('cargo built no executable; choose one with --bin or --example', 'no-binary');
  if (executables.length > 1) {
    throw new UserError(`cargo built several executables; choose one with --bin or --example`, 'several-binaries', executables);
  }
  const binary = executables[0]!;
  const crates = await readRustcRecords(captureDir);
  const links = await readRecords<LinkRecord>(join(captureDir, 'link'), (entry) => join(entry, 'link.json'));
  const link = await findLinkOf(binary, links);
  if (!link) {
    throw new UserError(`cargo did not link ${binary} through ipbp's linker wrapper`, 'no-link-capture', [
      'a custom linker configuration may bypass `-C linker`; please report this project layout',
    ]);
  }
  // Build scripts and proc-macros run on the host: the program's own crate says what it was built for.
  const program = binaryCrateOf(crates) ?? crates.find((record) => !record.crateName.startsWith('build_script_'));
  if (!program) throw new UserError(`cargo compiled no crate of ${basename(binary)} through ipbp's wrapper`, 'no-binary-capture');
  const target = await targetTripleOf(program);
  const runner = await targetRunnerOf(target, cwd, configArguments(selection.cargoFlags ?? []));
  const buildInputs = await buildInputFiles(workspace, crates);
  const externalSources = await externalCrateSources(link, crates, workspace);
  return {
    workspaceRoot: workspace.root,
    targetDirectory: workspace.targetDirectory,
    binary,
    target,
    runner,
    linker: codegenOption(program.args, 'linker'),
    crates,
    link,
    captureDir,
    buildInputs,
    externalSources,
    buildScripts: localBuildScripts(workspace, buildScripts),
    profileOverrides: overrides.map((override) => override.setting),
    cargo: { cwd, args: selectionArgs, env: wrapperEnv },
    seededDependencies: seeded,
    settings,
  };
}

/** The compilation of the program's own binary crate (not a build script's). */
function binaryCrateOf(crates: readonly RustcRecord[]): RustcRecord | undefined {
  return crates.find((record) => record.crateTypes.includes('bin') && !record.crateName.startsWith('build_script_'));
}

/** The values of `--config` among cargo's flags. */
function configArguments(flags: readonly string[]): string[] {
  return flags.flatMap((flag, i) => (flag === '--config' && flags[i + 1] !== undefined ? [flags[i + 1]!] : []));
}

/** Cargo's spelling of a verbosity. */
function verbosityFlags(verbosity = 0): string[] {
  if (verbosity < 0) return ['--quiet'];
  return verbosity > 0 ? [`-${'v'.repeat(Math.min(verbosity, 2))}`] : [];
}

/**
 * The packages the capture compiles through the wrapper: the workspace's,
 * and path dependencies outside it. Their unchanged crates are recompiled
 * from rustc's incremental cache, which takes a fraction of a first build.
 */
function packagesToRecompile(workspace: CargoWorkspace): Set<string> {
  return new Set([...workspace.members, ...workspace.pathDependencies].map((pkg) => pkg.name));
}

/**
 * Removing cargo's fingerprints of packages
 * (`<target>/[<triple>/]<profile>/.fingerprint/<package>-<hash>/`) makes cargo
 * recompile them, through the wrapper; their outputs stay in place until
 * the new build replaces them.
 */
async function forgetFingerprints(targetDirectory: string, names: ReadonlySet<string>): Promise<void> {
  if (names.size === 0) return;
  const fingerprintDirs: string[] = [];
  for (const profileOrTriple of await subdirectories(targetDirectory)) {
    fingerprintDirs.push(join(profileOrTriple, '.fingerprint'));
    for (const profile of await subdirectories(profileOrTriple)) fingerprintDirs.push(join(profile, '.fingerprint'));
  }
  for (const directory of fingerprintDirs) {
    for (const entry of await readdir(directory).catch(() => [] as string[])) {
      const match = /^(.+)-[0-9a-f]{16}$/.exec(entry);
      // A directory that cannot be changed (read-only) is left to cargo, whose build then says what is wrong with it.
      if (match && names.has(match[1]!)) await rm(join(directory, entry), { recursive: true, force: true }).catch(() => {});
    }
  }
}

async function subdirectories(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => join(directory, entry.name));
}

/** The build script runs of local packages; those of registry dependencies are covered by Cargo.lock. */
function localBuildScripts(workspace: CargoWorkspace, runs: ReadonlyArray<{ packageId: string; outDir: string }>): BuildScriptRun[] {
  const scripts: BuildScriptRun[] = [];
  for (const run of runs) {
    const pkg = workspace.localPackages.find((candidate) => candidate.id === run.packageId);
    if (pkg) scripts.push({ package: pkg.name, packageDirectory: dirname(pkg.manifestPath), outDir: run.outDir });
  }
  return scripts;
}

/**
 * Cargo runs RUSTC_WRAPPER for every crate (and, for workspace members,
 * before the workspace wrapper). This filter hands the crates of path
 * dependencies to ipbp's rustc wrapper and everything else to the user's own
 * RUSTC_WRAPPER (sccache, say) or straight on, in a shell that costs a
 * millisecond rather than a Node.js start.
 */
async function writePathDependencyFilter(directory: string, rustcShim: string, packageDirectories: readonly string[], userWrapper: string | undefined): Promise<string> {
  const patterns = packageDirectories.map(shellQuoted).join('|');
  const otherwise = userWrapper ? `exec ${shellQuoted(userWrapper)} "$@"` : 'exec "$@"';
  const script = `#!/bin/sh\ncase "$CARGO_MANIFEST_DIR" in\n  ${patterns}) exec ${shellQuoted(rustcShim)} "$@" ;;\nesac\n${otherwise}\n`;
  // Projects may share a target directory: each filter is named by what it says (cargo does not hash RUSTC_WRAPPER's path).
  const path = join(directory, `path-dependency-filter-${createHash('sha256').update(script).digest('hex').slice(0, 16)}`);
  await writeExecutable(path, script);
  return path;
}

function shellQuoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

async function writeShim(directory: string, name: string, script: string): Promise<string> {
  const path = join(directory, name);
  await writeExecutable(path, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  return path;
}

/**
 * Writes a script whole or not at all: another build of a project sharing
 * the target directory may run it meanwhile.
 */
async function writeExecutable(path: string, text: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === text) return;
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o755 });
  await rename(temporary, path);
}

/**
 * The object keeper (see `objectKeeperOf`): hard-links every object
 * argument (or copies them, across filesystems) into $IPBP_OBJECTS_TO,
 * reading `@file` response files, which rustc writes one argument per line.
 * One `ln` for all of them: a binary crate hands over hundreds of codegen
 * units, and a process each would cost more than the compile.
 */
const OBJECT_KEEPER_SCRIPT = `#!/bin/sh
for arg; do
  case "$arg" in
    @*) cat -- "\${arg#@}" && echo ;;
    *) printf '%s\\n' "$arg" ;;
  esac
done | grep '\\.o$' | tr '\\n' '\\0' | xargs -0 -r sh -c 'ln -f -- "$@" "$IPBP_OBJECTS_TO/" 2>/dev/null || cp -f -- "$@" "$IPBP_OBJECTS_TO/"' object-keeper
`;

/** The rustc wrapper's records in a capture directory, one per crate compiled. */
export function readRustcRecords(captureDir: string): Promise<RustcRecord[]> {
  return readRecords<RustcRecord>(join(captureDir, 'rustc'));
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
