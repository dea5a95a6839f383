/**
 * Type layouts read from the DWARF of real rustc builds (16 incremental
 * codegen units, as `cargo build` makes them), compared across edits. One
 * edited build carries every edit at once (each edit touches its own types),
 * so the whole file needs a handful of rustc runs; the last test checks that
 * nothing beyond the expected types is reported.
 *
 * Corrupt inputs run in a worker thread, so a parse stuck in a loop fails the
 * test after a time limit instead of hanging it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { compareLayouts, DebugInfoError, describeLayoutChange, type LayoutChange, readTypeLayouts, type TypeLayout } from '../../src/debuginfo/index.js';
import type { ObjectFile, Section } from '../../src/object/model.js';
import { readObjectPath } from '../../src/object/read.js';
import { judgeLayouts, type LayoutJudgement } from '../../src/judge/type-layouts.js';
import { edit } from '../support/demo-crate.js';
import { ScratchCrate } from '../support/rustc.js';

const LAYOUT_CRATE = `pub struct Counter { pub hits: u64, pub misses: u32 }
pub struct Holder { pub counter: Counter, pub tag: u8 }
pub struct Listed { pub items: Vec<Counter> }
#[inline(never)] pub fn use_counter(c: Counter, o: Option<Counter>, h: Holder, l: Listed) -> u64 { c.hits + o.map(|c| c.hits).unwrap_or(0) + h.tag as u64 + l.items.len() as u64 }
pub struct Reading { pub value: f32, pub id: u16 }
#[inline(never)] pub fn use_reading(r: Reading) -> u16 { r.id }
#[repr(C)] pub struct Swapped { pub a: u32, pub b: u32 }
pub struct Sorted { pub wide: u64, pub narrow: u8 }
pub struct Shrinking { pub keep: u64, pub gone: u32 }
#[inline(never)] pub fn use_fields(s: Swapped, t: Sorted, u: Shrinking) -> u64 { s.a as u64 + t.narrow as u64 + u.keep }
pub enum Message { Quit, Move { x: i32, y: i32 } }
pub enum Payload { Int(u32), Text(u8) }
#[derive(Clone, Copy)] pub enum Level { Low = 1, High = 2 }
#[inline(never)] pub fn use_enums(m: Message, p: Payload, l: Level) -> i64 { (match m { Message::Move { x, .. } => x as i64, _ => 0 }) + (match p { Payload::Int(v) => v as i64, Payload::Text(t) => t as i64 }) + l as i64 }
pub struct Unit { pub v: u16 }
pub struct Wrapper<T> { pub inner: T, pub flag: bool }
#[inline(never)] pub fn use_wrapper(w: Wrapper<Unit>) -> bool { w.flag }
#[repr(align(8))] pub struct Aligned { pub v: u32 }
pub struct AlignedHolder { pub aligned: Aligned, pub n: u8 }
#[inline(never)] pub fn use_aligned(a: AlignedHolder) -> u8 { a.n }
#[inline(never)] pub fn closures(k: u64, s: &str) -> u64 { let first = move |x: u64| x + k; first(s.len() as u64) }
#[inline(never)] pub fn capturing(a: u64, b: u32) -> u64 { let c = move || a + 1; c() + b as u64 }
#[inline(never)] pub fn body() -> u64 { 1 }
`;

/** Every edit at once; each touches only the types its test looks at. */
const LAYOUT_EDITS: readonly (readonly [string, string])[] = [
  ['pub misses: u32 }', 'pub misses: u32, pub extra: u64 }'],
  ['pub value: f32', 'pub value: u32'],
  ['pub a: u32, pub b: u32', 'pub b: u32, pub a: u32'],
  ['pub wide: u64, pub narrow: u8', 'pub narrow: u8, pub wide: u64'],
  ['pub keep: u64, pub gone: u32 }', 'pub keep: u64 }'],
  ['Move { x: i32, y: i32 } }', 'Move { x: i32, y: i32 }, Write(u64) }'],
  ['Int(u32)', 'Int(u64)'],
  ['High = 2', 'High = 4'],
  ['pub v: u16', 'pub v: u64'],
  ['align(8)', 'align(16)'],
  ['let first = move', 'let zero = move |x: u64| x * s.len() as u64; let first = move'],
  ['first(s.len() as u64)', 'first(zero(2))'],
  ['move || a + 1', 'move || a + b as u64'],
];

