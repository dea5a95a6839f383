import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BuildInputSnapshot } from '../build/build-inputs.js';
import { type BuildSelection, type CapturedBuild, captureBuild } from '../build/capture.js';
import { crateGraph } from '../build/crate-graph.js';
import { UserError } from '../cli/errors.js';
import { type ElfImage, readElfImage } from '../object/elf/image.js';
import { Patcher } from './patcher.js';
import type { Reporter } from './reporter.js';

/**
 * One build of the program and everything that patches processes of it.
 * A hot restart replaces the whole generation.
 */
export interface Generation {
  readonly directory: string;
  readonly build: CapturedBuild;
  readonly image: ElfImage;
  readonly patcher: Patcher;
  /** What the manifests, lock file and build scripts held for this build. */
  readonly buildInputs: BuildInputSnapshot;
}

/**
 * Build the program with cargo (recorded) into a directory of its own: the
 * wrappers' new paths make cargo recompile, and so record, every workspace
 * crate, and a failed build leaves the running generation's files intact.
 */
export async function startGeneration(selection: BuildSelection, directory: string, cwd: string, reporter: Reporter): Promise<Generation> {
  const build = await captureBuild(selection, directory, cwd);
  const buildInputs = await BuildInputSnapshot.take(build.workspaceRoot, build.buildInputs);
  const image = readElfImage(build.binary, await readFile(build.binary));
  if (!image.buildId) throw new UserError(`${build.binary} has no build id`, 'no-build-id', ['the linker did not add --build-id']);
  const binaryCrate = basename(build.binary).replace(/-/g, '_');
  const units = crateGraph(build.crates, binaryCrate);
  if (!units.some((unit) => unit.isBinary)) throw new UserError(`cargo did not compile the binary crate ${binaryCrate} through ipbp's wrapper`, 'no-binary-capture');
  const patcher = new Patcher(build, units, image, join(directory, 'patches'), reporter);
  await patcher.loadBaselines();
  reporter.info(`watching ${patcher.watchedFiles().length} source files of ${units.length} crate(s) and ${buildInputs.files.length} build files`);
  return { directory, build, image, patcher, buildInputs };
}

/** Source files and build files: every file whose change matters to this generation. */
export function watchedFilesOf(generation: Generation): string[] {
  return [...generation.patcher.watchedFiles(), ...generation.buildInputs.files];
}
