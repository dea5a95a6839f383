import { join } from 'node:path';
import { depInfoFileName, libraryFileStem, type RustcRecord, rustcOutputs } from './capture-record.js';

/** One workspace crate as the session rebuilds it. */
export interface CrateUnit {
  readonly record: RustcRecord;
  /** Unique within the program: a package may have a lib and a bin of the same name. */
  readonly key: string;
  readonly name: string;
  readonly isBinary: boolean;
  /** A proc-macro crate: the compiler loads it to expand the crates that use it; none of its code is in the program. */
  readonly isProcMacro: boolean;
  readonly outDir: string;
  /** What rustc names the crate's outputs by: `<crate><extra-filename>`. */
  readonly stem: string;
  readonly depInfoPath: string;
  /** Keys of the workspace crates this one links against. */
  readonly dependencies: string[];
}

/**
 * The workspace crates that make up the running binary, in build order
 * (dependencies first). Build scripts are compiled through the wrapper too
 * but are not part of the program.
 */
export function crateGraph(records: readonly RustcRecord[], binaryCrateName: string): CrateUnit[] {
  const latest = new Map<string, RustcRecord>();
  for (const record of records) {
    if (record.crateName.startsWith('build_script_')) continue;
    const isBinary = record.crateTypes.includes('bin');
    if (isBinary && record.crateName !== binaryCrateName) continue;
    latest.set(`${record.crateName}:${isBinary}`, record);
  }
  const units = [...latest.values()].map((record): CrateUnit => {
    const { outDir, stem } = rustcOutputs(record);
    const isBinary = record.crateTypes.includes('bin');
    return {
      record,
      key: `${record.crateName}:${isBinary ? 'bin' : 'lib'}`,
      name: record.crateName,
      isBinary,
      isProcMacro: record.crateTypes.includes('proc-macro'),
      outDir,
      stem,
      depInfoPath: join(outDir, depInfoFileName(stem)),
      dependencies: [],
    };
  });
  const outputs = new Map<string, CrateUnit>();
  for (const unit of units) {
    if (unit.isBinary) continue;
    outputs.set(`lib${unit.stem}`, unit);
  }
  for (const unit of units) {
    for (const path of externPaths(unit.record.args)) {
      const dependency = outputs.get(libraryFileStem(path));
      if (dependency && dependency !== unit) unit.dependencies.push(dependency.key);
    }
  }
  return buildOrder(units);
}

/** Paths given as `--extern name=path`. */
export function externPaths(args: readonly string[]): string[] {
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = args[i] === '--extern' ? args[i + 1] : args[i]!.startsWith('--extern=') ? args[i]!.slice(9) : undefined;
    const path = value?.split('=').slice(1).join('=');
    if (path) paths.push(path);
  }
  return paths;
}

function buildOrder(units: CrateUnit[]): CrateUnit[] {
  const byKey = new Map(units.map((u) => [u.key, u]));
  const ordered: CrateUnit[] = [];
  const seen = new Set<CrateUnit>();
  const visit = (unit: CrateUnit): void => {
    if (seen.has(unit)) return;
    seen.add(unit);
    for (const key of unit.dependencies) {
      const dependency = byKey.get(key);
      if (dependency) visit(dependency);
    }
    ordered.push(unit);
  };
  for (const unit of units) visit(unit);
  return ordered;
}

/**
 * The crates to rebuild when the crates keyed in `changed` changed, in
 * order: them, and every crate depending on one of `changingDependents`
 * (those whose change may change what their dependents compile; all of
 * them unless told otherwise), directly or through others.
 */
export function affectedCrates(order: readonly CrateUnit[], changed: ReadonlySet<string>, changingDependents: ReadonlySet<string> = changed): CrateUnit[] {
  const affected = new Set(changed);
  const propagating = new Set(changingDependents);
  for (const unit of order) {
    if (!unit.dependencies.some((key) => propagating.has(key))) continue;
    affected.add(unit.key);
    propagating.add(unit.key);
  }
  return order.filter((unit) => affected.has(unit.key));
}
