/**
 * The benchmark suite (issue 5): patch latency of ipbp against `cargo build`
 * plus a restart, side by side, on three apps of its own (examples/bench-small,
 * bench-medium, bench-server) and two published on crates.io (mini-redis,
 * tiny-serve, laid out by the corpus), plus memory, disk, call cost and diff
 * throughput.
 *
 *   npm run bench        # = npm run build && node dist/bench/run.js
 *
 * Prints a table and writes the same figures, with every raw measurement,
 * to bench/results/latest.json. It only measures: nothing here fails on a
 * slow figure. For a quick look, the environment can cut it down:
 * IPBP_BENCH_APPS=small,server,mini-redis  IPBP_BENCH_PATCHES=10  IPBP_BENCH_CARGO_RUNS=5
 * (RSS after 100 patches needs IPBP_BENCH_PATCHES ≥ 100, the default). Such a
 * run writes its JSON to the temp directory, not to bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { APPS, type BenchApp, type ExampleApp } from './apps.js';
import { type CargoResult, measureCargo } from './measure-cargo.js';
import { type DiffThroughput, measureDiffThroughput } from './measure-diff.js';
import { type IpbpResult, measureIpbp, targetDirectoryOf } from './measure-ipbp.js';
import { measureRealApp } from './measure-real.js';
import { type CorpusThroughput, renderReport } from './report.js';
import { closeProbes } from './support/http-probe.js';
import { ROOT, freshWorkCopy, lockWorkCopies } from './support/work-copy.js';
import { type AppSummary, checkTargets, summarize } from './summary.js';

const RESULTS = join(ROOT, 'bench/results/latest.json');
/** Where a cut-down run (IPBP_BENCH_* set) writes, so it never replaces the full run's figures. */
const PARTIAL_RESULTS = join(tmpdir(), 'ipbp-bench-partial.json');
const CUT_DOWN = ['IPBP_BENCH_APPS', 'IPBP_BENCH_PATCHES', 'IPBP_BENCH_CARGO_RUNS'].some((name) => process.env[name] !== undefined);

function log(line: string): void {
  console.log(line);
}

function selectedApps(): BenchApp[] {
  const names = process.env.IPBP_BENCH_APPS?.split(',').map((name) => name.trim());
  const patches = Number(process.env.IPBP_BENCH_PATCHES ?? Number.NaN);
  const cargoRuns = Number(process.env.IPBP_BENCH_CARGO_RUNS ?? Number.NaN);
  return APPS.filter((app) => !names || names.includes(app.name)).map((app) => ({
    ...app,
    patches: Number.isInteger(patches) && patches >= 2 ? patches : app.patches,
    cargoRuns: Number.isInteger(cargoRuns) && cargoRuns >= 1 ? cargoRuns : app.cargoRuns,
  }));
}

function toolVersion(command: string): string {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : `${command}: unavailable`;
}

/** bench/diff-throughput.ts as it is (it runs on import), then its own JSON. */
async function corpusThroughput(): Promise<CorpusThroughput | undefined> {
  log('== diff throughput on the crates.io corpus (bench/diff-throughput.ts)');
  const result = spawnSync(process.execPath, [join(ROOT, 'dist/bench/diff-throughput.js')], { stdio: 'inherit' });
  if (result.status !== 0) {
    log(`bench/diff-throughput.ts failed (exit ${result.status}); its figures are left out`);
    return undefined;
  }
  const json = JSON.parse(await readFile(join(ROOT, 'bench/results/diff-throughput.json'), 'utf8')) as {
    corpus: { bytesPerSide: number };
    median: { mbPerS: number };
    target: { mbPerS: number };
  };
  return { mbPerS: json.median.mbPerS, bytesPerSide: json.corpus.bytesPerSide, targetMbPerS: json.target.mbPerS };
}

interface AppRun {
  readonly app: BenchApp;
  readonly ipbp: IpbpResult;
  readonly cargo: CargoResult;
  readonly summary: AppSummary;
  readonly seconds: number;
}

