import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildSelection } from '../capture/capture.js';
import type { PatchServer } from '../deliver/server.js';
import { sessionDirectoryExists } from '../deliver/session-directory.js';
import { readElfImage } from '../object/elf/image.js';
import { definedSymbols, loadAddressOf } from '../patch/link.js';
import { AdoptedApp } from './adopted-app.js';
import { type Generation, loadGeneration } from './generation.js';
import { isInDirectory, mappedPatchesOf } from './mapped-patches.js';
import type { BuiltPatch } from './patcher.js';
import { isRunning, runningProgramOf } from './process-identity.js';
import type { ProcessState } from './process-state.js';
import type { Reporter } from './reporter.js';
import { readSessionRecord, type SavedApp, type SessionRecord } from './session-record.js';
import { errorText } from '../errors/describe-error.js';

/** Processes a killed session of this project left running, and its record of them. */
export interface Orphans {
  readonly record: SessionRecord;
  readonly apps: readonly SavedApp[];
}

const SELECTION_FLAGS = [
  ['package', '-p'],
  ['bin', '--bin'],
  ['example', '--example'],
  ['features', '--features'],
  ['profile', '--profile'],
  ['target', '--target'],
] as const;

/** How long the agents of orphaned processes get to reconnect: they try every 100 ms. */
const RECONNECT_WAIT_MS = 5000;

/**
 * The processes in the project's session record that still run: the same
 * pid and start time, and still the recorded executable. `exact` (for
 * `ipbp run`) adopts only the program the user asked for; otherwise (`ipbp
 * attach`) only the options given must agree.
 */
export async function findOrphans(directory: string, selection: BuildSelection, exact: boolean, reporter: Reporter): Promise<Orphans | undefined> {
  if (!(await sessionDirectoryExists(directory))) return undefined;
  const record = await readSessionRecord(directory);
  if (!record) return undefined;
  const apps: SavedApp[] = [];
  for (const app of record.apps) {
    if (!isRunning(app)) continue;
    // Its build id is checked next, and again on hello.
    if (await runningProgramOf(app.pid, app.binary)) apps.push(app);
  }
  if (apps.length === 0) return undefined;
  const differing = SELECTION_FLAGS.filter(([key]) => (exact || selection[key] !== undefined) && (selection[key] ?? false) !== (record.selection[key] ?? false));
  const asked = (selection.cargoFlags ?? []).join(' ');
  const flagsDiffer = (exact || asked !== '') && asked !== (record.selection.cargoFlags ?? []).join(' ');
  if (differing.length > 0 || flagsDiffer) {
    reporter.warn(`pid ${pidsOf({ record, apps })} of this project runs with ${describeSelection(record.selection)}, not what was asked for; leaving it alone`);
    return undefined;
  }
  return { record, apps };
}

/**
 * The build the orphans run, as their session recorded it, with that
 * session's patch history: no cargo run. Undefined (with a warning) when it
 * cannot be reloaded.
 */
export async function reloadGeneration(orphans: Orphans, reporter: Reporter): Promise<Generation | undefined> {
  const { record } = orphans;
  try {
    const app = orphans.apps[0]!;
    const program = await runningProgramOf(app.pid, app.binary);
    if (!program) throw new Error(`pid ${app.pid} no longer runs ${app.binary}`);
    const generation = await loadGeneration(record.generation, program, reporter);
    const history = record.history.flatMap((id) => record.patches.filter((patch) => patch.id === id));
    generation.patcher.resumeHistory(history, Math.max(0, ...record.patches.map((patch) => patch.id)));
    return generation;
  } catch (error) {
    reporter.warn(`cannot reload the build of pid ${pidsOf(orphans)}: ${errorText(error)}`);
    return undefined;
  }
}