function applyEdits(source: string, edits: readonly (readonly [string, string])[]): string {
  return edits.reduce((text, [from, to]) => edit(text, from, to), source);
}

function changeOf(changes: readonly LayoutChange[], type: string): LayoutChange {
  const change = changes.find((c) => c.type === type);
  assert.ok(change, `expected a change of ${type}, found: ${changes.map((c) => c.type).join(', ')}`);
  return change;
}

function section(object: ObjectFile, name: string): Section | undefined {
  return object.sections.find((s) => s.name === name);
}

/** A copy of `object` with some sections' contents replaced, or hidden under another name (undefined). */
function withSections(object: ObjectFile, replace: Record<string, Uint8Array | undefined>): ObjectFile {
  const sections = object.sections.flatMap((s): Section[] => {
    if (!(s.name in replace)) return [s];
    const data = replace[s.name];
    return data ? [{ ...s, data, size: data.byteLength }] : [{ ...s, name: `${s.name}.removed`, data: new Uint8Array(0), size: 0 }];
  });
  return { ...object, sections };
}

function expectDebugInfoError(object: ObjectFile, pattern: RegExp): void {
  assert.throws(
    () => readTypeLayouts([object]),
    (error: unknown) => {
      assert.ok(error instanceof DebugInfoError, `expected a DebugInfoError, got ${String(error)}`);
      assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
      assert.ok(error.message.startsWith(object.path), `names the object: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

/** The object with the least debug info: the quickest to fuzz and to mutate by hand. */
function smallestDebugObject(objects: readonly ObjectFile[]): ObjectFile {
  const withInfo = objects.filter((o) => (section(o, '.debug_info')?.size ?? 0) > 0);
  const smallest = withInfo.sort((a, b) => section(a, '.debug_info')!.size - section(b, '.debug_info')!.size)[0];
  assert.ok(smallest, 'some object has debug info');
  return smallest;
}

function largestDebugObject(objects: readonly ObjectFile[]): ObjectFile {
  return [...objects].sort((a, b) => (section(b, '.debug_info')?.size ?? 0) - (section(a, '.debug_info')?.size ?? 0))[0]!;
}

const FUZZ_TIME_LIMIT_MS = 60_000;
const FUZZ_RUNS = 1_500;
const FUZZ_SECTIONS = ['.debug_info', '.debug_abbrev', '.debug_str', '.debug_str_offsets', '.rela.debug_info'];

interface FuzzRequest {
  readonly debugInfoFuzz: { readonly rlibs: readonly string[]; readonly runs: number };
}

/** Worker side: random byte flips in the debug sections never raise anything but DebugInfoError. */
async function fuzzInWorker(request: FuzzRequest['debugInfoFuzz']): Promise<string> {
  // The smallest object of each build, and the largest (the one with the crate's own types).
  const targets: ObjectFile[] = [];
  for (const rlib of request.rlibs) {
    const objects = await readObjectPath(rlib);
    targets.push(smallestDebugObject(objects), largestDebugObject(objects));
  }
  let rejected = 0;
  fc.assert(
    fc.property(
      fc.nat({ max: targets.length - 1 }),
      fc.constantFrom(...FUZZ_SECTIONS),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
      (targetIndex, name, flips) => {
        const object = targets[targetIndex]!;
        const original = section(object, name);
        if (!original || original.data.byteLength === 0) return;
        const data = new Uint8Array(original.data);
        for (const [at, mask] of flips) data[at % data.byteLength]! ^= mask;
        try {
          readTypeLayouts([withSections(object, { [name]: data })]);
        } catch (error) {
          if (!(error instanceof DebugInfoError) || error.message.includes('\n')) throw error;
          rejected++;
        }
      },
    ),
    { numRuns: request.runs },
  );
  return `${rejected} of ${request.runs} mutations were rejected with DebugInfoError`;
}

if (!isMainThread && (workerData as Partial<FuzzRequest> | undefined)?.debugInfoFuzz) {
  const request = (workerData as FuzzRequest).debugInfoFuzz;
  fuzzInWorker(request).then(
    (summary) => parentPort!.postMessage({ ok: true, summary }),
    (error: unknown) => parentPort!.postMessage({ ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
}

function runFuzzWorker(request: FuzzRequest['debugInfoFuzz']): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { debugInfoFuzz: request } satisfies FuzzRequest });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the fuzzed reads did not finish within ${FUZZ_TIME_LIMIT_MS} ms: a parse is stuck`));
    }, FUZZ_TIME_LIMIT_MS);
    worker.once('message', (result: { ok: boolean; summary?: string; message?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (result.ok) resolve(result.summary ?? '');
      else reject(new Error(result.message));
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

if (isMainThread) {
  describe('type layouts from the DWARF of real rustc builds', () => {
    let crate: ScratchCrate;
    let baseRlib: string;
    let base: ObjectFile[];
    let baseLayouts: Map<string, TypeLayout>;
    let edited: Map<string, TypeLayout>;
    let changes: LayoutChange[];

    before(async () => {
      crate = await ScratchCrate.create('ipbp-debuginfo-');
      baseRlib = await crate.build(LAYOUT_CRATE);
      base = await readObjectPath(baseRlib);
      baseLayouts = readTypeLayouts(base).layouts;
      edited = readTypeLayouts(await readObjectPath(await crate.build(applyEdits(LAYOUT_CRATE, LAYOUT_EDITS)))).layouts;
      changes = compareLayouts(baseLayouts, edited);
    });
    after(async () => crate.remove());

    test('a field added to a struct is a root change naming the struct, its size and the field', () => {
      const change = changeOf(changes, 'demo::Counter');
      assert.equal(change.root, true);
      assert.match(change.detail, /^size 16 -> 24; field `extra: u64` added at offset \d+/);
      assert.match(describeLayoutChange(change), /^layout of `demo::Counter` changed \(size 16 -> 24; field `extra: u64` added/);
    });

    test('types holding it by value change through it; a Vec of it does not change', () => {
      const holder = changeOf(changes, 'demo::Holder');
      assert.equal(holder.root, false);
      assert.match(holder.detail, /size 24 -> 32; field `tag` moved from offset 16 to 24/);
      const option = changeOf(changes, 'core::option::Option<demo::Counter>');
      assert.equal(option.root, false);
      assert.match(option.detail, /size 24 -> 32/);
      assert.match(describeLayoutChange(option), /because a type it contains changed/);
      assert.ok(baseLayouts.has('alloc::vec::Vec<demo::Counter, alloc::alloc::Global>'), 'the Vec is described in the debug info');
      const vecs = changes.filter((c) => c.type.includes('Vec<demo::Counter') || c.type === 'demo::Listed');
      assert.deepEqual(vecs, []);
    });

    test('a field whose type changed at the same size is a root change', () => {
      const change = changeOf(changes, 'demo::Reading');
      assert.equal(change.root, true);
      assert.equal(change.detail, 'field `value` changed type from f32 to u32');
    });

    test('reordered fields are judged by the offsets rustc gives them; a removed field is reported', () => {
      const swapped = changeOf(changes, 'demo::Swapped');
      assert.equal(swapped.root, true);
      assert.equal(swapped.detail, 'field `a` moved from offset 0 to 4; field `b` moved from offset 4 to 0');
      // rustc places `wide` first whatever the source order, so this reordering moves nothing.
      const offsets = (layouts: Map<string, TypeLayout>): string[] => layouts.get('demo::Sorted')!.members.map((m) => `${m.name}@${m.offset}`).sort();
      assert.deepEqual(offsets(edited), offsets(baseLayouts));
      assert.deepEqual(edited.get('demo::Sorted')!.members.map((m) => m.name), ['narrow', 'wide'], 'the declaration order did change');
      assert.equal(changes.find((c) => c.type === 'demo::Sorted'), undefined);
      const shrinking = changeOf(changes, 'demo::Shrinking');
      assert.equal(shrinking.root, true);
      assert.equal(shrinking.detail, 'size 16 -> 8; field `gone` removed');
    });

    test('an enum variant added, a variant payload changed, C-like discriminants changed', () => {
      const message = changeOf(changes, 'demo::Message');
      assert.equal(message.root, true);
      assert.match(message.detail, /variant `Write` added/);
      const payload = changeOf(changes, 'demo::Payload');
      assert.equal(payload.root, true);
      assert.match(payload.detail, /variant `Int`: field `__0` changed type from u32 to u64/);
      const level = changeOf(changes, 'demo::Level');
      assert.equal(level.root, true);
      assert.equal(level.detail, 'enumerator `High` value 2 -> 4');
      // Payload structs are part of their enum's report, not reports of their own.
      assert.deepEqual(changes.filter((c) => /^demo::(Message|Payload)::/.test(c.type)), []);
    });

    test('a closure added before another renumbers it without a change; changed captures are reported', () => {
      // The scenario is real: the existing closure is #1 after the edit, and #0 is a different one.
      assert.deepEqual(edited.get('demo::closures::{closure_env#1}')?.members.map((m) => m.name), ['k']);
      assert.deepEqual(edited.get('demo::closures::{closure_env#0}')?.members.map((m) => m.name), ['s']);
      assert.deepEqual(changes.filter((c) => c.type.startsWith('demo::closures::')), []);
      const capture = changeOf(changes, 'demo::capturing::{closure_env#0}');
      assert.equal(capture.root, true);
      assert.equal(capture.detail, 'captures of a closure in `demo::capturing` changed (size 8 -> 16; field `b: u32` added at offset 8)');
      assert.equal(describeLayoutChange(capture), capture.detail);
    });

    test('a generic struct instantiated with a changed type parameter changes through it', () => {
      assert.equal(changeOf(changes, 'demo::Unit').root, true);
      const wrapper = changeOf(changes, 'demo::Wrapper<demo::Unit>');
      assert.equal(wrapper.root, false);
      assert.match(wrapper.detail, /field `flag` moved from offset 2 to 8/);
    });

    test('a changed #[repr(align)] is a root change even though no field changed', () => {
      const aligned = changeOf(changes, 'demo::Aligned');
      assert.equal(aligned.root, true);
      assert.equal(aligned.detail, 'size 8 -> 16; alignment 8 -> 16');
      assert.equal(changeOf(changes, 'demo::AlignedHolder').root, false);
    });

    test('nothing else is reported', () => {
      const expected = [
        'core::option::Option<demo::Counter>',
        'demo::Aligned',
        'demo::AlignedHolder',
        'demo::Counter',
        'demo::Holder',
        'demo::Level',
        'demo::Message',
        'demo::Payload',
        'demo::Reading',
        'demo::Shrinking',
        'demo::Swapped',
        'demo::Unit',
        'demo::Wrapper<demo::Unit>',
        'demo::capturing::{closure_env#0}',
      ];
      assert.deepEqual(changes.map((c) => c.type).sort(), expected.sort());
      // Roots come first.
      assert.deepEqual(changes.map((c) => c.root), [...changes.map((c) => c.root)].sort((a, b) => Number(b) - Number(a)));
    });

    test('an identical rebuild and a body-only edit change no layout', async () => {
      assert.ok(baseLayouts.has('demo::Counter') && baseLayouts.size > 20, `the base build has layouts (${baseLayouts.size})`);
      const rebuilt = readTypeLayouts(await readObjectPath(await crate.build(LAYOUT_CRATE, {}, 'incremental-fresh')));
      assert.deepEqual(compareLayouts(baseLayouts, rebuilt.layouts), []);
      const body = readTypeLayouts(await readObjectPath(await crate.build(edit(LAYOUT_CRATE, 'fn body() -> u64 { 1 }', 'fn body() -> u64 { 7 }'))));
      assert.deepEqual(compareLayouts(baseLayouts, body.layouts), []);
    });

    test('DWARF 5 in one codegen unit reads the same layouts as DWARF 4 in sixteen', async () => {
      const objects = await readObjectPath(await crate.build(LAYOUT_CRATE, { flags: ['-C', 'dwarf-version=5', '-C', 'codegen-units=1'] }, 'incremental-dwarf5'));
      assert.ok(objects.some((o) => section(o, '.debug_str_offsets')), 'DWARF 5 output (string offsets table)');
      assert.ok(!base.some((o) => section(o, '.debug_str_offsets')), 'the default is DWARF 4');
      const dwarf5 = readTypeLayouts(objects);
      assert.equal(dwarf5.objectsWithDebugInfo, 1);
      for (const [name, layout] of baseLayouts) {
        if (name.startsWith('demo::')) assert.deepEqual(dwarf5.layouts.get(name), layout, name);
      }
      assert.deepEqual(compareLayouts(dwarf5.layouts, edited), changes);
    });

    test('objects without debug info are counted out', async () => {
      assert.ok(readTypeLayouts(base).objectsWithDebugInfo > 1, 'the debug build has several objects with debug info');
      const strippedObjects = await readObjectPath(await crate.build(LAYOUT_CRATE, { flags: ['-C', 'debuginfo=0'] }, 'incremental-nodebug'));
      const stripped = { ...readTypeLayouts(strippedObjects), objects: strippedObjects };
      assert.equal(stripped.objectsWithDebugInfo, 0);
      assert.equal(stripped.layouts.size, 0);
      // What `ipbp run` makes of it: an unchecked crate, said once, never a silent pass.
      const verdict = judgeLayouts([{ crate: 'demo', before: stripped.objects, after: stripped.objects }], true);
      assert.match(notesOf(verdict).join('\n'), /^demo has no debug info in its objects, so type layout changes cannot be detected/);
      assert.deepEqual(notesOf(judgeLayouts([{ crate: 'demo', before: base, after: base }], true)), []);
      // Split DWARF leaves skeleton units in the objects, and the types elsewhere: unchecked too.
      const split = await readObjectPath(await crate.build(LAYOUT_CRATE, { flags: ['-C', 'split-debuginfo=unpacked'] }, 'incremental-split'));
      assert.ok(split.some((object) => section(object, '.debug_info')), 'the split objects still carry a .debug_info (skeletons)');
      assert.equal(notesOf(judgeLayouts([{ crate: 'demo', before: split, after: split }], true)).length, 1);
      // Limited debug info (functions and lines, no types) would pass every check reading nothing: unchecked too.
      const limited = await readObjectPath(await crate.build(LAYOUT_CRATE, { flags: ['-C', 'debuginfo=1'] }, 'incremental-limited'));
      assert.ok(readTypeLayouts(limited).objectsWithDebugInfo > 0, 'the limited objects have full units');
      assert.equal(readTypeLayouts(limited).typesRead, 0, 'and describe no type');
      assert.match(notesOf(judgeLayouts([{ crate: 'demo', before: limited, after: limited }], true)).join('\n'), /^demo has no debug info in its objects, so type layout changes cannot be detected/);
    });

    test('truncated .debug_info is a one-line DebugInfoError', () => {
      const object = smallestDebugObject(base);
      const info = section(object, '.debug_info')!.data;
      // With its relocations the truncation shows as a relocation outside the section ...
      expectDebugInfoError(withSections(object, { '.debug_info': info.subarray(0, info.byteLength >> 1) }), /\.rela\.debug_info.*outside \.debug_info/);
      // ... and without them as a unit running past the end.
      expectDebugInfoError(withSections(object, { '.debug_info': info.subarray(0, info.byteLength >> 1), '.rela.debug_info': undefined }), /\.debug_info at offset 0x0: unit length: .*runs past the end/);
    });

    test('corrupt abbreviations and offsets are one-line DebugInfoErrors', () => {
      const object = smallestDebugObject(base);
      const abbrev = section(object, '.debug_abbrev')!.data;
      assert.deepEqual([abbrev[0], abbrev[1]], [1, 0x11], 'abbreviation 1 is the compile unit');
      const emptied = new Uint8Array(abbrev);
      emptied[0] = 0; // the table ends before its first entry
      expectDebugInfoError(withSections(object, { '.debug_abbrev': emptied }), /unknown abbreviation code 1$/);
      const badForm = new Uint8Array(abbrev);
      badForm[4] = 0x7f; // the form of the compile unit's first attribute
      expectDebugInfoError(withSections(object, { '.debug_abbrev': badForm }), /unknown form 0x7f$/);
      const info = new Uint8Array(section(object, '.debug_info')!.data);
      new DataView(info.buffer).setUint32(6, 0xffffff, true); // DWARF 4 header: the abbreviation table offset
      expectDebugInfoError(withSections(object, { '.debug_info': info, '.rela.debug_info': undefined }), /abbreviation table offset.*lies outside \.debug_abbrev/);
    });

    test('random byte flips in debug sections raise only DebugInfoError, and end', { timeout: FUZZ_TIME_LIMIT_MS + 10_000 }, async () => {
      const summary = await runFuzzWorker({ rlibs: [baseRlib], runs: FUZZ_RUNS });
      const rejected = Number(/^(\d+) of/.exec(summary)?.[1]);
      assert.ok(rejected > 0 && rejected < FUZZ_RUNS, `the mutations reach the parser: ${summary}`);
    });
  });
}

/** What the layout judge notes without asking for a restart: the crates it could not check. */
function notesOf(judgement: LayoutJudgement): string[] {
  return judgement.verdicts.filter((verdict) => verdict.action === 'note').map((verdict) => verdict.reason);
}
