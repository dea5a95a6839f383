import { readFile, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS_TARGET_DIRECTORY, fetchCrates, prepareWorkCopy } from './fetch.js';
import { type IpbpEvent, IpbpSession, isRunning, sleep } from './ipbp-session.js';
import { freePort } from './probes.js';
import { type CorpusProject, describeShape, type LaunchContext, type ObserveContext, type SourceEdit } from './project.js';

/** A first build may compile every dependency: give it time before calling the start a failure. */
const READY_TIMEOUT_MS = 20 * 60_000;
/** From an edit (or from ready) until the app shows what is expected. */
const OBSERVE_TIMEOUT_MS = 120_000;
/** A loaded patch whose behaviour is still unseen this long later will not be seen (a tick is at most a second). */
const PATCHED_BUT_UNSEEN_MS = 20_000;
/** The `patched` event follows the load it reports; it must be there soon after the behaviour is. */
const EVENT_TIMEOUT_MS = 15_000;
/** How long an app may linger after ipbp exits before it counts as left behind. */
const APP_GONE_TIMEOUT_MS = 5_000;
const POLL_MS = 20;

export interface PatchRecord {
  readonly patch: number;
  /** ipbp's own stage timings for the patch (compile, diff, link, load, total). */
  readonly ms: Record<string, number>;
  readonly changed: string[];
  readonly notes: string[];
}

export interface CorpusResult {
  readonly project: string;
  readonly version: string;
  /** `single package` or `workspace`, and `release build` for a release profile. */
  readonly shape: string;
  readonly kind: string;
  /** `ipbp run` started → the unedited behaviour observed (includes ipbp's capture build). */
  startMs: number | null;
  /** First edit written → its behaviour observed from outside. */
  firstPatchMs: number | null;
  /** Second edit of the same code written → its behaviour observed. */
  warmPatchMs: number | null;
  outcome: 'patched' | 'failed';
  /** On failure, the exact reason: ipbp's own one-line reason where it gave one. */
  reason: string | null;
  /** ipbp's details for a restart or an unpatchable change. */
  details: string[];
  pid: number | null;
  /** What matched each expectation, as seen from outside: the unedited behaviour, then each edit's. */
  observed: string[];
  patches: PatchRecord[];
  stop: { exitCode: number | null; signal: string | null; appGone: boolean; timedOut: boolean } | null;
}

/** A failure whose message is the whole reason, as the table shows it. */
class CorpusFailure extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/**
 * One project end to end: fetch, lay out afresh, `ipbp run`, observe the
 * unedited program, make the two edits and observe each from outside in the
 * same process, then Ctrl-C and check that ipbp exited 0 and the program is
 * gone. Never throws: a failure at any step is the result's reason.
 */
