import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROJECTS } from '../../corpus/projects.js';
import { type CorpusResult, runProject } from '../../corpus/run-one.js';

/**
 * Two of the smaller corpus projects (see corpus/), run exactly as
 * `npm run corpus` runs them: programs from crates.io that nobody on this
 * project wrote, fetched through cargo, built in the corpus's shared target
 * directory, edited twice while they run and stopped with Ctrl-C.
 */
function project(name: string) {
  const found = PROJECTS.find((candidate) => candidate.name === name);
  assert.ok(found, `corpus project ${name}`);
  return found;
}

/** Checks the outcome, and that what was seen from outside after each edit is what that edit expects. */
function assertPatchedInPlace(result: CorpusResult): void {
  const edits = project(result.project).edits;
  assert.equal(result.outcome, 'patched', `${result.project}: ${result.reason}\n${result.details.join('\n')}`);
  assert.ok(result.pid !== null);
  assert.deepEqual(
    result.patches.map((patch) => patch.patch),
    [1, 2],
    'both edits were patches (the pids of each were checked to be the app pid)',
  );
  assert.ok(result.firstPatchMs !== null && result.warmPatchMs !== null, 'both edits were observed from outside');
  assert.equal(result.observed.length, 3);
  assert.match(result.observed[1]!, edits[0].expect, 'the first edit seen from outside');
  assert.match(result.observed[2]!, edits[1].expect, 'the warm edit seen from outside');
  assert.deepEqual(result.stop, { exitCode: 0, signal: null, appGone: true, timedOut: false }, 'Ctrl-C ends ipbp with 0, and the app with it');
}

describe('the corpus: real crates.io programs patched while they run', () => {
  test('tiny-serve (a workspace with livid-server): a response header changes in the same process', { timeout: 900_000 }, async () => {
    assertPatchedInPlace(await runProject(project('tiny-serve')));
  });

  test('rusty-life (under a pseudo-terminal): the frames drawn change in the same process', { timeout: 900_000 }, async () => {
    assertPatchedInPlace(await runProject(project('rusty-life')));
  });
});
