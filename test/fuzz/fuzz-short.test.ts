/**
 * The CI slice of the fuzzing in fuzz/: a few thousand inputs through each
 * property (object readers, message decoder, frame splitter) with fast-check,
 * which shrinks and prints any failure with the seed to replay it. The long
 * run (fuzz/run-long.sh) tries over a million. `IPBP_FUZZ_SEED` fixes the
 * seed, `IPBP_FUZZ_SCALE` multiplies the runs.
 *
 * Each property runs in a worker thread, so that a parse stuck in a loop
 * fails the test after JOB_LIMIT_MS instead of hanging it.
 */
import assert from 'node:assert/strict';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { join } from 'node:path';
import { checkObjectCase, decodeProperty, framesProperty, objectsProperty, regressionCases, type Case, type FuzzProperty } from '../../fuzz/properties.js';
import { objectSeeds, REPO, type Seed } from '../../fuzz/seeds.js';
import { runInWorker } from '../support/worker-job.js';

const JOB_LIMIT_MS = 60_000;
const SCALE = Number(process.env.IPBP_FUZZ_SCALE ?? '1');
const SEED = process.env.IPBP_FUZZ_SEED === undefined ? undefined : Number(process.env.IPBP_FUZZ_SEED);

const RUNS = { objects: 8_000, decode: 5_000, frames: 3_000 } as const;
type Job = keyof typeof RUNS;

interface JobRequest {
  readonly fuzzShortJob: Job;
  readonly seeds: readonly Seed[];
}

function propertyFor(job: Job, seeds: readonly Seed[]): FuzzProperty<Case> {
  switch (job) {
    case 'objects':
      return objectsProperty(seeds) as FuzzProperty<Case>;
    case 'decode':
      return decodeProperty();
    case 'frames':
      return framesProperty() as FuzzProperty<Case>;
  }
}

if (!isMainThread && (workerData as Partial<JobRequest> | undefined)?.fuzzShortJob) {
  const { fuzzShortJob, seeds } = workerData as JobRequest;
  try {
    const property = propertyFor(fuzzShortJob, seeds);
    const numRuns = Math.max(1, Math.round(RUNS[fuzzShortJob] * (Number.isFinite(SCALE) ? SCALE : 1)));
    fc.assert(
      fc.property(property.arbitrary, (value) => {
        property.check(value);
      }),
      { numRuns, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    parentPort!.postMessage({ ok: true });
  } catch (error) {
    parentPort!.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
}

function runJob(job: Job, seeds: readonly Seed[]): Promise<void> {
  const request: JobRequest = { fuzzShortJob: job, seeds };
  return runInWorker(new URL(import.meta.url), request, job, JOB_LIMIT_MS * Math.max(1, SCALE), 'an input hangs');
}

if (isMainThread) {
  describe('fuzzing, short (fuzz/run-long.sh is the long run)', () => {
    let seeds: Seed[];
    before(() => {
      // The committed fixtures, plus an x86_64 object, an rlib and an executable if rustc is there.
      seeds = objectSeeds({ build: true });
    });

    test('inputs the long run once failed on still pass (fuzz/regressions/)', () => {
      const cases = regressionCases(join(REPO, 'fuzz/regressions/objects'));
      assert.ok(cases.length > 0, 'the regression inputs are there');
      for (const value of cases) checkObjectCase(value, { slowMs: 2_000 });
    });
    test('object readers: mutated objects, archives and an executable parse cleanly or fail with one ObjectFormatError', () => runJob('objects', seeds));
    test('message decoder: mutated and generated payloads decode strictly or fail with a ProtocolError', () => runJob('decode', seeds));
    test('frame splitter: arbitrary streams in arbitrary chunks split exactly as the model does', () => runJob('frames', seeds));
  });
}
