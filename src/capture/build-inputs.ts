import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { depInfoFileName, type RustcRecord, rustcOutputs } from './capture-record.js';
import type { CargoWorkspace } from './cargo-metadata.js';
import { readDepInfo } from './dep-info.js';

/** Where cargo looks for configuration and the toolchain pin, next to the workspace root. */
const ROOT_FILES = ['Cargo.toml', 'Cargo.lock', '.cargo/config.toml', '.cargo/config', 'rust-toolchain.toml', 'rust-toolchain'];

/**
 * The files that define the build rather than the code: manifests (and with
 * them dependencies and features), the lock file, cargo's configuration,
 * build scripts, their modules and the files they declared with
 * `rerun-if-changed`. rustc's dep-info does not list them, and a change to
 * any of them can change how every crate is compiled or linked, which no
 * patch can express. Files that do not exist yet are listed too: creating
 * `.cargo/config.toml` changes the build as much as editing it.
 */
export async function buildInputFiles(workspace: CargoWorkspace, crates: readonly RustcRecord[], buildScriptOutputs: readonly BuildScriptOutput[]): Promise<string[]> {
  const files = new Set<string>(ROOT_FILES.map((name) => join(workspace.root, name)));
  for (const member of workspace.members) {
    files.add(member.manifestPath);
    if (member.buildScript) files.add(member.buildScript);
  }
  for (const record of crates) {
    if (!record.crateName.startsWith('build_script_')) continue;
    const { outDir, stem } = rustcOutputs(record);
    const depInfo = join(outDir, depInfoFileName(stem));
    for (const file of await readDepInfo(depInfo).catch(() => [])) files.add(resolve(record.cwd, file));
  }
  for (const output of buildScriptOutputs) {
    for (const file of await rerunIfChanged(output)) files.add(file);
  }
  return [...files];
}

/** A workspace package's build script run, as cargo reports it (`build-script-executed`). */
export interface BuildScriptOutput {
  readonly packageDirectory: string;
  /** The script's `OUT_DIR`; cargo keeps what the script printed in `../output`. */
  readonly outDir: string;
}

/**
 * Regular files a build script asked to be rerun for. Directories are left
 * out: cargo compares every file under them, and one of them may well hold
 * the target directory that every build rewrites.
 */
async function rerunIfChanged(output: BuildScriptOutput): Promise<string[]> {
  const text = await readFile(join(dirname(output.outDir), 'output'), 'utf8').catch(() => '');
  const files: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^cargo::?rerun-if-changed=(.+)$/.exec(line.trim());
    if (!match) continue;
    const path = resolve(output.packageDirectory, match[1]!);
    const kind = await stat(path).catch(() => undefined);
    if (kind?.isFile()) files.push(path);
  }
  return files;
}

/** A snapshot as session.json holds it: each file's digest (null: it did not exist), and which files are external sources. */
export interface SavedBuildInputs {
  readonly digests: Readonly<Record<string, string | null>>;
  readonly external: readonly string[];
}

/**
 * What the build inputs held when the running program was built, to tell a
 * real change from a save that changed nothing (or cargo rewriting
 * Cargo.lock with the same content).
 */
export class BuildInputSnapshot {
  private constructor(
    private readonly root: string,
    private readonly digests: ReadonlyMap<string, string | undefined>,
    private readonly external: ReadonlySet<string>,
  ) {}

  /** `files` define the build; `externalSources` are sources of crates outside the workspace. */
  static async take(root: string, files: readonly string[], externalSources: readonly string[] = []): Promise<BuildInputSnapshot> {
    const digests = new Map<string, string | undefined>();
    for (const file of [...files, ...externalSources]) digests.set(file, await digestOf(file));
    return new BuildInputSnapshot(root, digests, new Set(externalSources));
  }

  /** A snapshot written down earlier (`saved()`), for a session that adopts a running app without building. */
  static restore(root: string, saved: SavedBuildInputs): BuildInputSnapshot {
    const digests = new Map(Object.entries(saved.digests).map(([file, digest]) => [file, digest ?? undefined]));
    return new BuildInputSnapshot(root, digests, new Set(saved.external));
  }

  /** What `restore` needs, as JSON holds it. */
  saved(): SavedBuildInputs {
    return { digests: Object.fromEntries([...this.digests].map(([file, digest]) => [file, digest ?? null])), external: [...this.external] };
  }

  get files(): string[] {
    return [...this.digests.keys()];
  }

  /** Why the changes among `paths` need a fresh build; empty when none of them is a build input that changed. */
  async reasonsFor(paths: readonly string[]): Promise<string[]> {
    const changed = await this.changedPaths(paths);
    const external = changed.filter((path) => this.external.has(path));
    const build = changed.filter((path) => !this.external.has(path));
    const reasons: string[] = [];
    if (build.length > 0) {
      reasons.push(`${this.listed(build)} changed: the build itself (manifest, lock file, features or build script) is not patchable`);
    }
    if (external.length > 0) {
      reasons.push(`${this.listed(external)} changed: it belongs to a crate outside the workspace, which ipbp does not recompile`);
    }
    return reasons;
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
