import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors/user-error.js';

const run = promisify(execFile);

export interface WorkspaceMember {
  readonly id: string;
  readonly name: string;
  readonly manifestPath: string;
  /** The package's build script (`build.rs` or `package.build`), if it has one. */
  readonly buildScript: string | undefined;
  /** Its binary targets' names. */
  readonly binaries: readonly string[];
  /** `package.default-run`: the binary `cargo run` picks among several. */
  readonly defaultRun: string | undefined;
  /** Its `[package.metadata.ipbp]` table, unchecked. */
  readonly ipbpTable: unknown;
}

export interface CargoWorkspace {
  readonly root: string;
  readonly targetDirectory: string;
  readonly members: readonly WorkspaceMember[];
  /**
   * Packages of the user's own code outside the workspace: path dependencies
   * (`path = "../shared"`) and `[patch]` entries naming local checkouts.
   * Cargo does not run the workspace wrapper for them; ipbp wraps them itself.
   */
  readonly pathDependencies: readonly WorkspaceMember[];
  /** The members and the path dependencies: every package ipbp recompiles and watches. */
  readonly localPackages: readonly WorkspaceMember[];
  /** The `[workspace.metadata.ipbp]` table, unchecked. */
  readonly ipbpTable: unknown;
}

interface RawMetadata {
  workspace_root: string;
  target_directory: string;
  workspace_members: string[];
  metadata?: { ipbp?: unknown } | null;
  packages: Array<{
    id: string;
    name: string;
    source: string | null;
    manifest_path: string;
    default_run?: string | null;
    metadata?: { ipbp?: unknown } | null;
    targets: Array<{ kind: string[]; name: string; src_path: string }>;
  }>;
}

/**
 * `cargo metadata` for the project. Which packages outside the workspace are
 * local is known only from the dependency graph; `dependencies: false`
 * skips resolving it when only the workspace's own paths are needed (path
 * dependencies then come out empty). `targetDirectory`: the user's
 * `--target-dir`, relative to `cwd`. `cargoFlags`: the build's own, of
 * which `cargo metadata` takes all but `--jobs`: resolving the graph may
 * write `Cargo.lock`, which `--locked` must forbid here too, and features
 * decide which path dependencies are in it.
 */
export async function readCargoWorkspace(
  manifestPath: string | undefined,
  cwd: string,
  options: { dependencies?: boolean; targetDirectory?: string | undefined; cargoFlags?: readonly string[] } = {},
): Promise<CargoWorkspace> {
  const args = ['metadata', '--format-version', '1', ...metadataFlags(options.cargoFlags ?? [])];
  if (options.dependencies === false) args.push('--no-deps');
  if (manifestPath) args.push('--manifest-path', manifestPath);
  let stdout: string;
  try {
    // `--target-dir` as `cargo build` takes it: `cargo metadata` has no such flag, but reads the variable it overrides.
    const env = options.targetDirectory === undefined ? process.env : { ...process.env, CARGO_TARGET_DIR: resolve(cwd, options.targetDirectory) };
    ({ stdout } = await run('cargo', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new UserError('cannot read the cargo project', 'cargo-metadata', [stderr.trim()]);
  }
  const metadata = JSON.parse(stdout) as RawMetadata;
  const members = new Set(metadata.workspace_members);
  // A package with no source is one cargo reads from a local directory.
  const local = metadata.packages.filter((pkg) => pkg.source === null || members.has(pkg.id)).map(
    (pkg): WorkspaceMember => ({
      id: pkg.id,
      name: pkg.name,
      manifestPath: pkg.manifest_path,
      buildScript: pkg.targets.find((target) => target.kind.includes('custom-build'))?.src_path,
      binaries: pkg.targets.filter((target) => target.kind.includes('bin')).map((target) => target.name),
      defaultRun: pkg.default_run ?? undefined,
      ipbpTable: pkg.metadata?.ipbp,
    }),
  );
  return {
    root: metadata.workspace_root,
    targetDirectory: metadata.target_directory,
    members: local.filter((pkg) => members.has(pkg.id)),
    pathDependencies: local.filter((pkg) => !members.has(pkg.id)),
    localPackages: local,
    ipbpTable: metadata.metadata?.ipbp,
  };
}

/** The build flags `cargo metadata` takes too: all but `--jobs N`. */
function metadataFlags(cargoFlags: readonly string[]): string[] {
  return cargoFlags.filter((flag, index) => flag !== '--jobs' && cargoFlags[index - 1] !== '--jobs');
}