export async function runProject(project: CorpusProject, log: (line: string) => void = () => undefined): Promise<CorpusResult> {
  const result: CorpusResult = {
    project: project.name,
    version: project.app.version,
    shape: describeShape(project),
    kind: project.kind,
    startMs: null,
    firstPatchMs: null,
    warmPatchMs: null,
    outcome: 'failed',
    reason: null,
    details: [],
    pid: null,
    observed: [],
    patches: [],
    stop: null,
  };
  let session: IpbpSession | undefined;
  let stopHelper: (() => Promise<void>) | undefined;
  try {
    log(`fetching ${project.app.name} ${project.app.version}${(project.members ?? []).map((crate) => ` + ${crate.name} ${crate.version}`).join('')}`);
    const directory = await prepareWorkCopy(project, await fetchCrates(project));
    const launch: LaunchContext = { directory, port: await freePort(), upstreamPort: await freePort() };
    stopHelper = await project.startHelper?.(launch);

    log('starting under ipbp run');
    const startedAt = performance.now();
    session = new IpbpSession({
      directory,
      targetDirectory: CORPUS_TARGET_DIRECTORY,
      ipbpArgs: project.release ? [...project.ipbpArgs, '--release'] : project.ipbpArgs,
      appArgs: project.appArgs(launch),
      terminal: project.terminal,
      eventsPath: join(directory, 'ipbp-events.jsonl'),
      env: project.env?.(launch) ?? {},
    });
    const ready = await waitForEvent(session, (event) => event.event === 'ready', READY_TIMEOUT_MS, 'the app to start (a `ready` event)');
    const pid = ready.pid as number;
    result.pid = pid;
    result.observed.push(await waitForBehaviour(session, project, { ...launch, output: session.output, from: 0 }, project.before, 'the unedited behaviour'));
    result.startMs = Math.round(performance.now() - startedAt);
    log(`ready in ${result.startMs} ms, pid ${pid}`);

    for (const [index, edit] of project.edits.entries()) {
      const label = index === 0 ? 'first edit' : 'warm edit';
      const from = session.output.length;
      const editedAt = await applyEdit(directory, edit);
      const seen = await waitForBehaviour(session, project, { ...launch, output: session.output, from }, edit.expect, `the ${label}'s behaviour (${describeEdit(edit)})`, index + 1);
      const elapsed = Math.round(performance.now() - editedAt);
      result.observed.push(seen);
      if (index === 0) result.firstPatchMs = elapsed;
      else result.warmPatchMs = elapsed;
      const patched = await waitForEvent(session, (event) => event.event === 'patched' && event.patch === index + 1, EVENT_TIMEOUT_MS, `the \`patched\` event of patch ${index + 1}`);
      result.patches.push({ patch: index + 1, ms: patched.ms as Record<string, number>, changed: patched.changed as string[], notes: patched.notes as string[] });
      const pids = patched.pids as number[];
      if (pids.length !== 1 || pids[0] !== pid) throw new CorpusFailure(`${label}: patch ${index + 1} went to pids ${JSON.stringify(pids)}, not the app's pid ${pid}`);
      const readies = (await session.events()).filter((event) => event.event === 'ready');
      if (readies.length !== 1 || !isRunning(pid)) throw new CorpusFailure(`${label}: the app is no longer pid ${pid} (ready events: ${readies.map((event) => event.pid).join(', ')})`);
      log(`${label} observed in ${elapsed} ms (ipbp: ${JSON.stringify(patched.ms)})`);
    }
    result.outcome = 'patched';
  } catch (error) {
    result.reason = withoutMachinePaths(error instanceof Error ? error.message : String(error));
    if (error instanceof CorpusFailure) result.details = error.details.map(withoutMachinePaths);
    log(`failed: ${result.reason}`);
  } finally {
    if (session) {
      const stop = await session.interrupt();
      const appGone = result.pid === null ? true : await until(() => !isRunning(result.pid!), APP_GONE_TIMEOUT_MS);
      result.stop = { exitCode: stop.code, signal: stop.signal, appGone, timedOut: stop.timedOut };
      const clean = !stop.timedOut && stop.code === 0 && appGone;
      if (!clean && result.outcome === 'patched') {
        result.outcome = 'failed';
        result.reason = `stop: ${stop.timedOut ? 'ipbp did not exit within 30 s of SIGINT (killed)' : `ipbp exited with ${stop.code ?? stop.signal}`}${appGone ? '' : `; the app (pid ${result.pid}) was still running`}`;
      }
      if (result.pid !== null && !appGone) {
        try {
          process.kill(result.pid, 'SIGKILL');
        } catch {
          // Went meanwhile.
        }
      }
      log(`stopped: ipbp exit ${stop.code ?? stop.signal}, app ${appGone ? 'gone' : 'left running'}`);
    }
    await stopHelper?.();
  }
  return result;
}

/** Replaces the edit's anchor, which must occur exactly once; returns the time of the write. */
async function applyEdit(directory: string, edit: SourceEdit): Promise<number> {
  const path = join(directory, edit.file);
  const text = await readFile(path, 'utf8');
  const at = text.indexOf(edit.from);
  if (at < 0 || text.indexOf(edit.from, at + 1) >= 0) throw new CorpusFailure(`harness: the anchor ${JSON.stringify(edit.from)} must occur exactly once in ${edit.file}`);
  const editedAt = performance.now();
  await writeFile(path, text.slice(0, at) + edit.to + text.slice(at + edit.from.length));
  return editedAt;
}

/**
 * Observes the app until `expected` matches, and returns what matched.
 * Between looks, any event that means the edit will not be seen in this
 * process ends the wait with ipbp's own words: a restart, an unpatchable
 * change, a crash, a compile error. When ipbp reports patch `patch` loaded
 * but the behaviour stays the old one for PATCHED_BUT_UNSEEN_MS, the wait
 * ends too, quoting the patch's notes (e.g. the edit landed in a call that
 * never returns).
 */
async function waitForBehaviour(session: IpbpSession, project: CorpusProject, context: ObserveContext, expected: RegExp, what: string, patch?: number): Promise<string> {
  let deadline = performance.now() + OBSERVE_TIMEOUT_MS;
  let patched: IpbpEvent | undefined;
  let seen = '';
  for (;;) {
    const events = await session.events();
    await failIfDerailed(session, what, events);
    seen = await project.observe(context);
    const match = expected.exec(seen);
    if (match) return match[0].slice(0, 400);
    if (patch !== undefined && !patched) {
      patched = events.find((event) => event.event === 'patched' && event.patch === patch);
      if (patched) deadline = Math.min(deadline, performance.now() + PATCHED_BUT_UNSEEN_MS);
    }
    if (performance.now() > deadline) {
      const last = `last seen: ${JSON.stringify(seen.slice(-200))}`;
      if (patched) {
        // The notes about calls under way say why a loaded patch is not seen; those about missing debug info do not.
        const notes = (patched.notes as string[]).filter((note) => !note.includes('no debug info'));
        const changed = patched.changed as string[];
        throw new CorpusFailure(
          `patch ${patch} loaded in pid ${(patched.pids as number[]).join(', ')} (changed: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? `, +${changed.length - 3} more` : ''}) but ${expected} still did not match ${PATCHED_BUT_UNSEEN_MS / 1000} s later${notes.length > 0 ? `; ipbp's notes: ${notes.join(' / ')}` : ''}`,
          [...(patched.notes as string[]), last],
        );
      }
      throw new CorpusFailure(`timed out after ${OBSERVE_TIMEOUT_MS / 1000} s waiting for ${what}: ${expected} never matched; ${last}`);
    }
    await sleep(POLL_MS);
  }
}

