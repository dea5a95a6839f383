import { mkdir, rm } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { readCargoWorkspace } from '../capture/cargo-metadata.js';
import type { BuildSelection } from '../capture/capture.js';
import { ensureAgentBuilt } from '../load/agent-build.js';
import type { AgentConnection } from '../deliver/agent-connection.js';
import { PatchServer, type PatchServerOptions } from '../deliver/server.js';
import { ensureSessionDirectory, projectKey, sessionDirectoryOf } from '../deliver/session-directory.js';
import { newSessionToken } from '../deliver/token-auth.js';
import { describeError, errorText, renderedError } from '../errors/describe-error.js';
import { UserError } from '../errors/user-error.js';
import { type Crash, crashOf } from './app-crash.js';
import { awaitAgents, findOrphans, type Orphans, recognizeProcess, reloadGeneration } from './adoption.js';
import { launchApp } from './app-process.js';
import { RefusalReport } from './refusal-report.js';
import { type Generation, rerunScriptsOf, settingsOf, startGeneration, watchedFilesOf } from './generation.js';
import { fullText, type Reason } from '../judge/verdict.js';
import { EditLocations } from './edit-locations.js';
import { CompileError, UnpatchableChange } from './patcher.js';
import { listed } from './listing.js';
import { ProcessState } from './process-state.js';
import { Reporter, type SessionEvent } from './reporter.js';
import type { RunningApp } from './running-app.js';
import { SessionJournal, type SessionSetting } from './session-journal.js';
import { SerialQueue } from './serial-queue.js';
import { SessionLock } from './session-lock.js';
import { sessionLogPath } from './session-log.js';
import { SourceWatcher } from '../watch/source-watcher.js';
import { KEY_HELP, type KeyActions, TerminalKeys } from './terminal-keys.js';

export interface RunOptions extends BuildSelection {
  readonly appArgs: readonly string[];
  readonly events?: string | undefined;
  readonly processes: number;
  /** `--no-restart` makes it false; not given, the project's `restart` setting decides (and by default, it restarts). */
  readonly restart?: boolean | undefined;
  /** -1 under `--quiet`, the number of `-v`s otherwise. */
  readonly verbosity?: number | undefined;
  /** Read one-key commands when stdin is a terminal (`--no-keys` makes it false, and the app gets stdin). */
  readonly keys?: boolean | undefined;
  /** Also accept agents over TCP (other devices); they must present the session token. */
  readonly listen?: { readonly host: string; readonly port: number } | undefined;
  /** Ends the session as Ctrl-C would (used by `ipbp demo`). */
  readonly signal?: AbortSignal | undefined;
  /** Sees every event as it is emitted. */
  readonly onEvent?: ((event: SessionEvent) => void) | undefined;
  /** `ipbp attach`: only take over processes a killed session left running; never build or launch at the start. */
  readonly attach?: boolean | undefined;
}

/**
 * `ipbp run`: build once (recorded), start the app with the agent, then turn
 * every saved edit into a patch of the live process, or into a hot restart
 * when a patch cannot express the edit. Edits are handled one at a time, in
 * order. Resolves when the session ends (Ctrl-C, or the app exits).
 *
 * When a killed session left its processes running, they are adopted
 * instead (`ipbp attach` does only that): their agents reconnect to the
 * project's session directory, which stays the same from session to session.
 */
export async function runSession(options: RunOptions, cwd: string): Promise<number | undefined> {
  const workspace = await readCargoWorkspace(options.manifestPath, cwd, { dependencies: false, targetDirectory: options.targetDir, cargoFlags: options.cargoFlags });
  // Taken before anything else, the events file included: a refused second session must not touch the first one's files.
  // The project key reads the real path of the target directory, which a first build has not made yet.
  await mkdir(workspace.targetDirectory, { recursive: true });
  const lock = await SessionLock.acquire(join(workspace.targetDirectory, 'ipbp', 'sessions', await projectKey(workspace.root, workspace.targetDirectory)));
  try {
    const reporter = new Reporter(options.events, options.onEvent, options.verbosity);
    if (lock.staleHolder !== undefined) reporter.warn(`took over ${lock.path} from pid ${lock.staleHolder}, which is no longer running`);
    return await new Session(options, cwd, await sessionDirectoryOf(workspace.root, workspace.targetDirectory), reporter).run();
  } finally {
    await lock.release();
  }
}

