import { dirname } from 'node:path';
import type { ExampleApp } from './apps.js';
import { type CallCost, callCost } from './support/call-cost.js';
import { IpbpSession, type PatchStages } from './support/ipbp-session.js';
import { revisionSeen, started, warmUp } from './support/observe.js';
import { filesBelow, residentBytes } from './support/process-memory.js';
import { sleep } from './support/stats.js';
import { bumpRevision, replaceOnce } from './support/work-copy.js';

/** One edit of the session. */
export interface IpbpEdit {
  readonly revision: number;
  /** How ipbp handled it: `patched`, or what went wrong. */
  readonly outcome: string;
  readonly editToBehaviourMs: number;
  readonly stages: PatchStages | undefined;
  readonly changed: string[];
}

export interface MemoryPoint {
  readonly patches: number;
  readonly rssBytes: number;
  /** Bytes of all patch libraries (`.so`) in the session directory at that point. */
  readonly patchLibraryBytes: number;
}

/** The session directory's size, taken before the session ends and removes it. */
export interface SessionDisk {
  readonly patchLibraryBytes: number;
  readonly patchLibraries: number;
  readonly sessionDirectoryBytes: number;
}

export interface IpbpResult {
  /** `ipbp run` to the app's first output: the recorded cargo build, agent, start. */
  readonly startMs: number;
  readonly binary: string;
  readonly edits: IpbpEdit[];
  readonly rssBeforeBytes: number;
  readonly memory: MemoryPoint[];
  readonly disk: SessionDisk & {
    /** `<target>/ipbp` after the session: ipbp's own build of the program and its dependencies, wrappers, session records. */
    readonly targetIpbpBytes: number;
  };
  /** Small app only: before any patch of `mix_patched`, and after one. */
  readonly callCost?: { readonly beforePatch: CallCost; readonly afterPatch: CallCost };
}

/** What a session measures itself; the target directory is measured once it has ended. */
export type SessionResult = Omit<IpbpResult, 'disk'> & { readonly disk: SessionDisk };

const START_TIMEOUT_MS = 15 * 60_000;
const EDIT_TIMEOUT_MS = 3 * 60_000;
/** Let the app run a little between patches, as between a developer's saves. */
const BETWEEN_EDITS_MS = 100;
const MEMORY_CHECKPOINTS = [1, 10, 100];

/** The small app's call-cost edit: the rotation of `mix_patched` only. */
const MIX_PATCHED = {
  file: 'src/calls.rs',
  from: 'pub fn mix_patched(x: u64) -> u64 {\n    (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)',
  to: 'pub fn mix_patched(x: u64) -> u64 {\n    (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(19)',
};

/**
 * One `ipbp run` session of `app`: `app.patches` edits of the same function,
 * each timed from the write to the new behaviour seen by the benchmark,
 * with ipbp's own stage times, and the app's RSS at the checkpoints.
 */
export async function measureIpbp(app: ExampleApp, directory: string, log: (line: string) => void): Promise<IpbpResult> {
  return withTargetDisk(await runSession(app, directory, log), app.target?.triple);
}

