import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type Diff, diffObjects } from '../../src/diff/compare.js';
import { type ElfImage, readElfImage } from '../../src/object/elf/image.js';
import type { ObjectFile } from '../../src/object/model.js';
import { readObjectPath } from '../../src/object/read.js';
import { DEMO_CRATE } from './demo-crate.js';
import { ScratchCrate } from './rustc.js';

const run = promisify(execFile);

/**
 * The program the patch tests pretend is running: a binary linked against the
 * debug build of DEMO_CRATE. It calls some of the crate's functions, so the
 * linker keeps those (and what they use) and drops the rest, such as
 * `other_label` and every std function they never reach.
 */
export const DEMO_MAIN = `extern crate demo;
fn main() {
    println!("{}", demo::add_one(1));
    println!("{}", demo::scaled_sum(1, 2));
    println!("{}", demo::label());
    println!("{}", demo::tick());
    println!("{}", demo::mode());
}
`;

/**
 * A baseline build of DEMO_CRATE, the executable linked against it, and
 * diffs of edited sources against that baseline, as the patch stage gets
 * them from the session.
 */
export class DemoProgram {
  private constructor(
    readonly crate: ScratchCrate,
    readonly executablePath: string,
    readonly image: ElfImage,
    private readonly baseline: ObjectFile[],
  ) {}

  static async build(prefix = 'ipbp-demo-program-'): Promise<DemoProgram> {
    const crate = await ScratchCrate.create(prefix);
    try {
      const rlib = await crate.build(DEMO_CRATE);
      const mainPath = join(crate.directory, 'main.rs');
      const executablePath = join(crate.directory, 'app');
      await writeFile(mainPath, DEMO_MAIN);
      await run('rustc', ['--edition', '2021', '-C', 'opt-level=0', '--extern', `demo=${rlib}`, '-L', dirname(rlib), '-o', executablePath, mainPath], { cwd: crate.directory });
      const image = readElfImage(executablePath, await readFile(executablePath));
      return new DemoProgram(crate, executablePath, image, await readObjectPath(rlib));
    } catch (error) {
      await crate.remove();
      throw error;
    }
  }

  /** Rebuild the crate from `source` and diff it against the baseline the executable was linked from. */
  async diff(source: string): Promise<Diff> {
    return diffObjects(this.baseline, await readObjectPath(await this.crate.build(source)));
  }

  async remove(): Promise<void> {
    await this.crate.remove();
  }
}

/** The toolchain's `libstd-*.rlib`, which is on the link line of every Rust program. */
export async function stdRlib(): Promise<string> {
  const { stdout } = await run('rustc', ['--print', 'target-libdir']);
  const directory = stdout.trim();
  const name = (await readdir(directory)).find((file) => /^libstd-.*\.rlib$/.test(file));
  if (!name) throw new Error(`no libstd rlib in ${directory}`);
  return join(directory, name);
}
