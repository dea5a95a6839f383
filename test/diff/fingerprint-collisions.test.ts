import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { diffObjects } from '../../src/diff/compare.js';
import { Hasher } from '../../src/diff/hasher.js';
import { readObjectPath } from '../../src/object/read.js';
import { DEMO_CRATE, edit } from '../support/demo-crate.js';
import { ScratchCrate } from '../support/rustc.js';

/** A hasher whose every digest collides: what a 64-bit collision looks like, everywhere at once. */
class CollidingHasher extends Hasher {
  override digest(): string {
    return '0000000000000000';
  }
}

/** Equal fingerprints are a hint, never a verdict: the diff confirms them byte by byte. */
describe('fingerprints that collide', () => {
  let crate: ScratchCrate;
  let base: string;

  before(async () => {
    crate = await ScratchCrate.create();
    base = await crate.build(DEMO_CRATE);
  });
  after(async () => crate.remove());

  const changedNames = async (source: string): Promise<string[]> => {
    const diff = diffObjects(await readObjectPath(base), await readObjectPath(await crate.build(source)), () => new CollidingHasher());
    return diff.report.functions.changed.map((entry) => entry.name).sort();
  };

  test('a body edit is still found when every fingerprint is equal', async () => {
    assert.deepEqual(await changedNames(edit(DEMO_CRATE, 'x + 1 }', 'x + 3 }')), ['demo::add_one']);
  });

  test('an edit of a string literal is found through the compiler-local constant', async () => {
    assert.deepEqual(await changedNames(edit(DEMO_CRATE, '"label-a"', '"label-b"')), ['demo::label']);
  });

  test('an unchanged build compares equal in full', async () => {
    assert.deepEqual(await changedNames(DEMO_CRATE), []);
  });
});
