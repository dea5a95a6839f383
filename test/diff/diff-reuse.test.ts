import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Diff, diffObjects } from '../../src/diff/compare.js';
import type { ObjectFile } from '../../src/object/model.js';
import { readObjectFilesReusing, readObjectPath } from '../../src/object/read.js';
import { DEMO_CRATE, edit } from '../support/demo-crate.js';
import { ScratchCrate } from '../support/rustc.js';

/** What a diff says, in names: equal for two diffs that found the same change. */
function outcome(diff: Diff): unknown {
  const names = (atoms: readonly { name: string }[]): string[] => atoms.map((atom) => atom.name).sort();
  return { report: diff.report, changed: names(diff.changedAtoms), added: names(diff.addedAtoms), fresh: names(diff.freshAtoms), closuresKeptOld: diff.closuresKeptOld };
}

/**
 * A session parses only the objects an incremental build rewrote and diffs
 * the rest as the very objects it already holds: the outcome must be the
 * one a diff of two freshly parsed builds gives.
 */
describe('diffing a rebuild that shares parsed objects with the running build', () => {
  let crate: ScratchCrate;
  let baseRlib: string;

  before(async () => {
    crate = await ScratchCrate.create();
    baseRlib = await crate.build(DEMO_CRATE);
  });
  after(async () => crate.remove());

  const edits: Array<[string, string, string]> = [
    ['a body edit', 'x + 1 }', 'x + 3 }'],
    ['a string literal', '"label-a"', '"label-b"'],
    ['a new function', '// end', 'pub fn added() -> u64 { 42 }\n// end'],
    ['a new closure before a kept one', 'values.iter().map(|v| v + 1)', 'values.iter().filter(|v| **v > 0).map(|v| v + 1)'],
    ['a vtable method body', 'self.0 * self.0', 'self.0 * self.0 + 1'],
  ];

  for (const [what, from, to] of edits) {
    test(`${what}: the same outcome, with the unchanged units reused`, async () => {
      const base = await readObjectPath(baseRlib);
      const rebuilt = await crate.build(edit(DEMO_CRATE, from, to));
      const reused = await readObjectFilesReusing([rebuilt], base);
      const shared = reused.filter((object) => base.includes(object)).length;
      assert.ok(shared > 0, 'no object of the rebuild was taken from the earlier read');
      assert.ok(shared < reused.length, 'every object was taken from the earlier read, though the edit changed code');
      const expected = diffObjects(await readObjectPath(baseRlib), await readObjectPath(rebuilt));
      assert.ok(expected.changedAtoms.length + expected.addedAtoms.length > 0, 'the edit changed nothing, so it tests nothing');
      assert.deepEqual(outcome(diffObjects(base, reused)), outcome(expected));
    });
  }

  test('a chain of edits, each diffed against the objects of the one before, as a session does', async () => {
    let running: ObjectFile[] = await readObjectPath(baseRlib);
    let runningRlib = baseRlib;
    let source = DEMO_CRATE;
    for (let step = 1; step <= 3; step++) {
      source = edit(source, `x + ${step} }`, `x + ${step + 1} }`);
      const rlib = await crate.build(source);
      const reused = await readObjectFilesReusing([rlib], running);
      const diff = diffObjects(running, reused);
      assert.deepEqual(outcome(diff), outcome(diffObjects(await readObjectPath(runningRlib), await readObjectPath(rlib))));
      assert.deepEqual(
        diff.report.functions.changed.map((entry) => entry.name),
        ['demo::add_one'],
      );
      running = reused;
      runningRlib = rlib;
    }
  });

  test('an identical rebuild reuses every object and finds nothing', async () => {
    const base = await readObjectPath(baseRlib);
    const reused = await readObjectFilesReusing([await crate.build(DEMO_CRATE)], base);
    assert.ok(reused.length === base.length && reused.every((object, i) => object === base[i]), 'an object was parsed again');
    const diff = diffObjects(base, reused);
    assert.equal(diff.changedAtoms.length + diff.addedAtoms.length, 0);
  });
});
