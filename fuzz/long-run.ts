/**
 * The long fuzzing run: a million inputs or more through the TypeScript
 * object readers, message decoder and frame splitter (the properties of
 * properties.ts, in worker threads), optionally cargo-fuzz on the Rust
 * decoder and frame reader, and a differential check of the two decoders.
 * Prints how many inputs were tried and how many failures were found, and
 * exits non-zero if any were.
 *
 *   node dist/fuzz/long-run.js [--inputs 1000000] [--workers 2] [--seed N]
 *        [--cargo-decode-runs N] [--cargo-frames-runs N] [--differential N]
 *        [--slow-ms 1000]
 *
 * Usually started by fuzz/run-long.sh, which builds everything first.
 * Failing inputs are saved under fuzz/artifacts/ts/ (one per distinct
 * failure) with a .txt saying what broke and how the input was made.
 *
 * Counting failures instead of stopping at the first: each property runs
 * through `fc.assert` with a predicate that records a broken contract and
 * carries on. A parse that hangs is caught by a watchdog (each worker
 * publishes the input it is on in shared memory and ticks a counter; a
 * silent worker is terminated and its input saved), and so is a worker
 * killed by running out of memory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { checkDecode, decodeProperty, framesProperty, objectsProperty, type Case, type FuzzProperty, type Verdict } from './properties.js';
import { objectSeeds, REPO, type Seed } from './seeds.js';

const PROPERTY_NAMES = ['objects', 'decode', 'frames'] as const;
type PropertyName = (typeof PROPERTY_NAMES)[number];
/** Shares of the TypeScript budget: the object readers are the biggest surface. */
const WEIGHTS: Record<PropertyName, number> = { objects: 0.7, decode: 0.2, frames: 0.1 };
const BATCH = 10_000;
const HANG_MS = 30_000;
const INPUT_CAPACITY = 8 * 1024 * 1024;
const ARTIFACTS = join(REPO, 'fuzz/artifacts');

interface Failure {
  readonly property: string;
  readonly signature: string;
  readonly message: string;
  readonly origin: string;
  readonly bytes: Uint8Array;
  count: number;
}

interface Batch {
  readonly property: PropertyName;
  readonly runs: number;
  readonly seed: number;
}

interface WorkerSetup {
  readonly longRunWorker: true;
  readonly seeds: readonly Seed[];
  readonly slowMs: number;
  readonly shared: SharedArrayBuffer;
}

/** Digits and hex numbers vary between instances of one failure; the rest names it. */
function signatureOf(property: string, message: string): string {
  const firstLine = message.split('\n')[0] ?? '';
  return `${property}: ${firstLine.replace(/0x[0-9a-f]+/gi, 'N').replace(/\d+/g, 'N').slice(0, 300)}`;
}

// ---------------------------------------------------------------------------
// Worker: runs batches of one property, recording failures instead of stopping

function workerMain(setup: WorkerSetup): void {
  const header = new Int32Array(setup.shared, 0, 4);
  const input = new Uint8Array(setup.shared, 16);
  const properties: Record<PropertyName, FuzzProperty<Case>> = {
    objects: objectsProperty(setup.seeds, { slowMs: setup.slowMs }) as FuzzProperty<Case>,
    decode: decodeProperty(),
    frames: framesProperty() as FuzzProperty<Case>,
  };
  parentPort!.on('message', (batch: Batch) => {
    const property = properties[batch.property];
    const failures = new Map<string, Failure>();
    let tried = 0;
    let accepted = 0;
    const predicate = (value: Case): boolean => {
      const length = Math.min(value.bytes.length, INPUT_CAPACITY - 16);
      input.set(value.bytes.subarray(0, length));
      Atomics.store(header, 1, length);
      Atomics.store(header, 2, PROPERTY_NAMES.indexOf(batch.property));
      Atomics.add(header, 0, 1);
      tried++;
      try {
        if (property.check(value) === 'accepted') accepted++;
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        const signature = signatureOf(batch.property, error instanceof Error ? error.message : message);
        const known = failures.get(signature);
        if (known) known.count++;
        else failures.set(signature, { property: batch.property, signature, message, origin: String(fc.stringify(value)).slice(0, 20_000) + `\n${value.origin.slice(0, 20_000)}`, bytes: value.bytes.slice(), count: 1 });
      }
      return true;
    };
    fc.assert(fc.property(property.arbitrary, predicate), { numRuns: batch.runs, seed: batch.seed });
    parentPort!.postMessage({ tried, accepted, failures: [...failures.values()] });
  });
}

