import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { diffObjects } from '../../src/diff/compare.js';
import { demangleWithoutHash } from '../../src/diff/demangle/index.js';
import type { ObjectFile } from '../../src/object/model.js';
import { readObjectPath } from '../../src/object/read.js';
import { ScratchCrate } from '../support/rustc.js';

const MODULES = 24;

/** Many small modules, so that rustc must merge their codegen units to fit 16. */
function crateSource(grown: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < MODULES; i++) {
    // Growing one function changes the sizes rustc merges by, and so the partition.
    const body = grown && i === 0 ? `x${Array.from({ length: 60 }, (_, k) => `.wrapping_mul(${k + 7}).rotate_left(${(k % 13) + 1})`).join('')}` : `x.wrapping_mul(${i + 3})`;
    lines.push(`pub mod m${i} { #[inline(never)] pub fn f${i}(x: u64) -> u64 { ${body} } #[inline(never)] pub fn g${i}(x: u64) -> u64 { f${i}(x) ^ ${i} } }`);
  }
  return `${lines.join('\n')}\n`;
}

/** For each function of the crate, the other crate functions that share its object file. */
function partition(objects: readonly ObjectFile[]): Map<string, string> {
  const result = new Map<string, string>();
  for (const object of objects) {
    const names = object.symbols
      .filter((symbol) => symbol.kind === 'function' && symbol.section !== undefined)
      .map((symbol) => demangleWithoutHash(symbol.name))
      .filter((name) => name.startsWith('demo::'))
      .sort();
    for (const name of names) result.set(name, names.join(','));
  }
  return result;
}

describe('diff across a change of codegen-unit partitioning (debug, incremental)', () => {
  let crate: ScratchCrate;
  let before_: ObjectFile[];
  let after_: ObjectFile[];

  before(async () => {
    crate = await ScratchCrate.create();
    before_ = await readObjectPath(await crate.build(crateSource(false)));
    after_ = await readObjectPath(await crate.build(crateSource(true)));
  });
  after(async () => crate.remove());

  test('the edit really moved functions between codegen units', () => {
    const old = partition(before_);
    const moved = [...partition(after_)].filter(([name, mates]) => old.get(name) !== mates && name !== 'demo::m0::f0');
    assert.ok(moved.length > 0, 'some unchanged function now shares its object with different functions');
  });

  test('only the edited function is reported', () => {
    const { report } = diffObjects(before_, after_);
    assert.deepEqual(
      report.functions.changed.map((entry) => entry.name),
      ['demo::m0::f0'],
    );
    // The new body instantiates core's `rotate_left` in this crate; nothing of the crate's own is new.
    assert.deepEqual(report.functions.added.filter((entry) => entry.name.startsWith('demo::')), []);
    assert.deepEqual(report.functions.removed, []);
    assert.deepEqual(report.data, { changed: [], added: [], removed: [] });
  });
});