/** The orphans whose agents reconnected to `server` in time, to be watched by pid. */
export async function awaitAgents(server: PatchServer, orphans: Orphans, buildId: string, reporter: Reporter): Promise<AdoptedApp[]> {
  const apps = await Promise.all(
    orphans.apps.map(async (app) => {
      try {
        await server.waitForAgent((connection) => connection.pid === app.pid && connection.buildIdHex === buildId, RECONNECT_WAIT_MS);
        return new AdoptedApp(app);
      } catch {
        reporter.warn(`pid ${app.pid} still runs but its agent did not reconnect within ${RECONNECT_WAIT_MS / 1000} s; leaving it alone`);
        return undefined;
      }
    }),
  );
  return apps.filter((app): app is AdoptedApp => app !== undefined);
}

/**
 * A process that just connected may already run patches of `generation`
 * (`patches`: those sent so far): one of `orphans`, or one whose agent
 * reconnected. They are restored, never sent twice; an orphan is reported
 * adopted.
 */
export async function recognizeProcess(state: ProcessState, generation: Generation, patches: readonly BuiltPatch[], orphans: Orphans | undefined, reporter: Reporter): Promise<void> {
  const applied = await restoreLoadedPatches(state, generation, patches, reporter);
  if (!orphans || orphans.record.generation.buildId !== generation.image.buildId || !orphans.apps.some((app) => app.pid === state.pid)) return;
  reporter.info(`adopted pid ${state.pid} (${describePatches(applied)} applied)`);
  reporter.emit({ event: 'adopted', pid: state.pid, patches: applied });
}

/**
 * What an adopted process runs, from its memory map: the recorded patches
 * whose libraries it has loaded at the address they were linked for (the
 * agent refuses a patch that landed elsewhere, and leaves it loaded). Their
 * functions join the process's live symbols, so that later patches
 * redirect them too, and later patches go below the lowest one. Returns
 * the ids of the patches it runs.
 */
export async function restoreLoadedPatches(state: ProcessState, generation: Generation, patches: readonly BuiltPatch[], reporter: Reporter): Promise<number[]> {
  const mapped = await mappedPatchesOf(state.pid);
  if (mapped.length === 0) return [];
  state.reserveBelow(mapped.reduce((low, patch) => (patch.start < low ? patch.start : low), mapped[0]!.start));
  // Even a library the record missed must not have its name reused: dlopen would hand back the loaded one.
  generation.patcher.resumeHistory([], Math.max(...mapped.map((patch) => patch.id)));
  const patchDirectory = join(generation.directory, 'patches');
  const directory = await realpath(patchDirectory).catch(() => patchDirectory);
  const applied: number[] = [];
  for (const mapping of mapped) {
    const patch = isInDirectory(mapping, directory) ? patches.find((known) => known.id === mapping.id) : undefined;
    const image = patch && (await readFile(mapping.path).then((bytes) => readElfImage(mapping.path, bytes)).catch(() => undefined));
    if (!patch || !image) {
      reporter.warn(`process ${state.pid} has ${mapping.path} loaded, which is not a patch ipbp recorded for it; that code stays as it is`);
      continue;
    }
    if (loadAddressOf(image) !== mapping.start) continue; // Refused by the agent: nothing was redirected into it.
    generation.patcher.adoptLoadedPatch(state, patch, definedSymbols(image, new Set(patch.bindingNames)));
    applied.push(patch.id);
  }
  return applied;
}

function describeSelection(selection: BuildSelection): string {
  const flags = SELECTION_FLAGS.flatMap(([key, flag]) => {
    const value = selection[key];
    return value === undefined ? [] : [`${flag} ${value}`];
  });
  flags.push(...(selection.cargoFlags ?? []));
  return flags.length > 0 ? `\`${flags.join(' ')}\`` : 'no build options';
}

/** "patches 1..3", "patch 2", "patches 1, 3", "no patch". */
function describePatches(ids: readonly number[]): string {
  if (ids.length === 0) return 'no patch';
  if (ids.length === 1) return `patch ${ids[0]}`;
  const contiguous = ids.every((id, index) => index === 0 || id === ids[index - 1]! + 1);
  return contiguous ? `patches ${ids[0]}..${ids[ids.length - 1]}` : `patches ${ids.join(', ')}`;
}

function pidsOf(orphans: Orphans): string {
  return orphans.apps.map((app) => app.pid).join(', ');
}
