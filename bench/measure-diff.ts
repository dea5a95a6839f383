import { stat } from 'node:fs/promises';
import { diffObjects } from '../src/diff/compare.js';
import type { ObjectFile } from '../src/object/model.js';
import { readObjectPath } from '../src/object/read.js';
import { spread, type Spread } from './support/stats.js';

export interface DiffThroughput {
  readonly rlibsPerSide: number;
  /** Bytes of one side's rlibs (1 MB = 1e6 bytes), as in bench/diff-throughput.ts. */
  readonly bytesPerSide: number;
  readonly coldMs: number;
  readonly ms: Spread;
  readonly mbPerS: Spread;
  readonly changedFunctions: number;
}

const RUNS = 5;

/**
 * Reads and diffs every rlib of the medium app's build before its edits
 * against the same rlibs after them, as a patch round does for the crates it
 * rebuilt, but over the whole dependency graph. One cold run (JIT warm-up)
 * is reported, not counted.
 */
export async function measureDiffThroughput(before: readonly string[], after: readonly string[]): Promise<DiffThroughput> {
  let bytesPerSide = 0;
  for (const file of before) bytesPerSide += (await stat(file)).size;
  const once = async (): Promise<{ ms: number; changed: number }> => {
    const start = performance.now();
    const oldObjects = await readAll(before);
    const newObjects = await readAll(after);
    const diff = diffObjects(oldObjects, newObjects);
    return { ms: performance.now() - start, changed: diff.report.functions.changed.length };
  };
  const cold = await once();
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) times.push((await once()).ms);
  return {
    rlibsPerSide: before.length,
    bytesPerSide,
    coldMs: cold.ms,
    ms: spread(times),
    mbPerS: spread(times.map((ms) => bytesPerSide / 1e6 / (ms / 1000))),
    changedFunctions: cold.changed,
  };
}

async function readAll(files: readonly string[]): Promise<ObjectFile[]> {
  const objects: ObjectFile[] = [];
  for (const file of files) objects.push(...(await readObjectPath(file)));
  return objects;
}
