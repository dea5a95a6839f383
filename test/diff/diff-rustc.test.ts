import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DiffReport, diffObjects } from '../../src/diff/compare.js';
import { readObjectPath } from '../../src/object/read.js';
import { DEMO_CRATE, edit } from '../support/demo-crate.js';
import { type CrateBuild, ScratchCrate } from '../support/rustc.js';

async function diffBuilds(oldRlib: string, newRlib: string): Promise<DiffReport> {
  return diffObjects(await readObjectPath(oldRlib), await readObjectPath(newRlib)).report;
}

function names(list: ReadonlyArray<{ name: string }>): string[] {
  return [...new Set(list.map((entry) => entry.name))].sort();
}

function assertNothingElse(report: DiffReport, allowed: { functions?: string[]; data?: string[] }): void {
  const expectFunctions = allowed.functions ?? [];
  const expectData = allowed.data ?? [];
  for (const list of [report.functions.changed, report.functions.added, report.functions.removed]) {
    for (const entry of list) assert.ok(expectFunctions.includes(entry.name), `unexpected function change: ${entry.name}`);
  }
  for (const list of [report.data.changed, report.data.added, report.data.removed]) {
    for (const entry of list) assert.ok(expectData.includes(entry.name), `unexpected data change: ${entry.name}`);
  }
}