class Session {
  private readonly queue = new SerialQueue();
  /** The saved text of the sources, to name the line an unpatchable edit is on. */
  private readonly editLocations = new EditLocations();
  private readonly apps = new Set<RunningApp>();
  /** Apps ipbp itself is stopping (for a restart): their exit is expected, not news. */
  private readonly retiring = new WeakSet<RunningApp>();
  private readonly journal: SessionJournal;
  /** What the apps are built and started from: the options, or for `ipbp attach` what the adopted session used. */
  private setting: SessionSetting;
  /** The processes of a killed session being adopted, until they are patchable. */
  private orphans: Orphans | undefined;
  private acceptingAgents = false;
  private server: PatchServer | undefined;
  private watcher: SourceWatcher | undefined;
  private agentLibrary = '';
  private generation: Generation | undefined;
  private generationCount = 0;
  private stopping = false;
  private readonly refusals: RefusalReport;
  /** The end of the session, once it began. */
  private stopped: Promise<void> | undefined;
  /** Aborted when the session ends: stops a build under way, with everything cargo started. */
  private readonly ending = new AbortController();
  /** Building, and launching or adopting the first apps. */
  private startup: Promise<void> = Promise.resolve();
  /** An edit came in since the apps were last started: without one, a crashed app would only crash the same way again. */
  private editedSinceLaunch = false;
  /** No app is running (it crashed); the next edit starts a fresh build. */
  private waitingForEdit = false;
  private finish: () => void = () => {};
  /** The code the last app exited with, when it ended the session by exiting. */
  private appExitCode: number | undefined;
  /** When the session, or the latest restart, began: the ready line says how long it took to get there. */
  private startedAt = performance.now();
  /** The ready line of the latest launch was written. */
  private announced = false;
  /** One-key commands from the terminal, when stdin is one and `--no-keys` was not given. */
  private keys: TerminalKeys | undefined;
  /** Saves that came while patching was paused (`p`), patched together on resume. */
  private pausedEdits: Set<string> | undefined;

  constructor(
    private readonly options: RunOptions,
    cwd: string,
    /** The project's session directory: the agents' socket, the builds, session.json. */
    private readonly directory: string,
    private readonly reporter: Reporter,
  ) {
    const { manifestPath, package: pkg, bin, example, features, profile, target, targetDir, cargoFlags, verbosity } = options;
    this.setting = { selection: { manifestPath, package: pkg, bin, example, features, profile, target, targetDir, cargoFlags, verbosity }, cwd, appArgs: options.appArgs, processes: options.processes };
    this.journal = new SessionJournal(directory, () => ({ setting: this.setting, generation: this.generation, generationNumber: this.generationCount, apps: this.apps }));
    this.refusals = new RefusalReport(reporter);
  }

  /** Resolves with the exit code of the app when the session ended because it exited by itself, as `cargo run` passes it on. */
  async run(): Promise<number | undefined> {
    const finished = new Promise<void>((resolve) => (this.finish = resolve));
    const onSignal = (): void => void this.shutDown();
    // A closed terminal (SIGHUP) and `kill` (SIGTERM) end the session as Ctrl-C does: the apps stop with it.
    for (const signal of QUIT_SIGNALS) process.once(signal, onSignal);
    this.options.signal?.addEventListener('abort', onSignal, { once: true });
    if (this.options.keys) this.keys = TerminalKeys.start(this.keyActions());
    try {
      const startup = this.start();
      this.startup = startup.catch(() => {});
      await startup;
      await finished;
      return this.appExitCode;
    } catch (error) {
      // Ended mid-start: what failed was cut short by the quit (cargo stopped, the directory gone), which is no news.
      if (this.stopping) {
        await this.stopped;
        return undefined;
      }
      await this.shutDown();
      throw error;
    } finally {
      for (const signal of QUIT_SIGNALS) process.off(signal, onSignal);
    }
  }

