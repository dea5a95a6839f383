import { copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ExampleApp } from './apps.js';
import { type CallCost, callCost } from './support/call-cost.js';
import { type CargoBuild, cargoBuild } from './support/cargo-build.js';
import { revisionSeen, started, warmUp } from './support/observe.js';
import { PlainApp } from './support/plain-app.js';
import { residentBytes } from './support/process-memory.js';
import { sleep } from './support/stats.js';
import { bumpRevision } from './support/work-copy.js';

/** One edit handled the usual way: `cargo build`, then stop and start the program. */
export interface CargoEdit {
  readonly revision: number;
  readonly editToBehaviourMs: number;
  readonly buildMs: number;
  /** From the end of the build to the new behaviour: stop, start, first output (or first response). */
  readonly restartMs: number;
}

export interface CargoResult {
  readonly edits: CargoEdit[];
  /** The app without ipbp's agent, for comparison. */
  readonly rssBytes: number;
  readonly callCost?: CallCost;
  /**
   * Copies of the first build's rlibs, and the last build's rlibs (after
   * every edit), for the diff throughput; the crates.io apps leave them out.
   */
  readonly rlibsBefore?: string[];
  readonly rlibsAfter?: string[];
}

const BUILD_TIMEOUT_MS = 5 * 60_000;

/**
 * The alternative to ipbp on the same work copy and target directory: after
 * each edit, `cargo build` (incremental), stop the running program, start the
 * new one, and wait for the same observable point as under ipbp.
 * `firstRevision` is the `[rev N]` the sources hold now.
 */
export async function measureCargo(app: ExampleApp, directory: string, targetDirectory: string, firstRevision: number, log: (line: string) => void): Promise<CargoResult> {
  // Untimed: the workspace crates were last built through ipbp's wrapper, which cargo sees as a change.
  const build = (): Promise<CargoBuild> => cargoBuild(directory, targetDirectory, app.target ? ['--target', app.target.triple] : [], app.target?.env);
  const start = (executable: string): PlainApp => PlainApp.start(executable, app.args, directory, {}, app.target?.runner);
  const first = await build();
  const rlibsBefore = await snapshot(first.rlibs, join(targetDirectory, 'bench-rlibs-before'));
  let running = start(first.executable);
  try {
    let { port } = await started(app, running.output, BUILD_TIMEOUT_MS);
    await warmUp(app, port);
    await sleep(500);
    const rssBytes = await residentBytes(running.pid);
    const cost = app.name === 'small' ? await callCost(running) : undefined;

    const edits: CargoEdit[] = [];
    let rlibsAfter = first.rlibs;
    for (let run = 1; run <= app.cargoRuns; run++) {
      const revision = firstRevision + run;
      const editedAt = await bumpRevision(directory, app.editFile, revision);
      const rebuilt = await build();
      const builtAt = performance.now();
      rlibsAfter = rebuilt.rlibs;
      await running.stop();
      running = start(rebuilt.executable);
      // The first line of a stdout app already shows the revision; the server must listen first.
      const seen =
        app.observe === 'stdout'
          ? revisionSeen(app, running.output, undefined, revision, BUILD_TIMEOUT_MS)
          : started(app, running.output, BUILD_TIMEOUT_MS).then((listening) => {
              port = listening.port;
              return revisionSeen(app, running.output, port, revision, BUILD_TIMEOUT_MS);
            });
      const seenAt = await seen;
      edits.push({ revision, editToBehaviourMs: seenAt - editedAt, buildMs: rebuilt.ms, restartMs: seenAt - builtAt });
      log(`  cargo: run ${run}/${app.cargoRuns}: ${Math.round(seenAt - editedAt)} ms edit → behaviour (build ${Math.round(rebuilt.ms)} ms)`);
      await sleep(300);
    }
    return { edits, rssBytes, ...(cost ? { callCost: cost } : {}), rlibsBefore, rlibsAfter };
  } finally {
    await running.stop();
  }
}

/** Copies of `files` in `directory`: the build overwrites the rlibs of the crates it rebuilds. */
async function snapshot(files: readonly string[], directory: string): Promise<string[]> {
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory, { recursive: true });
  const copies: string[] = [];
  for (const file of files) {
    const copy = join(directory, basename(file));
    await copyFile(file, copy);
    copies.push(copy);
  }
  return copies;
}
