import { readFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { BuildInputSnapshot } from '../capture/build-inputs.js';
import type { BuildScriptRun } from '../capture/build-script-runs.js';
import { type BuildSelection, type CapturedBuild, captureBuild } from '../capture/capture.js';
import { DEFAULT_PROFILE } from '../capture/profiles.js';
import { crateGraph } from '../capture/crate-graph.js';
import { isBelowAny, NO_SETTINGS, type ProjectSettings } from '../capture/project-settings.js';
import { UserError } from '../errors/user-error.js';
import { type ElfImage, readElfImage } from '../object/elf/image.js';
import type { Target } from '../targets/target.js';
import { targetOf } from '../targets/target-of.js';
import { rerunBuildScripts } from '../compile/rerun-build-scripts.js';
import { Patcher, UnpatchableChange } from './patcher.js';
import type { Reporter } from './reporter.js';
import type { SavedGeneration } from './session-record.js';

/**
 * One build of the program and everything that patches processes of it.
 * A hot restart replaces the whole generation.
 */
export interface Generation {
  readonly directory: string;
  readonly build: CapturedBuild;
  readonly image: ElfImage;
  /** What the program was built for: how patches are written, linked and applied. */
  readonly target: Target;
  readonly patcher: Patcher;
  /** What the manifests, lock file and build scripts held for this build. */
  readonly buildInputs: BuildInputSnapshot;
  /** What is watched, in words: "12 source files of 2 crates and 3 build files". */
  readonly watching: string;
}

/**
 * Build the program with cargo (recorded) into a directory of its own: the
 * wrappers' new paths make cargo recompile, and so record, every workspace
 * crate, and a failed build leaves the running generation's files intact.
 * `signal` stops the build (when the session ends).
 */
export async function startGeneration(selection: BuildSelection, directory: string, cwd: string, reporter: Reporter, signal?: AbortSignal): Promise<Generation> {
  const build = await captureBuild(selection, directory, cwd, signal);
  if (build.profileOverrides.length > 0) {
    const profile = selection.profile ?? DEFAULT_PROFILE;
    reporter.info(`built without ${build.profileOverrides.map((setting) => `\`${setting}\``).join(' and ')} of [profile.${profile}]: patches bind to the program's symbols and follow each crate's own code (the program behaves the same)`);
  }
  for (const key of build.settings?.unknownKeys ?? []) reporter.warn(`ignoring ${key}: ipbp reads \`args\`, \`watch\`, \`ignore\` and \`restart\` there`);
  if (build.seededDependencies) reporter.info(`took the builds of ${build.seededDependencies} ${build.seededDependencies === 1 ? 'dependency' : 'dependencies'} from the project's own \`cargo build\` into target/ipbp`);
  const buildInputs = await BuildInputSnapshot.take(build.workspaceRoot, build.buildInputs, build.externalSources, build.buildScripts);
  const image = readElfImage(build.binary, await readFile(build.binary));
  return assemble(directory, build, image, buildInputs, reporter, (patcher) => patcher.loadBaselines());
}

/**
 * The generation a killed session left, to patch the processes it launched
 * (adoption): its recorded build and the baseline copies it made, without
 * running cargo. `executable` is where the running process's program is
 * read (`runningProgramOf`): its build id must be the recorded one.
 */
export async function loadGeneration(saved: SavedGeneration, executable: string, reporter: Reporter): Promise<Generation> {
  const image = readElfImage(saved.build.binary, await readFile(executable));
  if (image.buildId !== saved.buildId) throw new UserError(`the running ${basename(saved.build.binary)} is not the build ipbp recorded`, 'not-the-recorded-build');
  const buildInputs = BuildInputSnapshot.restore(saved.build.workspaceRoot, saved.buildInputs);
  return assemble(saved.directory, saved.build, image, buildInputs, reporter, (patcher) => patcher.restoreBaselines());
}

/** What session.json keeps of a generation, for `loadGeneration`. */
export function savedGenerationOf(generation: Generation, number: number): SavedGeneration {
  return { number, directory: generation.directory, build: generation.build, buildId: generation.image.buildId, buildInputs: generation.buildInputs.saved() };
}

async function assemble(
  directory: string,
  build: CapturedBuild,
  image: ElfImage,
  buildInputs: BuildInputSnapshot,
  reporter: Reporter,
  readBaselines: (patcher: Patcher) => Promise<void>,
): Promise<Generation> {
  if (!image.buildId) throw new UserError(`${build.binary} has no build id`, 'no-build-id', ['the linker did not add --build-id']);
  const target = targetOf(build.target);
  const binaryCrate = basename(build.binary).replace(/-/g, '_');
  const units = crateGraph(build.crates, binaryCrate);
  if (!units.some((unit) => unit.isBinary)) throw new UserError(`cargo did not compile the binary crate ${binaryCrate} through ipbp's wrapper`, 'no-binary-capture');
  const patcher = new Patcher(build, units, image, target, join(directory, 'patches'), reporter);
  await readBaselines(patcher);
  const watching = `${counted(patcher.watchedFiles().length, 'source file')} of ${counted(units.length, 'crate')} and ${counted(buildInputs.files.length, 'build file')}`;
  return { directory, build, image, target, patcher, buildInputs, watching };
}

/** "1 crate", "3 crates". */
function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Source files, build files and the project's own `watch` files: every file
 * whose change matters to this generation, but those the project `ignore`s.
 * Sources a build script generated are left out: they change when ipbp
 * reruns the script, which recompiles what includes them anyway.
 */
export function watchedFilesOf(generation: Generation): string[] {
  const generated = resolve(generation.build.targetDirectory) + sep;
  const { watch, ignore } = settingsOf(generation);
  const files = [...generation.patcher.watchedFiles().filter((file) => !file.startsWith(generated)), ...generation.buildInputs.files, ...watch];
  return files.filter((file) => !isBelowAny(file, ignore));
}

/** The project's `[*.metadata.ipbp]` defaults this generation was built with. */
export function settingsOf(generation: Generation): ProjectSettings {
  return generation.build.settings ?? NO_SETTINGS;
}

/**
 * Rerun the build scripts whose inputs changed, against this generation's
 * build, and take in their new output. Returns the program's crates to
 * recompile with it; throws `UnpatchableChange` when the output changes more
 * than what the crates compile (their flags, what the program links).
 */
export async function rerunScriptsOf(generation: Generation, runs: readonly BuildScriptRun[], reporter: Reporter, signal?: AbortSignal): Promise<string[]> {
  reporter.info(`rerunning the build script of ${runs.map((run) => `\`${run.package}\``).join(', ')}`);
  const records = await rerunBuildScripts(generation.build.cargo, join(generation.directory, 'build-script-rerun'), signal);
  const { keys, reasons } = generation.patcher.takeRecords(records);
  if (reasons.length > 0) throw new UnpatchableChange(reasons);
  await generation.buildInputs.refresh(runs);
  return keys;
}