async function waitForEvent(session: IpbpSession, matches: (event: IpbpEvent) => boolean, timeoutMs: number, what: string): Promise<IpbpEvent> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const events = await session.events();
    const found = events.find(matches);
    if (found) return found;
    await failIfDerailed(session, what, events);
    if (performance.now() > deadline) throw new CorpusFailure(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; last output: ${JSON.stringify(session.output.tail(300))}`);
    await sleep(POLL_MS * 5);
  }
}

/** Throws with the exact reason if ipbp reported something that ends this run's hope of a patch, or exited. */
async function failIfDerailed(session: IpbpSession, what: string, known?: IpbpEvent[]): Promise<void> {
  let events = known ?? (await session.events());
  // An unpatchable change is followed by the restart it causes, whose reason is ipbp's one line for it (with the edit's place).
  const unpatchable = events.find((event) => event.event === 'unpatchable');
  if (unpatchable?.restarting === true) {
    const deadline = performance.now() + EVENT_TIMEOUT_MS;
    while (!events.some((event) => event.event === 'restart') && performance.now() < deadline) {
      await sleep(POLL_MS);
      events = await session.events();
    }
  }
  const restart = events.find((event) => event.event === 'restart');
  if (restart) throw new CorpusFailure(`restart: ${String(restart.reason)}${moreOf(restart.details as string[])}`, restart.details as string[]);
  if (unpatchable) {
    const reasons = unpatchable.reasons as string[];
    throw new CorpusFailure(`unpatchable: ${reasons[0]}${moreOf(reasons.slice(1))}`, [...reasons.slice(1), ...(unpatchable.details as string[])]);
  }
  for (const event of events) {
    switch (event.event) {
      case 'crashed': {
        const last = event.lastPatch as { patch: number; changed: string[] } | null;
        throw new CorpusFailure(`crashed (${event.signal ?? `exit code ${event.code}`})${last ? ` after patch ${last.patch} (${last.changed.join(', ')})` : ''}${lastWords(session)}`);
      }
      case 'exited':
        throw new CorpusFailure(`the app exited (${event.signal ?? `code ${event.code}`}) while waiting for ${what}${lastWords(session)}`);
      case 'compile-error':
        throw new CorpusFailure(`compile error: ${String(event.message).split('\n').slice(0, 3).join(' | ')}`);
      case 'patch-failed':
        throw new CorpusFailure(`patch ${event.patch} failed: ${String(event.message)}`);
    }
  }
  const exit = session.exitStatus;
  if (exit) {
    // ipbp's own error line says why; failing that, the last thing it showed.
    const error = session.output.since(0).split('\n').find((line) => line.startsWith('ipbp: error:'));
    throw new CorpusFailure(`ipbp exited (${exit.signal ?? `code ${exit.code}`}) while waiting for ${what}: ${error ? error.trim() : `last output: ${JSON.stringify(session.output.tail(400))}`}`);
  }
}

/** The count of further reasons, which the table leaves to the JSON's `details`. */
function moreOf(others: readonly string[]): string {
  return others.length > 0 ? ` (+${others.length} more in details)` : '';
}

/** The app's last output line(s) before it died: a panic's message says why. */
function lastWords(session: IpbpSession): string {
  const lines = session.output.since(0).split('\n').map((line) => line.trim()).filter(Boolean);
  const panic = lines.map((line) => line.includes('panicked at')).lastIndexOf(true);
  const words = panic >= 0 ? lines.slice(panic, panic + 2) : lines.slice(-2);
  return words.length > 0 ? `; it said: ${words.join(' ')}` : '';
}

/** Reasons go into committed results: the temp and home directories are written as `$TMPDIR` and `~`. */
function withoutMachinePaths(text: string): string {
  return text.replaceAll(tmpdir(), '$TMPDIR').replaceAll(homedir(), '~');
}

function describeEdit(edit: SourceEdit): string {
  return `${edit.file}: ${edit.from} -> ${edit.to}`;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}