  /** Builds and launches the apps, or adopts those a killed session left; returns early once the session is ending. */
  private async start(): Promise<void> {
    const orphans = await findOrphans(this.directory, this.options, !this.options.attach, this.reporter);
    if (!orphans) {
      if (this.options.attach) throw new UserError('no app of this project is running under ipbp; start one with `ipbp run`', 'nothing-to-attach');
      // A killed session's leftovers, whose processes are gone: only the lock holder may remove them.
      await rm(this.directory, { recursive: true, force: true });
    }
    await ensureSessionDirectory(this.directory);
    this.reporter.logTo(sessionLogPath(this.directory));
    const server = (this.server = await this.startServer());
    const adopted = orphans !== undefined && (await this.adopt(orphans));
    if (this.stopping) return;
    if (!adopted) {
      if (this.options.attach) throw new UserError('the app of this project did not reconnect; it keeps running unpatched', 'nothing-to-attach');
      this.reporter.info('building with cargo (recorded)…');
      this.follow(await this.buildGeneration());
      if (this.stopping) return;
      this.acceptAgents();
    }
    const generation = this.current;
    this.agentLibrary = await agentLibraryFor(generation);
    if (this.stopping) return;
    this.reporter.emit({ event: 'session', socket: server.socketPath, agent: this.agentLibrary, binary: generation.build.binary });
    this.watcher = new SourceWatcher(
      watchedFilesOf(generation),
      (files, firstEventAt) => this.onEdit(files, firstEventAt),
      undefined,
      (error) => this.reporter.warn(`cannot watch for saves: ${errorText(error)}; saves there may go unseen`),
    );
    await this.watcher.ready();
    // Edits an adopting session patches in were saved before it could see them: no line to name for those.
    if (!adopted) await this.editLocations.remember(watchedFilesOf(generation));
    if (this.stopping) return;
    if (adopted) {
      // Edits saved while no ipbp ran: the round diffs against the original build, so it also re-patches earlier edits, harmlessly.
      this.schedule(async () => this.reporter.info('patching in what changed since the adopted build'));
      this.onEdit(watchedFilesOf(generation), performance.now());
    } else this.launch();
  }

  private async startServer(): Promise<PatchServer> {
    const listen = this.options.listen;
    const token = newSessionToken();
    const tcp: PatchServerOptions['tcp'] = listen && { host: listen.host, port: listen.port, token };
    const server = await PatchServer.start({ directory: this.directory, tcp });
    server.on('refused', (refusal) => this.refusals.add(refusal));
    server.on('listener-error', (message) => this.reporter.warn(`the patch channel could not accept a connection (${message}); it goes on listening`));
    if (!listen) return server;
    const address = server.tcpAddress ?? listen;
    const where = `${address.host}:${address.port}`;
    this.reporter.info(`listening on tcp ${where}; remote agents need IPBP_CONNECT=${where} IPBP_TOKEN=${Buffer.from(token).toString('hex')}`);
    return server;
  }

  private async buildGeneration(): Promise<Generation> {
    const directory = join(this.directory, `generation-${++this.generationCount}`);
    // A killed session may have left one of this number half built.
    await rm(directory, { recursive: true, force: true });
    const generation = await startGeneration(this.setting.selection, directory, this.setting.cwd, this.reporter, this.ending.signal);
    // Built for the generation's target once, then cached (a restart may follow a change of target).
    this.agentLibrary = await agentLibraryFor(generation);
    return generation;
  }

  /** From now on the processes run `generation`. */
  private follow(generation: Generation): void {
    this.generation = generation;
    this.journal.follow(generation);
  }

  /**
   * Takes over the processes a killed session left running: their build is
   * reloaded as recorded, their agents reconnect to the same socket, and
   * they are watched by pid. False when none came back.
   */
  private async adopt(orphans: Orphans): Promise<boolean> {
    const generation = await reloadGeneration(orphans, this.reporter);
    if (!generation) return false;
    this.generation = generation;
    this.generationCount = orphans.record.generation.number;
    this.journal.follow(generation, orphans.record.patches);
    this.orphans = orphans;
    // `ipbp attach` names no program: later restarts build and start the adopted one as its session did.
    if (this.options.attach) {
      const { selection, cwd, appArgs, processes } = orphans.record;
      this.setting = { selection, cwd, appArgs, processes };
    }
    this.acceptAgents();
    for (const app of await awaitAgents(this.server!, orphans, generation.image.buildId, this.reporter)) this.watch(app, generation);
    return this.apps.size > 0;
  }

  /** Agents already connected (an orphan may be quicker than the build) and every later one. */
  private acceptAgents(): void {
    if (this.acceptingAgents) return;
    this.acceptingAgents = true;
    this.server!.on('connected', (connection) => this.connect(connection));
    for (const connection of this.server!.connections) this.connect(connection);
  }

  private get current(): Generation {
    if (!this.generation) throw new Error('no build yet');
    return this.generation;
  }

