/**
 * How fast the type layout check reads DWARF: every object of the rlibs of
 * the diff-throughput corpus (serde, regex, clap, tokio… in a debug build),
 * five timed runs after one warm-up, median reported. A patch round reads
 * only the objects whose debug info changed, so this is the worst case per
 * object, not a round's cost.
 *
 *   npm run build && node dist/bench/diff-throughput.js   # builds the corpus once
 *   node dist/bench/layout-read.js
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTypeLayouts } from '../src/debuginfo/index.js';
import type { ObjectFile } from '../src/object/model.js';
import { readObjectPath } from '../src/object/read.js';
import { spread } from './support/stats.js';

const RUNS = 5;
/** Where bench/diff-throughput.ts keeps its corpus builds. */
const CORPUS = join(tmpdir(), 'ipbp-bench-diff-corpus');

async function corpusRlibs(): Promise<string[]> {
  const builds = existsSync(CORPUS) ? await readdir(CORPUS) : [];
  const deps = builds.map((build) => join(CORPUS, build, 'target-old/debug/deps')).find((path) => existsSync(path));
  if (!deps) throw new Error(`no corpus under ${CORPUS}: run \`node dist/bench/diff-throughput.js\` first`);
  return (await readdir(deps)).filter((name) => name.endsWith('.rlib')).map((name) => join(deps, name));
}

async function main(): Promise<void> {
  const objects: ObjectFile[] = [];
  for (const rlib of await corpusRlibs()) objects.push(...(await readObjectPath(rlib)));
  const debugBytes = objects.flatMap((object) => object.sections).filter((section) => section.name === '.debug_info').reduce((sum, section) => sum + section.size, 0);
  let layouts = 0;
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const start = performance.now();
    const result = readTypeLayouts(objects);
    const elapsed = performance.now() - start;
    layouts = result.layouts.size;
    if (run > 0) times.push(elapsed); // Run 0 warms the JIT up.
  }
  const ms = spread(times);
  console.log(`${objects.length} objects, ${(debugBytes / 1e6).toFixed(1)} MB of .debug_info, ${layouts} type layouts`);
  console.log(`read: median ${ms.median.toFixed(0)} ms [${ms.min.toFixed(0)}–${ms.max.toFixed(0)}] over ${RUNS} runs`);
  console.log(`      ${(ms.median / objects.length).toFixed(2)} ms per object, ${(debugBytes / 1e3 / ms.median).toFixed(1)} MB/s of .debug_info`);
}

await main();
