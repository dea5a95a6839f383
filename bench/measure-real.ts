import { dirname, join } from 'node:path';
import { CORPUS_TARGET_DIRECTORY, fetchCrates, prepareWorkCopy } from '../corpus/fetch.js';
import { type IpbpEvent, IpbpSession } from '../corpus/ipbp-session.js';
import { OutputLog } from '../corpus/output-log.js';
import { freePort } from '../corpus/probes.js';
import type { CorpusProject, LaunchContext, ObserveContext } from '../corpus/project.js';
import { PROJECTS } from '../corpus/projects.js';
import type { RealApp } from './apps.js';
import type { CargoEdit, CargoResult } from './measure-cargo.js';
import { type IpbpEdit, type IpbpResult, type MemoryPoint, type SessionResult, isPatchLibrary, memoryCheckpoints, sessionDisk, targetDirectoryOf, withTargetDisk } from './measure-ipbp.js';
import { cargoBuild } from './support/cargo-build.js';
import { PROBE_INTERVAL_MS } from './support/http-probe.js';
import { OUTCOMES, type PatchStages } from './support/ipbp-session.js';
import { PlainApp } from './support/plain-app.js';
import { filesBelow, residentBytes } from './support/process-memory.js';
import { sleep } from './support/stats.js';
import { replaceOnce } from './support/work-copy.js';

/** A cold start builds every dependency of the program (tokio, tracing, tiny_http, …) on first use of the target directory. */
const START_TIMEOUT_MS = 20 * 60_000;
const EDIT_TIMEOUT_MS = 3 * 60_000;
const BUILD_TIMEOUT_MS = 5 * 60_000;
const BETWEEN_EDITS_MS = 100;
const EVENT_POLL_MS = 20;
/** As the own HTTP server: requests before the RSS is taken, so the first requests' growth is not blamed on patches. */
const WARM_UP_REQUESTS = 200;

/**
 * A crates.io program, end to end: laid out afresh from the published
 * crates by the corpus, measured under `ipbp run` (`app.patches` edits of
 * its per-request literal), then with `cargo build` + restart on the same
 * work copy and target directory, as for the own apps.
 */
export async function measureRealApp(app: RealApp, log: (line: string) => void): Promise<{ ipbp: IpbpResult; cargo: CargoResult }> {
  const project = benchProject(app);
  log(`== ${app.name} (${app.description})`);
  const directory = await prepareWorkCopy(project, await fetchCrates(project));
  log(`  work copy ${directory}, target ${CORPUS_TARGET_DIRECTORY}; ${app.patches} patches under ipbp, then ${app.cargoRuns} × cargo build + restart`);
  const ipbp = await withTargetDisk(await measureSession(app, project, directory, log));
  const cargo = await measureCargoRuns(app, project, directory, targetDirectoryOf(ipbp.binary), log);
  return { ipbp, cargo };
}

/**
 * The corpus project behind `app`, under a name of its own: its work copy
 * then has a fixed path (builds stay reusable) apart from the corpus's, so
 * a corpus run never edits the benchmark's sources. Dependencies are built
 * into the corpus's shared target directory.
 */
function benchProject(app: RealApp): CorpusProject {
  const project = PROJECTS.find((candidate) => candidate.name === app.corpus);
  if (!project) throw new Error(`bench app ${app.name}: no corpus project ${app.corpus}`);
  return { ...project, name: `bench-${project.name}` };
}

async function launchIn(directory: string): Promise<LaunchContext> {
  return { directory, port: await freePort(), upstreamPort: await freePort() };
}

async function measureSession(app: RealApp, project: CorpusProject, directory: string, log: (line: string) => void): Promise<SessionResult> {
  const launch = await launchIn(directory);
  const launchedAt = performance.now();
  const session = new IpbpSession({
    directory,
    targetDirectory: CORPUS_TARGET_DIRECTORY,
    ipbpArgs: project.ipbpArgs,
    appArgs: project.appArgs(launch),
    terminal: project.terminal,
    eventsPath: join(directory, 'ipbp-events.jsonl'),
    env: project.env?.(launch) ?? {},
  });
  try {
    return await sessionResult(app, project, session, { ...launch, output: session.output, from: 0 }, launchedAt, log);
  } catch (error) {
    log(`  ipbp output (tail): ${session.output.tail()}`);
    throw error;
  } finally {
    await session.interrupt();
  }
}