// ---------------------------------------------------------------------------
// Main: the pool, the watchdog, the tallies

interface Options {
  readonly inputs: number;
  readonly workers: number;
  readonly seed: number;
  readonly slowMs: number;
  readonly cargoDecodeRuns: number;
  readonly cargoFramesRuns: number;
  readonly differential: number;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Record<string, number> = { inputs: 1_000_000, workers: 2, seed: Date.now() % 2 ** 31, slowMs: 1_000, cargoDecodeRuns: 0, cargoFramesRuns: 0, differential: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = Number(argv[i + 1]);
    if (!(key in options) || !Number.isSafeInteger(value) || value < 0) throw new Error(`bad option ${argv[i]} ${argv[i + 1] ?? ''}`);
    options[key] = value;
  }
  return options as unknown as Options;
}

class Tally {
  readonly tried = new Map<string, number>();
  readonly accepted = new Map<string, number>();
  readonly failures = new Map<string, Failure>();

  addTried(what: string, count: number): void {
    this.tried.set(what, (this.tried.get(what) ?? 0) + count);
  }

  addFailure(failure: Failure): void {
    const known = this.failures.get(failure.signature);
    if (known) known.count += failure.count;
    else this.failures.set(failure.signature, { ...failure });
  }

  failuresOf(what: string): number {
    let total = 0;
    for (const failure of this.failures.values()) if (failure.property === what) total += failure.count;
    return total;
  }
}

interface Slot {
  worker: Worker;
  shared: SharedArrayBuffer;
  batch: Batch | undefined;
  startCount: number;
  lastCount: number;
  lastChange: number;
  /** Set when the watchdog terminates the worker. */
  hung: boolean;
}

