import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { type BuildScriptRun, rerunInputsOf } from './build-script-runs.js';
import { depInfoFileName, type RustcRecord, rustcOutputs } from './capture-record.js';
import type { CargoWorkspace } from './cargo-metadata.js';
import { readDepInfo } from './dep-info.js';

/** Where cargo looks for configuration and the toolchain pin, next to the workspace root. */
const ROOT_FILES = ['Cargo.toml', 'Cargo.lock', '.cargo/config.toml', '.cargo/config', 'rust-toolchain.toml', 'rust-toolchain'];

/**
 * The files that define the build rather than the code: manifests (and with
 * them dependencies and features), the lock file, cargo's configuration,
 * build scripts and their modules. rustc's dep-info does not list them, and
 * a change to any of them can change how every crate is compiled or linked,
 * which no patch can express. Files that do not exist yet are listed too:
 * creating `.cargo/config.toml` changes the build as much as editing it.
 * (The files a build script reads are its inputs, not the build's: a change
 * to one reruns the script, see `BuildInputSnapshot.classify`.)
 */
export async function buildInputFiles(workspace: CargoWorkspace, crates: readonly RustcRecord[]): Promise<string[]> {
  const files = new Set<string>(ROOT_FILES.map((name) => join(workspace.root, name)));
  for (const member of workspace.localPackages) {
    files.add(member.manifestPath);
    if (member.buildScript) files.add(member.buildScript);
  }
  for (const record of crates) {
    if (!record.crateName.startsWith('build_script_')) continue;
    const { outDir, stem } = rustcOutputs(record);
    const depInfo = join(outDir, depInfoFileName(stem));
    for (const file of await readDepInfo(depInfo).catch(() => [])) files.add(resolve(record.cwd, file));
  }
  return [...files];
}

/** A snapshot as session.json holds it: each file's digest (null: it did not exist), which files define the build, which are external sources, and each build script run's inputs. */
export interface SavedBuildInputs {
  readonly digests: Readonly<Record<string, string | null>>;
  readonly files: readonly string[];
  readonly external: readonly string[];
  readonly scripts: ReadonlyArray<{ readonly run: BuildScriptRun; readonly inputs: readonly string[] }>;
}

/** What a set of changed files asks for: a fresh build (`reasons`), or reruns of these build scripts. */
export interface BuildChanges {
  readonly reasons: string[];
  readonly reruns: BuildScriptRun[];
}

/**
 * What the build inputs held when the running program was built, to tell a
 * real change from a save that changed nothing (or cargo rewriting
 * Cargo.lock with the same content).
 */
export class BuildInputSnapshot {
  private constructor(
    private readonly root: string,
    private readonly digests: Map<string, string | undefined>,
    /** Files that define the build: a change to one needs a fresh build. */
    private readonly buildFiles: ReadonlySet<string>,
    private readonly external: ReadonlySet<string>,
    /** Each local build script run and the files it reads (its `rerun-if-changed` files). */
    private readonly scripts: Map<string, { run: BuildScriptRun; inputs: string[] }>,
  ) {}

  /** `files` define the build; `externalSources` are sources of crates ipbp does not recompile; `runs` are the local build scripts' runs. */
  static async take(root: string, files: readonly string[], externalSources: readonly string[] = [], runs: readonly BuildScriptRun[] = []): Promise<BuildInputSnapshot> {
    const digests = new Map<string, string | undefined>();
    for (const file of [...files, ...externalSources]) digests.set(file, await digestOf(file));
    const snapshot = new BuildInputSnapshot(root, digests, new Set(files), new Set(externalSources), new Map());
    await snapshot.refresh(runs);
    return snapshot;
  }

  /** A snapshot written down earlier (`saved()`), for a session that adopts a running app without building. */
  static restore(root: string, saved: SavedBuildInputs): BuildInputSnapshot {
    const digests = new Map(Object.entries(saved.digests).map(([file, digest]) => [file, digest ?? undefined]));
    const scripts = new Map(saved.scripts.map(({ run, inputs }) => [run.outDir, { run, inputs: [...inputs] }]));
    return new BuildInputSnapshot(root, digests, new Set(saved.files), new Set(saved.external), scripts);
  }

  /** What `restore` needs, as JSON holds it. */
  saved(): SavedBuildInputs {
    return {
      digests: Object.fromEntries([...this.digests].map(([file, digest]) => [file, digest ?? null])),
      files: [...this.buildFiles],
      external: [...this.external],
      scripts: [...this.scripts.values()],
    };
  }

  get files(): string[] {
    return [...this.digests.keys()];
  }

  /**
   * What the changes among `paths` need. A changed manifest, lock file,
   * build script or external source needs a fresh build (a reason each);
   * a changed input of a build script only a rerun of that script, as cargo
   * would rerun it, and a recompile of what includes its output.
   */
  async classify(paths: readonly string[]): Promise<BuildChanges> {
    const changed = await this.changedPaths(paths);
    const external = changed.filter((path) => this.external.has(path));
    const build = changed.filter((path) => this.buildFiles.has(path));
    const reasons: string[] = [];
    if (build.length > 0) {
      reasons.push(`${this.listed(build)} changed: the build itself (manifest, lock file, features or build script) is not patchable`);
    }
    if (external.length > 0) {
      reasons.push(`${this.listed(external)} changed: it belongs to a crate ipbp did not capture, which it cannot recompile`);
    }
    const reruns = [...this.scripts.values()].filter((script) => script.inputs.some((input) => changed.includes(input))).map((script) => script.run);
    return { reasons, reruns };
  }

  /** Take in what build script runs read now: after a rerun, their inputs' new digests are the baseline (and they may name other files). */
  async refresh(runs: readonly BuildScriptRun[]): Promise<void> {
    for (const run of runs) {
      const inputs = await rerunInputsOf(run);
      this.scripts.set(run.outDir, { run, inputs });
      // A file the script reads that also defines the build (`build.rs` itself, often) keeps that role.
      for (const input of inputs) this.digests.set(input, await digestOf(input));
    }
  }

  private async changedPaths(paths: readonly string[]): Promise<string[]> {
    const changed: string[] = [];
    for (const path of paths) {
      if (!this.digests.has(path)) continue;
      if ((await digestOf(path)) !== this.digests.get(path)) changed.push(path);
    }
    return changed;
  }

  private relativeName(path: string): string {
    return relative(this.root, path) || path;
  }

  private listed(paths: readonly string[]): string {
    return paths.map((path) => `\`${this.relativeName(path)}\``).join(', ');
  }
}

async function digestOf(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    return undefined;
  }
}