async function sessionResult(app: RealApp, project: CorpusProject, session: IpbpSession, context: ObserveContext, launchedAt: number, log: (line: string) => void): Promise<SessionResult> {
  const pid = (await nextEvent(session, 'ready', START_TIMEOUT_MS)).pid as number;
  const { binary, socket } = (await nextEvent(session, 'session', START_TIMEOUT_MS)) as IpbpEvent & { binary: string; socket: string };
  const sessionDirectory = dirname(socket);
  const startMs = (await observed(project, context, project.before, START_TIMEOUT_MS)) - launchedAt;
  log(`  ipbp: app answering (pid ${pid}) ${Math.round(startMs)} ms after \`ipbp run\``);
  await warmUp(project, context);
  await sleep(500);
  const rssBeforeBytes = await residentBytes(pid);

  const edits: IpbpEdit[] = [];
  const memory: MemoryPoint[] = [];
  const checkpoints = memoryCheckpoints(app.patches);
  for (let revision = 1; revision <= app.patches; revision++) {
    const from = context.output.length;
    const editedAt = await replaceOnce(context.directory, app.editFile, app.literal(revision - 1), app.literal(revision));
    const probing = new AbortController();
    const seen = observed(project, { ...context, from }, app.expect(revision), EDIT_TIMEOUT_MS, probing.signal);
    seen.catch(() => undefined);
    // Patch n is the n-th outcome: anything but `patched` ends the run, since a real app's edit is expected to patch (the corpus shows it does).
    const outcome = await nextOutcome(session, revision, EDIT_TIMEOUT_MS);
    if (outcome.event !== 'patched') {
      probing.abort();
      throw new Error(`ipbp did not patch edit ${revision} of ${app.name}: ${outcome.event} ${JSON.stringify(outcome).slice(0, 400)}`);
    }
    const seenAt = await seen;
    edits.push({ revision, outcome: outcome.event, editToBehaviourMs: seenAt - editedAt, stages: outcome.ms as PatchStages, changed: outcome.changed as string[] });
    if (checkpoints.has(revision)) {
      memory.push({ patches: revision, rssBytes: await residentBytes(pid), patchLibraryBytes: (await filesBelow(sessionDirectory, isPatchLibrary)).bytes });
    }
    log(`  ipbp: ${revision}/${app.patches} patches, last ${Math.round(seenAt - editedAt)} ms edit → behaviour`);
    await sleep(BETWEEN_EDITS_MS);
  }
  const disk = await sessionDisk(sessionDirectory);
  return { startMs, binary, edits, rssBeforeBytes, memory, disk };
}

/**
 * `cargo build` (with the package or binary selection `ipbp run` had) and a
 * restart after each edit, until a probe sees the new reply. `firstRevision`
 * is the revision the sources hold after the ipbp session.
 */
async function measureCargoRuns(app: RealApp, project: CorpusProject, directory: string, targetDirectory: string, log: (line: string) => void): Promise<CargoResult> {
  // Untimed: the workspace crates were last built through ipbp's wrapper, which cargo sees as a change.
  const first = await cargoBuild(directory, targetDirectory, project.ipbpArgs);
  let launch = await launchIn(directory);
  let running = PlainApp.start(first.executable, project.appArgs(launch), directory, project.env?.(launch));
  try {
    await observed(project, plainContext(launch), app.expect(app.patches), BUILD_TIMEOUT_MS);
    await warmUp(project, plainContext(launch));
    await sleep(500);
    const rssBytes = await residentBytes(running.pid);

    const edits: CargoEdit[] = [];
    for (let run = 1; run <= app.cargoRuns; run++) {
      const revision = app.patches + run;
      // A fresh port per start (picked before the edit, untimed): the new process never races the old one's socket.
      launch = await launchIn(directory);
      const editedAt = await replaceOnce(directory, app.editFile, app.literal(revision - 1), app.literal(revision));
      const build = await cargoBuild(directory, targetDirectory, project.ipbpArgs);
      const builtAt = performance.now();
      await running.stop();
      running = PlainApp.start(build.executable, project.appArgs(launch), directory, project.env?.(launch));
      const seenAt = await observed(project, plainContext(launch), app.expect(revision), BUILD_TIMEOUT_MS);
      edits.push({ revision, editToBehaviourMs: seenAt - editedAt, buildMs: build.ms, restartMs: seenAt - builtAt });
      log(`  cargo: run ${run}/${app.cargoRuns}: ${Math.round(seenAt - editedAt)} ms edit → behaviour (build ${Math.round(build.ms)} ms)`);
      await sleep(300);
    }
    return { edits, rssBytes };
  } finally {
    await running.stop();
  }
}

/** The real apps are observed by request (an HTTP GET, a RESP exchange), never by their output: a plain start's needs none. */
function plainContext(launch: LaunchContext): ObserveContext {
  return { ...launch, output: new OutputLog(), from: 0 };
}

/**
 * Probes the app the corpus's way every PROBE_INTERVAL_MS until `expected`
 * matches; resolves with performance.now() when the matching answer arrived.
 */
async function observed(project: CorpusProject, context: ObserveContext, expected: RegExp, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline && !signal?.aborted) {
    last = await project.observe(context);
    if (expected.test(last)) return performance.now();
    await sleep(PROBE_INTERVAL_MS);
  }
  throw new Error(`${signal?.aborted ? 'gave up' : `timed out after ${timeoutMs} ms`}: ${project.name} never showed ${expected}; last seen: ${JSON.stringify(last.slice(-200))}`);
}

async function warmUp(project: CorpusProject, context: ObserveContext): Promise<void> {
  for (let i = 0; i < WARM_UP_REQUESTS; i++) await project.observe(context);
}

/** The first event of one kind, or a failure as soon as ipbp exits. */
function nextEvent(session: IpbpSession, kind: string, timeoutMs: number): Promise<IpbpEvent> {
  return pollEvents(session, timeoutMs, `a \`${kind}\` event`, (events) => events.find((event) => event.event === kind));
}

/** How ipbp handled the `count`-th edit: its `count`-th outcome event. */
function nextOutcome(session: IpbpSession, count: number, timeoutMs: number): Promise<IpbpEvent> {
  return pollEvents(session, timeoutMs, `the outcome of edit ${count}`, (events) => events.filter((event) => OUTCOMES.has(event.event))[count - 1]);
}

async function pollEvents(session: IpbpSession, timeoutMs: number, what: string, pick: (events: IpbpEvent[]) => IpbpEvent | undefined): Promise<IpbpEvent> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = pick(await session.events());
    if (found) return found;
    if (session.exitStatus) throw new Error(`ipbp exited (${session.exitStatus.signal ?? `code ${session.exitStatus.code}`}) while waiting for ${what}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(EVENT_POLL_MS);
  }
}
