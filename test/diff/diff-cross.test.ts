import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type ChangeGroup, type DiffReport, diffObjects } from '../../src/diff/compare.js';
import type { ObjectFile } from '../../src/object/model.js';
import { readObjects } from '../../src/object/read.js';
import { repositoryUrl } from '../support/repository.js';

// The objects are committed; test/fixtures/diff-cross/make.sh regenerates them
// with rustc +nightly, which the tests do not need. Each variant edits one
// line of base.rs; every object was compiled from the same path and crate name.
const FIXTURES = repositoryUrl('test/fixtures/diff-cross/');
const TARGETS = ['x86_64-apple-darwin', 'aarch64-apple-darwin', 'aarch64-unknown-linux-gnu'] as const;
const OPT_LEVELS = [
  { label: 'opt-level=0', suffix: '' },
  { label: 'opt-level=2', suffix: '-O2' },
] as const;

type Variant = 'base' | 'base-again' | 'body' | 'literal' | 'static' | 'added' | 'removed';

/** Names the report must hold, per list; every list not given must be empty. */
interface Expected {
  readonly functions?: Partial<Record<keyof ChangeGroup, string[]>>;
  readonly data?: Partial<Record<keyof ChangeGroup, string[]>>;
}

const EXPECTED: Record<Exclude<Variant, 'base'>, Expected> = {
  'base-again': {},
  // `middle(COUNTER)` becomes `leaf(COUNTER)`: at opt-level=0 only the call's target differs.
  body: { functions: { changed: ['cross::bump'] } },
  // The literal is an anonymous constant, identified by content through its one user.
  literal: { functions: { changed: ['cross::label'] } },
  static: { data: { changed: ['cross::LIMIT'] } },
  // The new nested function lands last in x86_64 Mach-O's `__text`, giving `outer::helper` trailing padding.
  added: { functions: { added: ['cross::brand_new', 'cross::brand_new::step'] } },
  removed: { functions: { removed: ['cross::spare'] } },
};

const ALL_FUNCTIONS = [
  'cross::bump',
  'cross::entry',
  'cross::label',
  'cross::leaf',
  'cross::limit_address',
  'cross::middle',
  'cross::outer',
  'cross::outer::helper',
  'cross::spare',
];

function load(target: string, variant: Variant, suffix: string): ObjectFile[] {
  const file = `${target}/${variant}${suffix}.o`;
  return readObjects(file, new Uint8Array(readFileSync(new URL(file, FIXTURES))));
}

function names(list: ReadonlyArray<{ name: string }>): string[] {
  return [...new Set(list.map((entry) => entry.name))].sort();
}

/** The whole report as names, so a failure shows everything that was reported. */
function summary(report: DiffReport): Expected {
  const group = (changes: ChangeGroup) => ({ changed: names(changes.changed), added: names(changes.added), removed: names(changes.removed) });
  return { functions: group(report.functions), data: group(report.data) };
}

function complete(expected: Expected): Expected {
  const group = (lists: Expected['functions']) => ({ changed: lists?.changed ?? [], added: lists?.added ?? [], removed: lists?.removed ?? [] });
  return { functions: group(expected.functions), data: group(expected.data) };
}

for (const target of TARGETS) {
  for (const { label, suffix } of OPT_LEVELS) {
    describe(`diff of ${target} objects (${label})`, () => {
      const base = load(target, 'base', suffix);

      test('the reader finds every function and static by its demangled name', () => {
        // Diffing against nothing reports each named item as removed.
        const report = diffObjects(base, []).report;
        assert.deepEqual(names(report.functions.removed), ALL_FUNCTIONS);
        assert.deepEqual(names(report.data.removed), ['cross::COUNTER', 'cross::LIMIT']);
      });

      for (const [variant, expected] of Object.entries(EXPECTED) as Array<[Exclude<Variant, 'base'>, Expected]>) {
        test(`base against ${variant}`, () => {
          const report = diffObjects(base, load(target, variant, suffix)).report;
          assert.deepEqual(summary(report), complete(expected));
        });
      }
    });
  }
}