async function runSession(app: ExampleApp, directory: string, log: (line: string) => void): Promise<SessionResult> {
  const launchedAt = performance.now();
  const session = await IpbpSession.start(directory, app.args, app.target);
  try {
    const firstOutput = started(app, session.output, START_TIMEOUT_MS);
    firstOutput.catch(() => undefined);
    const { binary, sessionDirectory } = await session.session(START_TIMEOUT_MS);
    let pid = await session.ready(START_TIMEOUT_MS);
    const { port, at } = await firstOutput;
    const startMs = at - launchedAt;
    log(`  ipbp: app running (pid ${pid}) ${Math.round(startMs)} ms after \`ipbp run\``);
    await warmUp(app, port);
    await sleep(500);
    const rssBeforeBytes = await residentBytes(pid);
    const costBefore = app.name === 'small' ? await callCost(session) : undefined;

    const edits: IpbpEdit[] = [];
    const memory: MemoryPoint[] = [];
    const checkpoints = memoryCheckpoints(app.patches);
    for (let revision = 1; revision <= app.patches; revision++) {
      const seen = revisionSeen(app, session.output, port, revision, EDIT_TIMEOUT_MS);
      const editedAt = await bumpRevision(directory, app.editFile, revision);
      const outcome = await session.nextOutcome(EDIT_TIMEOUT_MS);
      if (outcome.event !== 'patched') {
        // A restart still ends in the new behaviour, much later; anything else never shows it.
        log(`  ipbp: edit ${revision} was not patched (${outcome.event})\n${session.stderrTail()}`);
        if (outcome.event !== 'restart' && outcome.event !== 'unpatchable') throw new Error(`ipbp could not apply edit ${revision} of ${app.name}: ${outcome.event}`);
        pid = await session.ready(START_TIMEOUT_MS);
      }
      const seenAt = await seen;
      edits.push({
        revision,
        outcome: outcome.event,
        editToBehaviourMs: seenAt - editedAt,
        stages: outcome.event === 'patched' ? outcome.ms : undefined,
        changed: outcome.event === 'patched' ? outcome.changed : [],
      });
      if (checkpoints.has(revision)) {
        memory.push({ patches: revision, rssBytes: await residentBytes(pid), patchLibraryBytes: (await filesBelow(sessionDirectory, isPatchLibrary)).bytes });
      }
      if (revision === 1 || revision % 10 === 0) log(`  ipbp: ${revision}/${app.patches} patches, last ${Math.round(seenAt - editedAt)} ms edit → behaviour`);
      await sleep(BETWEEN_EDITS_MS);
    }

    let costs: IpbpResult['callCost'];
    if (costBefore) {
      await replaceOnce(directory, MIX_PATCHED.file, MIX_PATCHED.from, MIX_PATCHED.to);
      const outcome = await session.nextOutcome(EDIT_TIMEOUT_MS);
      if (outcome.event !== 'patched') throw new Error(`the call-cost edit was not patched (${outcome.event})\n${session.stderrTail()}`);
      costs = { beforePatch: costBefore, afterPatch: await callCost(session) };
    }

    const disk = await sessionDisk(sessionDirectory);
    return { startMs, binary, edits, rssBeforeBytes, memory, disk, ...(costs ? { callCost: costs } : {}) };
  } catch (error) {
    log(session.stderrTail());
    throw error;
  } finally {
    await session.stop();
  }
}

/** After how many patches the RSS is read; the last patch always, for an app given fewer than 100. */
export function memoryCheckpoints(patches: number): Set<number> {
  return new Set([...MEMORY_CHECKPOINTS.filter((n) => n < patches), patches]);
}

export function isPatchLibrary(name: string): boolean {
  return name.endsWith('.so');
}

/** The session directory goes away with the session: measure it before the session ends. */
export async function sessionDisk(sessionDirectory: string): Promise<SessionDisk> {
  const libraries = await filesBelow(sessionDirectory, isPatchLibrary);
  return { patchLibraryBytes: libraries.bytes, patchLibraries: libraries.files, sessionDirectoryBytes: (await filesBelow(sessionDirectory)).bytes };
}

/** Adds what ipbp leaves in the target directory once the session has ended (before any plain `cargo build` adds to it). */
export async function withTargetDisk(result: SessionResult, triple?: string): Promise<IpbpResult> {
  const targetIpbpBytes = (await filesBelow(targetDirectoryOf(result.binary, triple))).bytes;
  return { ...result, disk: { ...result.disk, targetIpbpBytes } };
}

/** The target directory the session built into (`<target>/debug/<binary>`, or `<target>/<triple>/debug/<binary>` for another target). */
export function targetDirectoryOf(binary: string, triple?: string): string {
  const profileDirectory = dirname(binary);
  return triple === undefined ? dirname(profileDirectory) : dirname(dirname(profileDirectory));
}
