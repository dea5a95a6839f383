import type { CrateUnit } from '../capture/crate-graph.js';
import { type CompiledCrate, RecompileCancelled, recompileCrate } from './recompile.js';

/** A dependency failed before its metadata was written: its own error is the round's. */
class DependencyFailed extends Error {}

/**
 * Recompiles one round's crates (`affected`, in build order) as cargo's
 * pipelining does: a library starts once the libraries it depends on have
 * written their metadata (the `.rmeta` its command line names), while those
 * still generate code. A binary waits for whole rlibs, as cargo's does: an
 * rlib of the metadata alone elsewhere would change its command line, and
 * rustc then throws away its incremental cache. A proc macro is waited for
 * whole: the compiler runs it. The first failure stops the other compiles
 * and is the round's error. `objectsOf`: where a binary's objects go.
 */
export async function compileRound(affected: readonly CrateUnit[], objectsOf: (unit: CrateUnit) => string): Promise<CompiledCrate[]> {
  const stop = new AbortController();
  const byKey = new Map(affected.map((unit) => [unit.key, unit]));
  const metadata = new Map<string, Promise<void>>();
  const finished = new Map<string, Promise<CompiledCrate>>();

  for (const unit of affected) {
    const announced = deferred();
    metadata.set(unit.key, announced.promise);
    const compiled = (async (): Promise<CompiledCrate> => {
      await Promise.all(affectedDependencies(unit, byKey).map((dependency) => (dependency.isProcMacro || unit.isBinary ? finished.get(dependency.key)! : metadata.get(dependency.key)!)));
      const crate = await recompileCrate(unit, objectsOf(unit), { signal: stop.signal, onMetadata: () => announced.resolve() });
      // No notification (a build without `--json=artifacts`): dependents waited for the finished library.
      announced.resolve();
      return crate;
    })();
    compiled.catch(() => {
      announced.reject(new DependencyFailed());
      stop.abort();
    });
    finished.set(unit.key, compiled);
  }

  const outcomes = await Promise.allSettled(affected.map((unit) => finished.get(unit.key)!));
  const failures = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected').map((outcome) => outcome.reason as unknown);
  // In build order, the cause comes before what it stopped.
  const cause = failures.find((reason) => !(reason instanceof DependencyFailed) && !(reason instanceof RecompileCancelled)) ?? failures[0];
  if (cause !== undefined) throw cause;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<CompiledCrate>).value);
}

/** The crates of the round that `unit` depends on, directly or through others, each once. */
function affectedDependencies(unit: CrateUnit, byKey: ReadonlyMap<string, CrateUnit>): CrateUnit[] {
  const found = new Map<string, CrateUnit>();
  const visit = (from: CrateUnit): void => {
    for (const key of from.dependencies) {
      const dependency = byKey.get(key);
      if (!dependency || found.has(key)) continue;
      found.set(key, dependency);
      visit(dependency);
    }
  };
  visit(unit);
  return [...found.values()];
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (reason: unknown) => void } {
  let resolve!: () => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  // Nobody may be waiting when a crate fails; that is not an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