async function runTypeScript(options: Options, seeds: readonly Seed[], tally: Tally): Promise<void> {
  const queue: Batch[] = [];
  let batchSeed = options.seed;
  for (const name of PROPERTY_NAMES) {
    let left = Math.ceil(options.inputs * WEIGHTS[name]);
    while (left > 0) {
      const runs = Math.min(BATCH, left);
      queue.push({ property: name, runs, seed: batchSeed++ });
      left -= runs;
    }
  }
  // Interleave the properties so progress lines show all of them moving.
  queue.sort((a, b) => (a.seed % 7) - (b.seed % 7) || a.seed - b.seed);
  const total = queue.reduce((sum, b) => sum + b.runs, 0);
  let done = 0;
  const started = performance.now();

  await new Promise<void>((resolve) => {
    const slots: Slot[] = [];
    const header = (slot: Slot): Int32Array => new Int32Array(slot.shared, 0, 4);

    const spawnSlot = (): Slot => {
      const shared = new SharedArrayBuffer(INPUT_CAPACITY);
      const setup: WorkerSetup = { longRunWorker: true, seeds, slowMs: options.slowMs, shared };
      const worker = new Worker(new URL(import.meta.url), { workerData: setup, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
      const slot: Slot = { worker, shared, batch: undefined, startCount: 0, lastCount: 0, lastChange: performance.now(), hung: false };
      worker.on('message', (result: { tried: number; accepted: number; failures: Failure[] }) => {
        tally.addTried(slot.batch!.property, result.tried);
        tally.accepted.set(slot.batch!.property, (tally.accepted.get(slot.batch!.property) ?? 0) + result.accepted);
        done += result.tried;
        for (const failure of result.failures) tally.addFailure(failure);
        slot.batch = undefined;
        next(slot);
      });
      worker.on('error', (error) => died(slot, `the worker failed: ${error.message}`));
      worker.on('exit', (code) => died(slot, slot.hung ? `no progress for ${HANG_MS / 1000} s: a parse hangs` : `the worker exited with code ${code}`));
      return slot;
    };

    /** A worker died inside a batch: blame the input it was on, count what it did, requeue the rest. */
    const died = (slot: Slot, reason: string): void => {
      if (!slots.includes(slot)) return;
      slots.splice(slots.indexOf(slot), 1);
      const batch = slot.batch;
      if (batch) {
        const h = header(slot);
        const tried = Atomics.load(h, 0) - slot.startCount;
        const length = Atomics.load(h, 1);
        const bytes = new Uint8Array(slot.shared, 16, length).slice();
        tally.addTried(batch.property, tried);
        done += tried;
        tally.addFailure({ property: batch.property, signature: signatureOf(batch.property, reason), message: reason, origin: `batch seed ${batch.seed}, input ${tried} of the batch`, bytes, count: 1 });
        const left = batch.runs - tried;
        if (left > 0) queue.push({ property: batch.property, runs: left, seed: batch.seed + 1_000_003 });
      }
      void slot.worker.terminate();
      if (queue.length > 0 || slots.some((s) => s.batch)) {
        const fresh = spawnSlot();
        slots.push(fresh);
        next(fresh);
      } else finish();
    };

    const next = (slot: Slot): void => {
      const batch = queue.shift();
      if (!batch) {
        if (!slots.some((s) => s.batch)) finish();
        return;
      }
      slot.batch = batch;
      slot.startCount = Atomics.load(header(slot), 0);
      slot.lastCount = slot.startCount;
      slot.lastChange = performance.now();
      slot.worker.postMessage(batch);
    };

    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      clearInterval(progress);
      for (const slot of slots) void slot.worker.terminate();
      resolve();
    };

    const watchdog = setInterval(() => {
      const now = performance.now();
      for (const slot of [...slots]) {
        const count = Atomics.load(header(slot), 0);
        if (count !== slot.lastCount || !slot.batch) {
          slot.lastCount = count;
          slot.lastChange = now;
        } else if (now - slot.lastChange > HANG_MS && !slot.hung) {
          slot.hung = true;
          void slot.worker.terminate();
        }
      }
    }, 1_000);
    const progress = setInterval(() => {
      const live = slots.reduce((sum, s) => sum + (s.batch ? Atomics.load(header(s), 0) - s.startCount : 0), 0);
      const seconds = (performance.now() - started) / 1000;
      const failures = [...tally.failures.values()].reduce((sum, f) => sum + f.count, 0);
      console.log(`  ${done + live} / ${total} inputs, ${failures} failures, ${Math.round((done + live) / seconds)}/s`);
    }, 15_000);

    for (let i = 0; i < Math.max(1, options.workers); i++) slots.push(spawnSlot());
    for (const slot of [...slots]) next(slot);
  });
}

// ---------------------------------------------------------------------------
// cargo-fuzz on the Rust decoder

function seedRustCorpora(): void {
  const frames = readdirSync(join(REPO, 'test/fixtures/protocol')).filter((n) => n.endsWith('.bin')).sort();
  mkdirSync(join(REPO, 'fuzz/corpus/decode'), { recursive: true });
  mkdirSync(join(REPO, 'fuzz/corpus/frames'), { recursive: true });
  const all: Uint8Array[] = [];
  for (const name of frames) {
    const frame = readFileSync(join(REPO, 'test/fixtures/protocol', name));
    all.push(frame);
    writeFileSync(join(REPO, 'fuzz/corpus/decode', `golden-${name}`), frame.subarray(4));
    writeFileSync(join(REPO, 'fuzz/corpus/frames', `golden-${name}`), Buffer.concat([Uint8Array.of(3), frame]));
  }
  writeFileSync(join(REPO, 'fuzz/corpus/frames', 'golden-all.bin'), Buffer.concat([Uint8Array.of(0x1f), ...all]));
}

/**
 * The cargo-fuzz targets and their sanitizer. Both are built with -O -a
 * (optimised, with debug assertions and overflow checks). `decode` runs
 * under AddressSanitizer; `frames` without: read_frame allocates the length
 * a header announces (up to 16 MiB) before reading, which ASan makes about
 * four times slower, and the read path is safe Rust, so ASan adds nothing.
 */
const CARGO_TARGETS = { decode: 'address', frames: 'none' } as const;

/** One `cargo fuzz run`; libFuzzer stops at a crash, so runs again (at most 5 times) until the budget is spent. */
async function runCargoFuzz(target: keyof typeof CARGO_TARGETS, runs: number, tally: Tally): Promise<void> {
  const what = `rust ${target} (cargo-fuzz)`;
  let left = runs;
  for (let attempt = 0; attempt < 5 && left > 0; attempt++) {
    const args = ['+nightly', 'fuzz', 'run', '--fuzz-dir', join(REPO, 'fuzz'), '-O', '-a', '-s', CARGO_TARGETS[target], target, '--', `-runs=${left}`, '-print_final_stats=1', '-timeout=10', '-rss_limit_mb=2048', '-max_len=4096'];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('cargo', args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const collect = (data: Buffer): void => {
        output += data.toString();
        if (output.length > 4_000_000) output = output.slice(-2_000_000);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('close', (code) => resolve({ code, output }));
    });
    writeFileSync(join(ARTIFACTS, `${target}.log`), output);
    const executed = /stat::number_of_executed_units:\s*(\d+)/.exec(output);
    const count = executed ? Number(executed[1]) : 0;
    tally.addTried(what, count);
    left -= Math.max(1, count);
    if (code === 0) return;
    const crash = /(panicked at[^\n]*\n[^\n]*|==\d+==ERROR[^\n]*|Test unit written to [^\n]*)/.exec(output);
    const message = crash ? crash[1]! : `cargo fuzz exited with ${code}; see fuzz/artifacts/${target}.log`;
    const artifact = /Test unit written to (\S+)/.exec(output);
    tally.addFailure({ property: what, signature: `${what}: ${message}`, message, origin: artifact ? artifact[1]! : '', bytes: artifact ? readFileSync(artifact[1]!) : new Uint8Array(0), count: 1 });
    if (count === 0) return; // it did not even start: do not loop on a build error
  }
}

// ---------------------------------------------------------------------------
// The two decoders, side by side

function differential(options: Options, tally: Tally): void {
  const what = 'decode: TypeScript vs Rust';
  const payloads: Uint8Array[] = fc.sample(decodeProperty().arbitrary, { numRuns: options.differential, seed: options.seed }).map((c) => c.bytes);
  const corpus = join(REPO, 'fuzz/corpus/decode');
  for (const name of readdirSync(corpus).sort()) payloads.push(new Uint8Array(readFileSync(join(corpus, name))));
  const directory = mkdtempSync(join(tmpdir(), 'ipbp-differential-'));
  try {
    const file = join(directory, 'payloads.frames');
    writeFileSync(
      file,
      Buffer.concat(
        payloads.flatMap((p) => {
          const header = Buffer.alloc(4);
          header.writeUInt32LE(p.length);
          return [header, p];
        }),
      ),
    );
    const binary = join(REPO, 'fuzz/target/release/verdicts');
    const lines = execFileSync(binary, [file], { maxBuffer: 1 << 30, encoding: 'utf8' }).split('\n');
    payloads.forEach((payload, i) => {
      const rust = lines[i] ?? '';
      let ts: Verdict;
      try {
        ts = checkDecode(payload);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        tally.addFailure({ property: 'decode', signature: signatureOf('decode', message), message, origin: `differential payload ${i}`, bytes: payload, count: 1 });
        return;
      }
      const tsLine = ts.ok ? `ok\t${ts.kind}` : `error\t${ts.message}`;
      if (tsLine !== rust) {
        const message = `TypeScript says "${tsLine}", Rust says "${rust}"`;
        tally.addFailure({ property: what, signature: signatureOf(what, message), message, origin: `payload ${Buffer.from(payload).toString('hex')}`, bytes: payload, count: 1 });
      }
    });
    tally.addTried(what, payloads.length);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------

function saveFailures(tally: Tally): string[] {
  const directory = join(ARTIFACTS, 'ts');
  mkdirSync(directory, { recursive: true });
  const saved: string[] = [];
  for (const failure of tally.failures.values()) {
    const hash = createHash('sha1').update(failure.signature).digest('hex').slice(0, 12);
    const base = join(directory, `${failure.property.replace(/[^a-z0-9]+/gi, '-')}-${hash}`);
    writeFileSync(`${base}.bin`, failure.bytes);
    writeFileSync(`${base}.txt`, `${failure.signature}\noccurrences: ${failure.count}\n\n${failure.message}\n\nmade as:\n${failure.origin}\n`);
    saved.push(`${base}.bin`);
  }
  return saved;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  mkdirSync(ARTIFACTS, { recursive: true });
  const tally = new Tally();
  const started = performance.now();
  const elapsed = (): string => `${Math.round((performance.now() - started) / 1000)} s`;

  const cargoRuns = { decode: options.cargoDecodeRuns, frames: options.cargoFramesRuns };
  if (cargoRuns.decode > 0 || cargoRuns.frames > 0) seedRustCorpora();
  for (const target of ['decode', 'frames'] as const) {
    const runs = cargoRuns[target];
    if (runs === 0) continue;
    console.log(`cargo-fuzz: ${target}, ${runs} runs`);
    await runCargoFuzz(target, runs, tally);
    console.log(`  done at ${elapsed()}`);
  }

  const seeds = objectSeeds({ build: true });
  console.log(`TypeScript properties: ${options.inputs} inputs on ${options.workers} workers, seed ${options.seed}, ${seeds.length} object seeds (${(['object', 'archive', 'image'] as const).map((kind) => `${seeds.filter((s) => s.kind === kind).length} ${kind}s`).join(', ')})`);
  await runTypeScript(options, seeds, tally);
  console.log(`  done at ${elapsed()}`);

  if (options.differential > 0) {
    console.log(`differential: ${options.differential} generated payloads and the cargo-fuzz corpus through both decoders`);
    differential(options, tally);
    console.log(`  done at ${elapsed()}`);
  }

  const saved = saveFailures(tally);
  console.log('\nFuzzing summary');
  let tried = 0;
  let failed = 0;
  for (const [what, count] of tally.tried) {
    const failures = tally.failuresOf(what);
    tried += count;
    failed += failures;
    const accepted = tally.accepted.get(what);
    const share = accepted === undefined ? '' : `  (${((100 * accepted) / Math.max(1, count)).toFixed(1)}% accepted)`;
    console.log(`  ${what.padEnd(36)} ${String(count).padStart(10)} inputs  ${String(failures).padStart(6)} failures${share}`);
  }
  console.log(`  ${'total'.padEnd(36)} ${String(tried).padStart(10)} inputs  ${String(failed).padStart(6)} failures  (${elapsed()})`);
  for (const failure of tally.failures.values()) console.log(`\n  x ${failure.count} ${failure.signature}`);
  if (saved.length > 0) console.log(`\nFailing inputs and what broke: fuzz/artifacts/ts/ (${saved.length} files)`);
  process.exitCode = failed > 0 ? 1 : 0;
}

if (!isMainThread && (workerData as Partial<WorkerSetup> | undefined)?.longRunWorker) {
  workerMain(workerData as WorkerSetup);
} else if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  });
}