  private launch(): void {
    if (this.stopping) return; // A restart that was building when the session ended.
    const generation = this.current;
    this.editedSinceLaunch = false;
    this.waitingForEdit = false;
    const { cwd, processes } = this.setting;
    // Arguments after `--` win; else the project's `args`.
    const args = this.setting.appArgs.length > 0 ? this.setting.appArgs : (settingsOf(generation).args ?? []);
    this.announced = false;
    for (let i = 0; i < processes; i++) {
      const app = launchApp({ binary: generation.build.binary, runner: generation.build.runner, args, cwd, agentLibrary: this.agentLibrary, socketPath: this.server!.socketPath, stdin: this.keys ? 'ignore' : 'inherit' });
      this.watch(app, generation);
    }
    this.saveJournal();
    // While the app starts and the user has not edited yet.
    void generation.patcher.prepare();
  }

  private watch(app: RunningApp, generation: Generation): void {
    this.apps.add(app);
    app.onExit((code, signal) => this.onAppExit(app, generation, code, signal));
  }

  /** Keeps session.json current; a failure only costs the next session its chance to adopt. */
  private saveJournal(): void {
    if (!this.generation || this.stopping) return;
    this.journal.save().catch((error: unknown) => this.reporter.warn(`cannot write the session record: ${errorText(error)}`));
  }

  /**
   * Brings the process up to date in turn with the edits, and only then
   * lets it receive new patches: a patch must never reach a process before
   * the ones that came earlier.
   */
  private connect(connection: AgentConnection): void {
    if (this.stopping) return;
    const generation = this.current;
    if (connection.buildIdHex !== generation.image.buildId) {
      const detail = `process ${connection.pid} runs another build (${connection.buildIdHex || 'no build id'}); not patching it`;
      this.refusals.add({ kind: 'another build', peer: connection.exePath, detail });
      connection.close(detail);
      return;
    }
    const state = new ProcessState(connection, generation.image, generation.target.patchReach);
    connection.once('disconnected', () => generation.patcher.processes.delete(state));
    connection.on('log', (message) => this.reporter.warn(`agent ${connection.pid}: ${message}`));
    this.schedule(async () => {
      if (connection.isClosed) return;
      await recognizeProcess(state, generation, this.journal.sentPatches, this.orphans, this.reporter);
      await generation.patcher.catchUp(state);
      if (connection.isClosed) return;
      generation.patcher.processes.add(state);
      this.announceReady(connection.pid, generation);
      this.reporter.emit({ event: 'ready', pid: connection.pid });
      this.saveJournal();
    });
  }

  /**
   * The first process of a launch says, in one line, that the session is
   * ready, how long it took and what it watches; others say they are
   * patchable too.
   */
  private announceReady(pid: number, generation: Generation): void {
    if (this.announced) {
      this.reporter.info(`process ${pid} is patchable`);
      return;
    }
    this.announced = true;
    const seconds = ((performance.now() - this.startedAt) / 1000).toFixed(1);
    const keys = this.keys ? '; press h for keys' : '';
    this.reporter.info(`ready in ${seconds} s: ${basename(generation.build.binary)} (pid ${pid}) is patchable, watching ${generation.watching}; save a file to patch it${keys}`);
  }

  private onAppExit(app: RunningApp, generation: Generation, code: number | null, signal: NodeJS.Signals | null): void {
    this.apps.delete(app);
    if (this.stopping || this.retiring.has(app)) return;
    this.saveJournal();
    const pid = app.pid;
    this.reporter.emit({ event: 'exited', pid, code, signal });
    if (!app.exitStatusKnown) {
      this.reporter.info(`${basename(generation.build.binary)} (pid ${pid}) exited; its exit status is unknown (it was adopted, so it is not ipbp's child)`);
      if (this.apps.size === 0) void this.shutDown();
      return;
    }
    const crash = crashOf(code, signal);
    if (crash) {
      this.schedule(() => this.onCrash(pid, generation, crash));
      return;
    }
    this.reporter.info(`${basename(generation.build.binary)} exited (${signal ?? `code ${code}`})`);
    if (this.apps.size > 0) return;
    this.appExitCode = code ?? undefined;
    void this.shutDown();
  }