for (const profile of ['debug', 'release'] as const) {
  describe(`diff of real rustc objects (${profile})`, () => {
    const options: CrateBuild = { release: profile === 'release' };
    let crate: ScratchCrate;
    let base: string;

    before(async () => {
      crate = await ScratchCrate.create();
      base = await crate.build(DEMO_CRATE, options);
    });
    after(async () => crate.remove());

    async function changeTo(source: string): Promise<DiffReport> {
      // Every edit starts from the same baseline build, as a running process would.
      return diffBuilds(base, await crate.build(source, options));
    }

    test('the same source built twice from scratch reports no change', async () => {
      const other = await crate.build(DEMO_CRATE, options, `incremental-fresh-${profile}`);
      const report = await diffBuilds(base, other);
      assertNothingElse(report, {});
    });

    test('a body edit reports exactly that function', async () => {
      const report = await changeTo(edit(DEMO_CRATE, 'x + 1 }', 'x + 3 }'));
      assert.deepEqual(names(report.functions.changed), ['demo::add_one']);
      assertNothingElse(report, { functions: ['demo::add_one'] });
    });

    test('an edit to an inlined callee reports its callers too in release', async () => {
      const report = await changeTo(edit(DEMO_CRATE, 'x * 3 }', 'x * 5 }'));
      const changed = names(report.functions.changed);
      if (profile === 'release') {
        // rustc leaves a small leaf like `scale` to be instantiated downstream; its caller changed.
        assert.ok(changed.includes('demo::scaled_sum'), `inlined into scaled_sum: ${changed}`);
      } else {
        assert.deepEqual(changed, ['demo::scale']);
      }
      assertNothingElse(report, { functions: ['demo::scale', 'demo::scaled_sum'] });
    });

    test('adding a function', async () => {
      const report = await changeTo(edit(DEMO_CRATE, '// end', '#[inline(never)] pub fn brand_new(x: u64) -> u64 { x ^ 42 }'));
      assert.deepEqual(names(report.functions.added), ['demo::brand_new']);
      assertNothingElse(report, { functions: ['demo::brand_new'] });
    });

    test('renaming a function', async () => {
      const report = await changeTo(edit(DEMO_CRATE, 'fn other_label()', 'fn renamed_label()'));
      assert.deepEqual(names(report.functions.removed), ['demo::other_label']);
      assert.deepEqual(names(report.functions.added), ['demo::renamed_label']);
      assertNothingElse(report, { functions: ['demo::other_label', 'demo::renamed_label'] });
    });

    test('removing a function', async () => {
      const report = await changeTo(edit(DEMO_CRATE, `#[inline(never)] pub fn other_label() -> &'static str { std::hint::black_box("other") }`, ''));
      assert.deepEqual(names(report.functions.removed), ['demo::other_label']);
      assertNothingElse(report, { functions: ['demo::other_label'] });
    });

    test('changing a string literal used by one function', async () => {
      const report = await changeTo(edit(DEMO_CRATE, '"label-a"', '"label-b"'));
      assert.deepEqual(names(report.functions.changed), ['demo::label']);
      assertNothingElse(report, { functions: ['demo::label'] });
    });

    test('changing a generic function with two instantiations', async () => {
      const report = await changeTo(edit(DEMO_CRATE, '"<{:?}>"', '"[{:?}]"'));
      const instantiations = report.functions.changed.filter((entry) => entry.name === 'demo::generic');
      if (profile === 'debug') {
        assert.equal(instantiations.length, 2, 'both instantiations changed');
        assertNothingElse(report, { functions: ['demo::generic'] });
      } else {
        // The optimiser may inline both instantiations into their only caller.
        const inlined = names(report.functions.changed).includes('demo::use_generics');
        assert.ok(instantiations.length === 2 || inlined, `changed: ${names(report.functions.changed)}`);
        assertNothingElse(report, { functions: ['demo::generic', 'demo::use_generics'] });
      }
    });

    test('changing a trait method reached through dyn Trait', async () => {
      const report = await changeTo(edit(DEMO_CRATE, 'self.0 * self.0 }', 'self.0 * self.0 + 1 }'));
      assert.deepEqual(names(report.functions.changed), ['<demo::Square as demo::Shape>::area']);
      assertNothingElse(report, { functions: ['<demo::Square as demo::Shape>::area'] });
    });

    test('adding a closure', async () => {
      const report = await changeTo(edit(DEMO_CRATE, '.map(|v| v + 1).collect()', '.map(|v| v + 1).filter(|v| *v > 2).collect()'));
      assert.ok(names(report.functions.changed).includes('demo::apply'), 'apply changed');
      const closures = names(report.functions.added).filter((name) => name.startsWith('demo::apply::{'));
      // Optimised builds inline closures into the iterator code that calls them.
      if (profile === 'debug') assert.equal(closures.length, 1, `one new closure: ${names(report.functions.added)}`);
      for (const entry of [...report.functions.changed, ...report.functions.added]) {
        assert.ok(entry.name.startsWith('demo::apply') || !entry.name.startsWith('demo::'), `unrelated change: ${entry.name}`);
      }
      // Instantiations of std's iterator adapters for the old chain may go; none of the crate's own items do.
      assert.deepEqual(report.functions.removed.filter((entry) => entry.name.startsWith('demo::')), []);
    });

    test('changing the initializer of a static', async () => {
      const report = await changeTo(edit(DEMO_CRATE, 'AtomicU64::new(0)', 'AtomicU64::new(5)'));
      assert.deepEqual(names(report.data.changed), ['demo::TICKS']);
      assertNothingElse(report, { data: ['demo::TICKS'] });
    });

    test('changing the initializer of a static mut', async () => {
      const report = await changeTo(edit(DEMO_CRATE, 'MODE: u32 = 1', 'MODE: u32 = 2'));
      assert.deepEqual(names(report.data.changed), ['demo::MODE']);
      assertNothingElse(report, { data: ['demo::MODE'] });
    });

    test('adding a thread_local!', async () => {
      const report = await changeTo(
        edit(DEMO_CRATE, '// end', 'thread_local! { pub static LOCAL: std::cell::Cell<u32> = const { std::cell::Cell::new(7) }; } pub fn local() -> u32 { LOCAL.get() }'),
      );
      assert.ok(names(report.functions.added).includes('demo::local'), `local() added: ${names(report.functions.added)}`);
      const added = [...names(report.data.added), ...names(report.functions.added)];
      assert.ok(added.some((name) => name.includes('LOCAL')), `the thread local is reported: ${added}`);
      assert.deepEqual(report.functions.changed, []);
      assert.deepEqual(report.data.changed, []);
    });
  });
}
