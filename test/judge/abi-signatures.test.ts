/**
 * The signature judge for v0 symbols, on real rustc builds: a function whose
 * signature changes keeps its v0 symbol, so neither the legacy signature
 * judge (same path, new hash) nor the vtable judge (new symbols in slots)
 * sees it, and the debug info must tell. Every edit starts from the same
 * base build, as a running process would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Diff, diffObjects } from '../../src/diff/compare.js';
import { judgeAbiSignatures } from '../../src/judge/abi-signatures.js';
import { judgeSignatures } from '../../src/judge/signatures.js';
import type { Verdict } from '../../src/judge/verdict.js';
import { judgeVtables } from '../../src/judge/vtables.js';
import type { ObjectFile } from '../../src/object/model.js';
import { readObjectPath } from '../../src/object/read.js';
import { X86_64_LINUX } from '../../src/targets/x86_64-linux.js';
import { edit } from '../support/demo-crate.js';
import { ScratchCrate } from '../support/rustc.js';
import { fullText } from '../../src/judge/verdict.js';

const V0 = ['-C', 'symbol-mangling-version=v0'];

const ABI_CRATE = `pub trait Shape { fn area(&self) -> u64; }
pub struct Square(pub u64);
impl Shape for Square { fn area(&self) -> u64 { self.0 * self.0 } }
pub fn shapes() -> Vec<Box<dyn Shape>> { vec![Box::new(Square(3))] }
pub fn total(shapes: &[Box<dyn Shape>]) -> u64 { shapes.iter().map(|s| s.area()).sum() }
#[inline(never)] pub fn twice(x: u64) -> u64 { x * 2 }
pub fn handler() -> fn(u64) -> u64 { twice }
#[inline(never)] fn plain(x: u64) -> u64 { x + 1 }
pub fn use_plain() -> u64 { plain(1) }
#[inline(never)] fn helper(x: u64) -> u64 { x + 1 }
pub fn call_with<T: Into<u64>>(v: T) -> u64 { helper(v.into()) }
pub static JOBS: &[fn(u32) -> u64] = &[call_with::<u32>];
#[inline(never)] pub fn exported(x: u64) -> u64 { x + 5 }
pub fn use_exported() -> u64 { exported(1) }
`;

/** `twice` (whose address `handler` takes) gains a parameter. */
const TWICE_SIGNATURE: readonly (readonly [string, string])[] = [
  ['fn twice(x: u64) -> u64 { x * 2 }', 'fn twice(x: u64, y: u64) -> u64 { x * y }'],
  ['fn handler() -> fn(u64) -> u64', 'fn handler() -> fn(u64, u64) -> u64'],
];
/** The trait method `area`, called through `dyn Shape`, gains a parameter. */
const AREA_SIGNATURE: readonly (readonly [string, string])[] = [
  ['fn area(&self) -> u64;', 'fn area(&self, scale: u64) -> u64;'],
  ['fn area(&self) -> u64 { self.0 * self.0 }', 'fn area(&self, scale: u64) -> u64 { self.0 * scale }'],
  ['s.area()', 's.area(2)'],
];
/** `plain`, private, gains a parameter, and its only caller (a direct call) was recompiled with it. */
const PLAIN_SIGNATURE: readonly (readonly [string, string])[] = [
  ['fn plain(x: u64) -> u64 { x + 1 }', 'fn plain(x: u64, y: u64) -> u64 { x + y }'],
  ['plain(1)', 'plain(1, 2)'],
];
/**
 * `helper` gains a parameter, and its caller `call_with::<u32>` is gone from
 * the new build (`call_with::<u16>` replaces it), while a table made before
 * the edit still points at it: that old code keeps calling `helper` the old way.
 */
const HELPER_SIGNATURE: readonly (readonly [string, string])[] = [
  ['fn helper(x: u64) -> u64 { x + 1 }', 'fn helper(x: u64, y: u64) -> u64 { x + y }'],
  ['helper(v.into())', 'helper(v.into(), 2)'],
  ['&[fn(u32) -> u64] = &[call_with::<u32>]', '&[fn(u16) -> u64] = &[call_with::<u16>]'],
];
const TWICE_BODY: readonly (readonly [string, string])[] = [['x * 2 }', 'x * 3 }']];
/**
 * The `pub` function `exported` gains a parameter, and its only caller was
 * recompiled with it. Its crate calls it through the GOT (`call
 * *exported@GOTPCREL(%rip)`): a call, not a taken address.
 */
