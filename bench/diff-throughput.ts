/**
 * Diff throughput (issue 2): read and diff every rlib of two debug builds of a
 * real crates.io dependency graph (bench/fixtures/diff-corpus), old against
 * new, five times after one warm-up run, and report the median.
 *
 *   npm run build && node dist/bench/diff-throughput.js
 *
 * MB is the size of the rlib files of ONE build (1 MB = 1e6 bytes); each run
 * reads and parses both builds and diffs them, as `ipbp diff` does. The first
 * `cargo build` needs crates.io (or its local cache); later runs reuse the
 * builds kept under the system temp directory.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { diffObjects } from '../src/diff/compare.js';
import { readDiffInputs } from '../src/diff/inputs.js';
import type { ObjectFile } from '../src/object/model.js';
import { readObjects } from '../src/object/read.js';

const RUNS = 5;
const TARGET_MB_PER_S = 200;
/** Compiled to dist/bench/, so the repository root is two levels up. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(ROOT, 'bench/fixtures/diff-corpus');
const RESULTS = join(ROOT, 'bench/results/diff-throughput.json');
const CACHE = join(tmpdir(), 'ipbp-bench-diff-corpus');
const FIXTURE_FILES = ['Cargo.toml', 'Cargo.lock', 'src/lib.rs'];
/** The one-line edit between the two builds: a constant the crate's code uses. */
const EDIT = { from: 'pub const TUNING: u64 = 7;', to: 'pub const TUNING: u64 = 8;' };

interface Run {
  readMs: number;
  /** Part of readMs spent in readFile, the rest is parsing. */
  ioMs: number;
  diffMs: number;
  totalMs: number;
  /** Garbage collection pauses within totalMs, whichever phase they fell in. */
  gcMs: number;
  mbPerS: number;
}

interface Builds {
  oldRlibs: string[];
  newRlibs: string[];
  /** Bytes of the old side's rlibs. */
  bytes: number;
}

// ---- corpus: two debug builds, cached between runs ----------------------------------

/**
 * Build the corpus twice from ONE source directory (symbol hashes embed the
 * package path, so a second copy would rename every symbol of the crate), into
 * two target dirs, the second after the edit. The cache is keyed by the
 * fixture's content so an edited fixture is rebuilt rather than reused.
 */
async function prepareBuilds(): Promise<Builds> {
  const key = createHash('sha256');
  for (const file of FIXTURE_FILES) key.update(file).update(await readFile(join(FIXTURE, file)));
  const home = join(CACHE, key.digest('hex').slice(0, 12));
  const source = join(home, 'source');
  const targets = { old: join(home, 'target-old'), new: join(home, 'target-new') };
  const ready = join(home, 'ready');

  if (existsSync(ready)) {
    console.log(`reusing the cached builds in ${home}`);
  } else {
    await rm(home, { recursive: true, force: true });
    await mkdir(home, { recursive: true });
    await cp(FIXTURE, source, { recursive: true, filter: (path) => !path.includes(`${FIXTURE}/target`) });
    console.log(`building the corpus twice (debug) in ${home}; later runs reuse it`);
    cargoBuild(source, targets.old);
    const libPath = join(source, 'src/lib.rs');
    const lib = await readFile(libPath, 'utf8');
    if (!lib.includes(EDIT.from)) throw new Error(`${libPath} lacks the edit marker line '${EDIT.from}'`);
    await writeFile(libPath, lib.replace(EDIT.from, EDIT.to));
    cargoBuild(source, targets.new);
    await writeFile(ready, new Date().toISOString());
  }

  const oldRlibs = await rlibsOf(targets.old);
  const newRlibs = await rlibsOf(targets.new);
  let bytes = 0;
  for (const file of oldRlibs) bytes += (await stat(file)).size;
  return { oldRlibs, newRlibs, bytes };
}

