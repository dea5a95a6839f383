import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UserError } from '../errors/user-error.js';

const run = promisify(execFile);

export interface WorkspaceMember {
  readonly id: string;
  readonly name: string;
  readonly manifestPath: string;
  /** The package's build script (`build.rs` or `package.build`), if it has one. */
  readonly buildScript: string | undefined;
  /**
   * Its library is also a `cdylib`, `staticlib` or `dylib`: cargo then names
   * the library's outputs without a hash (they keep one file name from build
   * to build).
   */
  readonly unhashedLibrary: boolean;
}

export interface CargoWorkspace {
  readonly root: string;
  readonly targetDirectory: string;
  readonly members: readonly WorkspaceMember[];
}

interface RawMetadata {
  workspace_root: string;
  target_directory: string;
  workspace_members: string[];
  packages: Array<{ id: string; name: string; manifest_path: string; targets: Array<{ kind: string[]; crate_types?: string[]; src_path: string }> }>;
}

const UNHASHED_CRATE_TYPES = new Set(['cdylib', 'staticlib', 'dylib']);

/** `cargo metadata` for the project, without resolving dependencies' sources. */
export async function readCargoWorkspace(manifestPath: string | undefined, cwd: string): Promise<CargoWorkspace> {
  const args = ['metadata', '--format-version', '1', '--no-deps'];
  if (manifestPath) args.push('--manifest-path', manifestPath);
  let stdout: string;
  try {
    ({ stdout } = await run('cargo', args, { cwd, maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new UserError('cannot read the cargo project', 'cargo-metadata', [stderr.trim()]);
  }
  const metadata = JSON.parse(stdout) as RawMetadata;
  const members = metadata.packages
    .filter((pkg) => metadata.workspace_members.includes(pkg.id))
    .map((pkg) => ({
      id: pkg.id,
      name: pkg.name,
      manifestPath: pkg.manifest_path,
      buildScript: pkg.targets.find((target) => target.kind.includes('custom-build'))?.src_path,
      unhashedLibrary: pkg.targets.some((target) => (target.crate_types ?? target.kind).some((type) => UNHASHED_CRATE_TYPES.has(type))),
    }));
  return { root: metadata.workspace_root, targetDirectory: metadata.target_directory, members };
}