  /** Report what crashed and what it last received; then restart, unless that would only crash again. */
  private async onCrash(pid: number, generation: Generation, crash: Crash): Promise<void> {
    const last = generation.patcher.lastPatchOf(pid);
    const lastPatch = last
      ? `the last patch applied was patch ${last.id} (${listed(last.summary)})${last.confirmed ? '' : ', which it was still applying'}`
      : 'no patch had been applied to it';
    this.reporter.error(`${basename(generation.build.binary)} (pid ${pid}) crashed with ${crash.description}; ${lastPatch}`);
    this.reporter.emit({
      event: 'crashed',
      pid,
      signal: crash.signal,
      code: crash.code,
      lastPatch: last ? { patch: last.id, changed: [...last.summary], confirmed: last.confirmed } : null,
    });
    if (this.stopping || generation !== this.generation) return; // Already replaced by a newer build.
    const othersRun = this.apps.size > 0;
    if (!this.restarts || !this.editedSinceLaunch) {
      const why = this.restarts ? 'it crashed with no edit since it started, so a fresh build would crash the same way' : this.restartsOff;
      this.reporter.notice(`not restarting (${why}); ${othersRun ? 'the other processes keep running' : 'the next edit starts a fresh build (Ctrl-C to quit)'}`);
      this.waitingForEdit = !othersRun;
      return;
    }
    await this.restart(`pid ${pid} crashed with ${crash.description}; ${lastPatch}`);
  }

  /** What the keys do (see `terminal-keys.ts`). */
  private keyActions(): KeyActions {
    return {
      quit: () => void this.shutDown(),
      help: () => this.reporter.notice(`keys: ${KEY_HELP.map(([key, meaning]) => `${key} ${meaning}`).join(' · ')}`),
      restart: () => {
        if (this.stopping) return;
        if (!this.generation) {
          this.reporter.notice('still starting; press r again once the app runs');
          return;
        }
        this.schedule(() => this.restart('restart asked for (r)'));
      },
      togglePause: () => {
        const waiting = this.pausedEdits;
        if (!waiting) {
          this.pausedEdits = new Set();
          this.reporter.notice('patching paused: saves wait, and are patched together when you press p again');
          return;
        }
        this.pausedEdits = undefined;
        this.reporter.notice(`patching resumed${waiting.size > 0 ? `: patching ${listed([...waiting].map((file) => `\`${this.relativeName(file)}\``))}` : ''}`);
        if (waiting.size > 0) this.onEdit([...waiting], performance.now());
      },
    };
  }