function cargoBuild(source: string, targetDir: string): void {
  const result = spawnSync('cargo', ['build', '--locked', '--target-dir', targetDir], { cwd: source, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error) throw new Error(`cannot run cargo: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`cargo build --target-dir ${targetDir} failed (exit ${result.status})`);
}

async function rlibsOf(targetDir: string): Promise<string[]> {
  const deps = join(targetDir, 'debug/deps');
  const names = (await readdir(deps)).filter((name) => name.endsWith('.rlib')).sort();
  if (names.length === 0) throw new Error(`no .rlib in ${deps}`);
  return names.map((name) => join(deps, name));
}

// ---- measurement --------------------------------------------------------------------

/** Read every file first, then parse, so that the io figure is the file reads alone. */
async function readAll(files: readonly string[], clock: { io: number }): Promise<ObjectFile[]> {
  const start = performance.now();
  const contents: Buffer[] = [];
  for (const file of files) contents.push(await readFile(file));
  clock.io += performance.now() - start;
  const objects: ObjectFile[] = [];
  files.forEach((file, i) => {
    for (const object of readObjects(file, contents[i]!)) objects.push(object);
  });
  return objects;
}

/** Sums the garbage collector's pauses, which V8 reports as performance entries. */
class GcClock {
  private readonly pauses: Array<{ start: number; duration: number }> = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.pauses.push({ start: entry.startTime, duration: entry.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Pause time that started within [from, to); entries arrive asynchronously, so this waits a turn first. */
  async within(from: number, to: number): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    return this.pauses.filter((pause) => pause.start >= from && pause.start < to).reduce((sum, pause) => sum + pause.duration, 0);
  }

  stop(): void {
    this.observer.disconnect();
  }
}

async function measure(builds: Builds, gc: GcClock): Promise<{ run: Run; stats: Record<string, number> }> {
  const clock = { io: 0 };
  const start = performance.now();
  const oldObjects = await readAll(builds.oldRlibs, clock);
  const newObjects = await readAll(builds.newRlibs, clock);
  const read = performance.now();
  const diff = diffObjects(oldObjects, newObjects);
  const end = performance.now();

  const totalMs = end - start;
  const { functions, data } = diff.report;
  const stats = {
    objects: oldObjects.length + newObjects.length,
    atoms: diff.old.atoms.length + diff.new.atoms.length,
    namedSymbols: diff.old.byName.size + diff.new.byName.size,
    changed: functions.changed.length + data.changed.length,
    added: functions.added.length + data.added.length,
    removed: functions.removed.length + data.removed.length,
  };
  const gcMs = await gc.within(start, end);
  const run = { readMs: read - start, ioMs: clock.io, diffMs: end - read, totalMs, gcMs, mbPerS: builds.bytes / 1e6 / (totalMs / 1000) };
  return { run, stats };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

// ---- report -------------------------------------------------------------------------

const COLUMNS = ['run', 'read ms', '(io ms)', 'diff ms', 'total ms', '(gc ms)', 'MB/s'];

function row(cells: ReadonlyArray<string | number>): string {
  return cells.map((cell, i) => (typeof cell === 'number' ? cell.toFixed(i === cells.length - 1 ? 1 : 0) : cell).padStart(i === 0 ? 6 : 9)).join(' ');
}

function cells(label: string | number, run: Omit<Run, 'mbPerS'>, mbPerS: number): Array<string | number> {
  return [label, run.readMs, run.ioMs, run.diffMs, run.totalMs, run.gcMs, mbPerS];
}

/**
 * The same two builds through `readDiffInputs`, the path `ipbp diff DIR DIR`
 * takes: files identical on both sides are compared, not parsed.
 */
async function measureAsCli(builds: Builds): Promise<{ medianMs: number; runsMs: number[]; identicalFiles: number; files: number }> {
  const oldDir = dirname(builds.oldRlibs[0]!);
  const newDir = dirname(builds.newRlibs[0]!);
  const runsMs: number[] = [];
  let identicalFiles = 0;
  let files = 0;
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    const inputs = await readDiffInputs(oldDir, newDir);
    diffObjects(inputs.old, inputs.new);
    // The first run warms the JIT, as above.
    if (i > 0) runsMs.push(performance.now() - started);
    identicalFiles = inputs.identicalFiles;
    files = inputs.files.old;
  }
  return { medianMs: median(runsMs), runsMs, identicalFiles, files };
}

async function main(): Promise<void> {
  const builds = await prepareBuilds();
  const mb = builds.bytes / 1e6;
  console.log(`corpus: ${builds.oldRlibs.length} rlibs per build, ${mb.toFixed(1)} MB per side (old build)`);

  const gc = new GcClock();
  const runs: Run[] = [];
  let stats: Record<string, number> = {};
  console.log(row(COLUMNS));
  // One untimed run first: a session diffs again and again, so the figure is
  // for warm (JIT-compiled) code. The cold run is shown, not counted.
  const cold = await measure(builds, gc);
  console.log(row(cells('cold', cold.run, cold.run.mbPerS)));
  for (let i = 1; i <= RUNS; i++) {
    const result = await measure(builds, gc);
    runs.push(result.run);
    stats = result.stats;
    console.log(row(cells(i, result.run, result.run.mbPerS)));
  }
  gc.stop();
  const med = {
    readMs: median(runs.map((r) => r.readMs)),
    ioMs: median(runs.map((r) => r.ioMs)),
    diffMs: median(runs.map((r) => r.diffMs)),
    totalMs: median(runs.map((r) => r.totalMs)),
    gcMs: median(runs.map((r) => r.gcMs)),
  };
  const mbPerS = mb / (med.totalMs / 1000);
  console.log(row(cells('median', med, mbPerS)));

  console.log(`objects ${stats.objects} (both sides), atoms ${stats.atoms}, named symbols ${stats.namedSymbols}`);
  console.log(`diff found ${stats.changed} changed, ${stats.added} added, ${stats.removed} removed`);
  const readShare = med.readMs / (med.readMs + med.diffMs);
  const dominant = readShare >= 0.5 ? `reading/parsing, ${pct(readShare)} (readFile alone ${pct(med.ioMs / med.totalMs)})` : `diffing (atom index + fingerprints), ${pct(1 - readShare)}`;
  console.log(`profile hint: ${dominant} of the time; garbage collection pauses are ${pct(med.gcMs / med.totalMs)} of it, across both phases`);
  // Other work on the machine slows every phase; a load average above the core
  // count (this run and a fresh corpus build count too) says there was some.
  const load = loadavg()[0] ?? 0;
  if (load > cpus().length) console.log(`note: the 1-minute load average was ${load.toFixed(1)} on ${cpus().length} cores; the figures may be pessimistic`);
  const met = mbPerS >= TARGET_MB_PER_S;
  console.log(`${met ? 'MET' : 'MISSED'}: ${mbPerS.toFixed(1)} MB/s against the target of ${TARGET_MB_PER_S} MB/s (single-threaded JavaScript)`);
  const asCli = await measureAsCli(builds);
  console.log(
    `as \`ipbp diff\` runs it (byte-identical files skipped before parsing: ${asCli.identicalFiles} of ${asCli.files}): ` +
      `median ${asCli.medianMs.toFixed(0)} ms, ${(mb / (asCli.medianMs / 1000)).toFixed(1)} MB/s (runs ${asCli.runsMs.map((ms) => ms.toFixed(0)).join(', ')})`,
  );

  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  const json = {
    benchmark: 'diff-throughput',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadAverage1m: load },
    corpus: { fixture: 'bench/fixtures/diff-corpus', rlibsPerSide: builds.oldRlibs.length, bytesPerSide: builds.bytes, ...stats },
    coldRun: cold.run,
    runs,
    median: { ...med, mbPerS },
    target: { mbPerS: TARGET_MB_PER_S, met },
    dominantPhase: readShare >= 0.5 ? 'read' : 'diff',
    asCli: { ...asCli, mbPerS: mb / (asCli.medianMs / 1000) },
  };
  // Tenths of a millisecond are plenty; the raw timer's fifteen digits are noise.
  const rounded = (_key: string, value: unknown): unknown => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 10) / 10 : value);
  await writeFile(RESULTS, `${JSON.stringify(json, rounded, 2)}\n`);
  console.log(`wrote ${RESULTS}`);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

await main();
