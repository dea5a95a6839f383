import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CrateBuild {
  readonly release?: boolean;
  /** Extra rustc flags, e.g. `-C symbol-mangling-version=v0`. */
  readonly flags?: readonly string[];
}

/**
 * A scratch crate whose single source file keeps one path across builds (panic
 * locations embed it), compiled by the real rustc into rlibs of objects.
 */
export class ScratchCrate {
  private builds = 0;

  private constructor(readonly directory: string) {}

  static async create(prefix = 'ipbp-crate-'): Promise<ScratchCrate> {
    return new ScratchCrate(await mkdtemp(join(tmpdir(), prefix)));
  }

  get sourcePath(): string {
    return join(this.directory, 'lib.rs');
  }

  /** Compile `source` as crate `demo`; debug builds use 16 incremental codegen units. */
  async build(source: string, options: CrateBuild = {}, incrementalDirectory = 'incremental'): Promise<string> {
    await writeFile(this.sourcePath, source);
    const out = join(this.directory, `out-${this.builds++}`);
    await mkdir(out, { recursive: true });
    const profile = options.release
      ? ['-C', 'opt-level=3', '-C', 'codegen-units=16']
      : ['-C', 'opt-level=0', '-C', 'debuginfo=2', '-C', 'codegen-units=16', '-C', `incremental=${join(this.directory, incrementalDirectory)}`];
    await run('rustc', ['--edition', '2021', '--crate-type=rlib', '--crate-name', 'demo', ...profile, ...(options.flags ?? []), '--emit=link', '--out-dir', out, this.sourcePath], {
      cwd: this.directory,
    });
    return join(out, 'libdemo.rlib');
  }

  async remove(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }
}