interface Measured {
  readonly ipbp: IpbpResult;
  readonly cargo: CargoResult;
  readonly diff?: DiffThroughput;
}

async function measureExample(app: ExampleApp): Promise<Measured> {
  log(`== ${app.name} (examples/${app.example}: ${app.description})`);
  const directory = await freshWorkCopy(app.example);
  log(`  work copy ${directory}; ${app.patches} patches under ipbp, then ${app.cargoRuns} × cargo build + restart`);
  const ipbp = await measureIpbp(app, directory, log);
  const cargo = await measureCargo(app, directory, targetDirectoryOf(ipbp.binary, app.target?.triple), app.patches, log);
  if (app.name !== 'medium' || !cargo.rlibsBefore || !cargo.rlibsAfter) return { ipbp, cargo };
  log('  diff throughput on the medium app’s rlibs…');
  return { ipbp, cargo, diff: await measureDiffThroughput(cargo.rlibsBefore, cargo.rlibsAfter) };
}

async function benchApp(app: BenchApp): Promise<{ run: AppRun; diff: DiffThroughput | undefined }> {
  const started = performance.now();
  const { ipbp, cargo, diff }: Measured = app.source === 'example' ? await measureExample(app) : await measureRealApp(app, log);
  const summary = summarize(app, ipbp, cargo);
  return { run: { app, ipbp, cargo, summary, seconds: (performance.now() - started) / 1000 }, diff };
}

async function main(): Promise<void> {
  await lockWorkCopies();
  const began = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${toolVersion('rustc')}`;

  const corpusDiff = await corpusThroughput();
  const runs: AppRun[] = [];
  let mediumDiff: DiffThroughput | undefined;
  try {
    for (const app of selectedApps()) {
      const { run, diff } = await benchApp(app);
      runs.push(run);
      mediumDiff = diff ?? mediumDiff;
    }
  } finally {
    closeProbes();
  }

  const apps = runs.map((run) => run.summary);
  const targets = checkTargets(apps);
  const loadAtEnd = loadavg()[0] ?? 0;
  const seconds = (performance.now() - began) / 1000;
  const text = renderReport({ machine, apps, mediumDiff, corpusDiff, targets });
  console.log(`\n${text}`);
  // Other work on the machine slows every phase (rustc most); the load average says whether there was some.
  console.log(`\nload average (1 min): ${loadAtStart.toFixed(1)} at the start, ${loadAtEnd.toFixed(1)} at the end, on ${cpus().length} cores; ${Math.round(seconds)} s in all`);

  const json = {
    benchmark: 'ipbp patch latency against cargo build + restart (issue 5)',
    command: 'npm run bench',
    date: new Date().toISOString(),
    machine: { description: machine, cores: cpus().length, cpu, node: process.version, rustc: toolVersion('rustc'), loadAverage1m: { start: loadAtStart, end: loadAtEnd } },
    seconds,
    summary: apps,
    targets,
    diffThroughput: { mediumApp: mediumDiff, corpus: corpusDiff },
    raw: runs.map((run) => ({ app: run.app, seconds: run.seconds, ipbp: { ...run.ipbp, binary: basename(run.ipbp.binary) }, cargo: { ...run.cargo, rlibsBefore: run.cargo.rlibsBefore?.length, rlibsAfter: run.cargo.rlibsAfter?.length } })),
  };
  // Tenths of a millisecond are plenty, thousandths for the ns call costs; the timer's fifteen digits are noise.
  const rounded = (_key: string, value: unknown): unknown => {
    if (typeof value !== 'number' || Number.isInteger(value)) return value;
    const scale = Math.abs(value) < 10 ? 1000 : 10;
    return Math.round(value * scale) / scale;
  };
  const path = CUT_DOWN ? PARTIAL_RESULTS : RESULTS;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ ...json, cutDown: CUT_DOWN }, rounded, 2)}\n`);
  console.log(`wrote ${path}${CUT_DOWN ? ' (a cut-down run: bench/results/latest.json keeps the full run)' : ''}`);
}

await main();