const EXPORTED_SIGNATURE: readonly (readonly [string, string])[] = [
  ['fn exported(x: u64) -> u64 { x + 5 }', 'fn exported(x: u64, y: u64) -> u64 { x + y }'],
  ['exported(1)', 'exported(1, 5)'],
];

function applyEdits(source: string, edits: readonly (readonly [string, string])[]): string {
  return edits.reduce((text, [from, to]) => edit(text, from, to), source);
}

function changedFunctions(diff: Diff): string[] {
  return [...new Set(diff.report.functions.changed.map((entry) => entry.name))].sort();
}

function judge(diff: Diff): Verdict[] {
  return judgeAbiSignatures({ crate: 'demo', diff }, X86_64_LINUX);
}

describe('signature changes under v0 symbols', () => {
  let crate: ScratchCrate;
  let base: ObjectFile[];

  before(async () => {
    crate = await ScratchCrate.create('ipbp-abi-');
    base = await readObjectPath(await crate.build(ABI_CRATE, { flags: V0 }));
  });
  after(async () => crate.remove());

  async function diffTo(edits: readonly (readonly [string, string])[], flags: readonly string[] = V0, from = base): Promise<Diff> {
    return diffObjects(from, await readObjectPath(await crate.build(applyEdits(ABI_CRATE, edits), { flags })));
  }

  test('the base build uses v0 symbols', () => {
    const symbols = base.flatMap((object) => object.symbols.map((symbol) => symbol.name));
    assert.ok(symbols.some((name) => /^_RNvCs[0-9A-Za-z_]+_4demo5twice$/.test(name)), 'demo::twice has a v0 symbol');
  });

  test('a changed signature of a function whose address is taken restarts, with both signatures; the other judges see nothing', async () => {
    const diff = await diffTo(TWICE_SIGNATURE);
    assert.ok(changedFunctions(diff).includes('demo::twice'), `the v0 symbol stays, so twice is reported changed: ${changedFunctions(diff)}`);
    const verdicts = judge(diff);
    assert.deepEqual(
      verdicts.map((verdict) => [verdict.action, verdict.judge]),
      [['restart', 'abi-signatures']],
    );
    assert.match(fullText(verdicts[0]!), /^`demo::twice` changed its signature \(fn\(u64\) -> u64 → fn\(u64, u64\) -> u64\), and the old build takes its address: a function pointer stored before the edit/);
    // What this judge is for: the legacy judges look for new symbols, and v0 makes none.
    assert.deepEqual(judgeSignatures(diff, [], X86_64_LINUX), []);
    assert.deepEqual(judgeVtables(diff, [], X86_64_LINUX), []);
  });

  test('a body-only change of the same function gives no verdict', async () => {
    const diff = await diffTo(TWICE_BODY);
    assert.deepEqual(changedFunctions(diff), ['demo::twice']);
    assert.deepEqual(judge(diff), []);
  });

  test('a changed signature whose every caller was recompiled, and whose address is not taken, gives no verdict', async () => {
    const diff = await diffTo(PLAIN_SIGNATURE);
    assert.deepEqual(changedFunctions(diff), ['demo::plain', 'demo::use_plain']);
    assert.deepEqual(judge(diff), []);
  });

  test('a trait method whose signature changed restarts: trait objects made before the edit keep its vtable', async () => {
    const diff = await diffTo(AREA_SIGNATURE);
    assert.ok(changedFunctions(diff).includes('<demo::Square as demo::Shape>::area'), `area keeps its symbol: ${changedFunctions(diff)}`);
    const verdicts = judge(diff);
    assert.equal(verdicts.length, 1, verdicts.map((verdict) => verdict.reason).join('\n'));
    assert.equal(verdicts[0]!.action, 'restart');
    assert.match(
      fullText(verdicts[0]!),
      /^`<demo::Square as demo::Shape>::area` changed its signature \(fn\(&demo::Square\) -> u64 → fn\(&demo::Square, u64\) -> u64\), and it is a method in a `dyn` vtable: trait objects created before the edit/,
    );
    // The vtable's slots keep their symbols under v0, so the vtable judge has nothing to compare.
    assert.deepEqual(judgeVtables(diff, [], X86_64_LINUX), []);
  });

  test('a changed signature that a caller the new build no longer has still reaches restarts', async () => {
    const diff = await diffTo(HELPER_SIGNATURE);
    const removed = diff.report.functions.removed.map((entry) => entry.name);
    assert.ok(removed.includes('demo::call_with::<u32>'), `the old instantiation is gone: ${removed}`);
    const verdicts = judge(diff);
    assert.deepEqual(
      verdicts.map(fullText),
      [
        '`demo::helper` changed its signature (fn(u64) -> u64 → fn(u64, u64) -> u64), and code built for the old one still calls it: `demo::call_with::<u32>` was made for the old signature; the edit replaced it, but what ran before it still reaches it, and it would call the new code with the old arguments',
      ],
    );
  });

  test('several signature changes in one edit: one verdict for each unsafe one, none for the safe one', async () => {
    const verdicts = judge(await diffTo([...TWICE_SIGNATURE, ...AREA_SIGNATURE, ...PLAIN_SIGNATURE]));
    const named = verdicts.map((verdict) => /^`([^`]+)`/.exec(verdict.reason)?.[1]).sort();
    assert.deepEqual(named, ['<demo::Square as demo::Shape>::area', 'demo::twice']);
  });

  test('without debug info a v0 crate gets a note, never a silent pass', async () => {
    const noDebug = [...V0, '-C', 'debuginfo=0'];
    const stripped = await readObjectPath(await crate.build(ABI_CRATE, { flags: noDebug }, 'incremental-nodebug'));
    const verdicts = judge(await diffTo(TWICE_SIGNATURE, noDebug, stripped));
    assert.deepEqual(
      verdicts.map((verdict) => [verdict.action, verdict.judge]),
      [['note', 'abi-signatures']],
    );
    assert.match(verdicts[0]!.reason, /^demo uses v0 symbol mangling, .* no debug info .*, so signature changes cannot be detected/);
  });

  test('legacy symbols are left to the legacy judge, which still restarts a taken function', async () => {
    const legacyBase = await readObjectPath(await crate.build(ABI_CRATE, {}, 'incremental-legacy'));
    const diff = await diffTo(TWICE_SIGNATURE, [], legacyBase);
    assert.deepEqual(changedFunctions(diff).includes('demo::twice'), false, 'the legacy hash changed: twice is removed and added');
    assert.deepEqual(judge(diff), []);
    const legacy = judgeSignatures(diff, [], X86_64_LINUX);
    assert.deepEqual(
      legacy.map(fullText),
      ["`demo::twice` changed its signature, and the old version's address was taken: a function pointer stored before the edit would still call the old code"],
    );
    // Without debug info a legacy crate needs no note: its symbols tell.
    const stripped = await readObjectPath(await crate.build(ABI_CRATE, { flags: ['-C', 'debuginfo=0'] }, 'incremental-legacy-nodebug'));
    assert.deepEqual(judge(await diffTo(TWICE_BODY, ['-C', 'debuginfo=0'], stripped)), []);
  });

  test('a `pub` function its crate calls through the GOT is called, not taken: its new signature needs no restart, under either mangling', async () => {
    const v0 = await diffTo(EXPORTED_SIGNATURE);
    assert.ok(changedFunctions(v0).includes('demo::exported'), `exported keeps its v0 symbol: ${changedFunctions(v0)}`);
    assert.deepEqual(judge(v0), []);
    const legacyBase = await readObjectPath(await crate.build(ABI_CRATE, {}, 'incremental-legacy-exported'));
    const legacy = await diffTo(EXPORTED_SIGNATURE, [], legacyBase);
    assert.ok(
      legacy.report.functions.removed.some((entry) => entry.name === 'demo::exported'),
      'the legacy hash changed: the old exported is removed',
    );
    assert.deepEqual(judgeSignatures(legacy, [], X86_64_LINUX), []);
  });
});