  private onEdit(files: string[], firstEventAt: number): void {
    if (this.pausedEdits) {
      for (const file of files) this.pausedEdits.add(file);
      return;
    }
    this.schedule(async () => {
      if (this.stopping) return;
      if (this.waitingForEdit) {
        await this.restart(`${listed(files.map((file) => `\`${this.relativeName(file)}\``))} changed while no app was running; starting a fresh build`);
        return;
      }
      this.editedSinceLaunch = true;
      const generation = this.current;
      const where = await this.editLocations.locate(files, generation.build.workspaceRoot);
      // Files the app reads when it starts (the project's `watch`): only a restart takes them in.
      const readAtStart = files.filter((file) => settingsOf(generation).watch.includes(file));
      if (readAtStart.length > 0) {
        await this.cannotPatch([{ reason: `${listed(readAtStart.map((file) => `\`${this.relativeName(file)}\``))} changed`, details: 'the project watches it for a restart (`watch` in its ipbp settings)' }]);
        return;
      }
      // Every build file, not only this save's: a change whose fresh build failed earlier is still owed.
      const buildChanges = await generation.buildInputs.classify([...new Set([...files, ...generation.buildInputs.files])]);
      if (buildChanges.reasons.length > 0) {
        await this.cannotPatch(buildChanges.reasons, where);
        return;
      }
      try {
        const alsoRecompile = buildChanges.reruns.length > 0 ? await rerunScriptsOf(generation, buildChanges.reruns, this.reporter, this.ending.signal) : [];
        await generation.patcher.applyEdit(files, firstEventAt, this.ending.signal, alsoRecompile);
        if (this.stopping) return;
        this.watcher?.add(watchedFilesOf(generation));
        this.saveJournal();
      } catch (error) {
        // A round the quit cut short fails for that reason alone (rustc got the terminal's Ctrl-C, the agents are gone): no compile error, no failed patch.
        if (this.stopping) return;
        if (error instanceof CompileError) {
          this.reporter.raw(error.rendered);
          this.reporter.error(`${error.crate} failed to compile; the app keeps running its current code`);
          this.reporter.emit({ event: 'compile-error', message: error.rendered });
        } else if (error instanceof UnpatchableChange) {
          await this.cannotPatch(error.reasons, where);
        } else {
          // A user-side failure (the linker's complaint, say) carries the tool's own words: show them.
          const description = describeError(error);
          const causes = [...description.causes, ...(description.help ? [description.help] : [])];
          const message = [description.message, ...causes].join('\n');
          this.reporter.error(`patch failed: ${message.split('\n')[0]}; the app keeps running its current code${causes.map((cause) => `\n  ${cause}`).join('')}`);
          this.reporter.emit({ event: 'patch-failed', patch: 0, message, pids: [...generation.patcher.processes].map((state) => state.pid) });
        }
      }
    });
  }

  /**
   * Says why, once: the first reason in one short line naming where the edit
   * is, then its details and any other reasons beneath. `where`: the line
   * the user edited.
   */
  private async cannotPatch(reasons: ReadonlyArray<Reason | string>, where?: string): Promise<void> {
    const structured = reasons.map((reason) => (typeof reason === 'string' ? { reason } : reason));
    const [first, ...others] = structured;
    if (!first) return;
    const headline = where ? `${first.reason} (${where})` : first.reason;
    const details = [first.details, ...others.map(fullText)].filter((line): line is string => line !== undefined);
    this.reporter.emit({ event: 'unpatchable', reasons: structured.map((reason) => reason.reason), details, restarting: this.restarts });
    if (this.restarts) {
      await this.restart(headline, details);
      return;
    }
    this.reporter.warn(`cannot patch: ${headline}${details.map((line) => `\n  ${line}`).join('')}`);
    this.reporter.notice(`not restarting (${this.restartsOff}); the app keeps running its current code`);
  }

  /**
   * Hot restart: build first, then replace the apps. A build that fails
   * leaves the running apps (if any) on their current code.
   */
  private async restart(reason: string, details: readonly string[] = []): Promise<void> {
    this.startedAt = performance.now();
    this.reporter.notice(`restarting: ${reason}${details.map((line) => `\n  ${line}`).join('')}`);
    this.reporter.emit({ event: 'restart', reason, details: [...details] });
    let next: Generation;
    try {
      next = await this.buildGeneration();
    } catch (error) {
      if (this.stopping) return; // The quit stopped the build.
      if (!(error instanceof UserError)) throw error;
      const running = this.apps.size > 0;
      this.reporter.error(`the fresh build failed (${error.message}); ${running ? 'the app keeps running its current code' : 'the next edit tries again'}`);
      this.waitingForEdit = !running;
      return;
    }
    if (this.stopping) return;
    const previous = this.generation;
    await Promise.all(
      [...this.apps].map((app) => {
        this.retiring.add(app);
        return app.stop();
      }),
    );
    this.follow(next);
    this.watcher?.add(watchedFilesOf(next));
    await this.editLocations.remember(watchedFilesOf(next));
    this.launch();
    if (previous) await rm(previous.directory, { recursive: true, force: true });
  }

  /** Whether what cannot be patched restarts the app: `--no-restart`, else the project's `restart`, else yes. */
  private get restarts(): boolean {
    return this.options.restart ?? (this.generation && settingsOf(this.generation).restart) ?? true;
  }

  /** What turned restarts off, to say so. */
  private get restartsOff(): string {
    return this.options.restart === false ? '--no-restart' : '`restart = false` in the project\'s ipbp settings';
  }

  private relativeName(file: string): string {
    return relative(this.current.build.workspaceRoot, file) || file;
  }

  /** Runs `task` after every earlier one; a failure is reported, never left unhandled (unless the quit caused it). */
  private schedule(task: () => Promise<void>): void {
    void this.queue.run(task).catch((error: unknown) => {
      if (this.stopping) return;
      this.reporter.error(renderedError(describeError(error), ''));
    });
  }

  /** Ends the session: once, however many signals and failures ask for it. */
  private shutDown(): Promise<void> {
    this.stopped ??= this.stop();
    return this.stopped;
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    this.keys?.close();
    // A build under way stops first (cargo and its rustc with it); the start then returns without launching.
    this.ending.abort();
    await this.startup;
    await this.watcher?.close();
    await Promise.all([...this.apps].map((app) => app.stop()));
    // A build or patch under way would write into the session directory after it is removed, and
    // recreate it with the wrong mode: let it end first. It ends early, with the apps and agents gone.
    for (const connection of this.server?.connections ?? []) connection.close('the CLI is shutting down');
    await this.queue.idle();
    await this.journal.settled();
    await this.server?.close();
    this.refusals.summarize();
    await this.reporter.close();
    this.finish();
  }
}

/** Signals that end the session as Ctrl-C does. */
const QUIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The agent library built for the generation's target, with the linker its program was linked with. */
function agentLibraryFor(generation: Generation): Promise<string> {
  return ensureAgentBuilt({ target: generation.build.target, linker: generation.build.linker });
}
