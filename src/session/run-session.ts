import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ensureAgentBuilt } from '../channel/agent-build.js';
import type { AgentConnection } from '../channel/agent-connection.js';
import { PatchServer } from '../channel/server.js';
import { type BuildSelection, type CapturedBuild, captureBuild } from '../build/capture.js';
import { crateGraph } from '../build/crate-graph.js';
import { UserError } from '../cli/errors.js';
import { readElfImage } from '../object/elf/image.js';
import { launchApp, stopApp } from './app-process.js';
import { CompileError, Patcher, UnpatchableChange } from './patcher.js';
import { ProcessState } from './process-state.js';
import { Reporter, type SessionEvent } from './reporter.js';
import { SourceWatcher } from './watcher.js';

export interface RunOptions extends BuildSelection {
  readonly appArgs: readonly string[];
  readonly events?: string | undefined;
  readonly processes: number;
  readonly restart: boolean;
  /** Ends the session as Ctrl-C would (used by `ipbp demo`). */
  readonly signal?: AbortSignal | undefined;
  /** Sees every event as it is emitted. */
  readonly onEvent?: ((event: SessionEvent) => void) | undefined;
}

/**
 * `ipbp run`: build once (recorded), start the app with the agent, then turn
 * every saved edit into a patch of the live process. Edits are handled one
 * at a time, in order. Resolves when the session ends (Ctrl-C, or the app exits).
 */
export async function runSession(options: RunOptions, cwd: string): Promise<void> {
  const reporter = new Reporter(options.events, options.onEvent);
  const server = await PatchServer.start();
  const queue = new SerialQueue();
  const apps = new Set<ChildProcess>();
  let watcher: SourceWatcher | undefined;
  let stopping = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const shutDown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await watcher?.close();
    await Promise.all([...apps].map((app) => stopApp(app)));
    await server.close();
    await reporter.close();
    finish();
  };
  const onSignal = (): void => void shutDown();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', onSignal, { once: true });

  try {
    const agentLibrary = await ensureAgentBuilt();
    reporter.info('building with cargo (recorded)…');
    let generation = await startGeneration(options, server.directory, cwd, reporter);
    const connect = async (connection: AgentConnection): Promise<void> => {
      if (connection.buildIdHex !== generation.image.buildId) {
        reporter.warn(`process ${connection.pid} runs another build (${connection.buildIdHex || 'no build id'}); not patching it`);
        return;
      }
      const state = new ProcessState(connection, generation.image);
      generation.patcher.processes.add(state);
      connection.once('disconnected', () => generation.patcher.processes.delete(state));
      connection.on('log', (message) => reporter.warn(`agent ${connection.pid}: ${message}`));
      await queue.run(() => generation.patcher.catchUp(state));
      reporter.info(`process ${connection.pid} is patchable`);
      reporter.emit({ event: 'ready', pid: connection.pid });
    };
    server.on('connected', (connection) => void connect(connection).catch((error: unknown) => reporter.error(String(error))));

    const launch = (): void => {
      for (let i = 0; i < options.processes; i++) {
        const app = launchApp({ binary: generation.build.binary, args: options.appArgs, cwd, agentLibrary, socketPath: server.socketPath });
        apps.add(app);
        app.once('exit', (code, signal) => {
          apps.delete(app);
          if (stopping || generation.restarting) return;
          reporter.emit({ event: 'exited', pid: app.pid ?? 0, code, signal });
          reporter.info(`${basename(generation.build.binary)} exited (${signal ?? `code ${code}`})`);
          if (apps.size === 0) void shutDown();
        });
      }
    };

    const restart = async (reason: string): Promise<void> => {
      reporter.info(`restarting: ${reason}`);
      reporter.emit({ event: 'restart', reason });
      generation.restarting = true;
      await Promise.all([...apps].map((app) => stopApp(app)));
      generation = await startGeneration(options, server.directory, cwd, reporter);
      watcher?.add(generation.patcher.watchedFiles());
      launch();
    };

    const onEdit = (files: string[], firstEventAt: number): void => {
      void queue.run(async () => {
        if (stopping) return;
        try {
          await generation.patcher.applyEdit(files, firstEventAt);
          watcher?.add(generation.patcher.watchedFiles());
        } catch (error) {
          if (error instanceof CompileError) {
            reporter.raw(error.rendered);
            reporter.error(`${error.crate} failed to compile; the app keeps running its current code`);
            reporter.emit({ event: 'compile-error', message: error.rendered });
          } else if (error instanceof UnpatchableChange) {
            const reason = error.reasons.join('; ');
            reporter.warn(`cannot patch: ${reason}`);
            if (options.restart) await restart(reason);
            else reporter.info('not restarting (--no-restart); the app keeps running its current code');
          } else {
            const message = error instanceof Error ? error.message : String(error);
            reporter.error(`patch failed: ${message}; the app keeps running its current code`);
            reporter.emit({ event: 'patch-failed', patch: 0, message, pids: [...generation.patcher.processes].map((state) => state.pid) });
          }
        }
      });
    };

    reporter.emit({ event: 'session', socket: server.socketPath, agent: agentLibrary, binary: generation.build.binary });
    watcher = new SourceWatcher(generation.patcher.watchedFiles(), onEdit);
    await watcher.ready();
    launch();
    await finished;
  } catch (error) {
    await shutDown();
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface Generation {
  readonly build: CapturedBuild;
  readonly image: ReturnType<typeof readElfImage>;
  readonly patcher: Patcher;
  restarting: boolean;
}

/** One build of the program and the patcher that patches processes of it. */
async function startGeneration(options: RunOptions, sessionDir: string, cwd: string, reporter: Reporter): Promise<Generation> {
  const build = await captureBuild(options, sessionDir, cwd);
  const image = readElfImage(build.binary, await readFile(build.binary));
  if (!image.buildId) throw new UserError(`${build.binary} has no build id`, 'no-build-id', ['the linker did not add --build-id']);
  const binaryCrate = basename(build.binary).replace(/-/g, '_');
  const units = crateGraph(build.crates, binaryCrate);
  if (!units.some((unit) => unit.isBinary)) throw new UserError(`cargo did not compile the binary crate ${binaryCrate} through ipbp's wrapper`, 'no-binary-capture');
  const patcher = new Patcher(build, units, image, join(sessionDir, `generation-${Date.now()}`), reporter);
  await patcher.loadBaselines();
  reporter.info(`watching ${patcher.watchedFiles().length} source files of ${units.length} crate(s)`);
  return { build, image, patcher, restarting: false };
}

/** Runs tasks one after another, in the order they were queued. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
