/**
 * Function signatures read from the DWARF of real rustc builds with v0
 * symbols, whose names (unlike legacy ones) do not change with a signature:
 * free functions, `()` and `!` returns, generic instantiations, inherent
 * methods (defined through DW_AT_specification), trait methods, and the
 * builds that carry no signatures at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { collectTypes } from '../../src/debuginfo/collect.js';
import { DebugInfoError, readFunctionSignatures } from '../../src/debuginfo/index.js';
import { debugSections } from '../../src/debuginfo/sections.js';
import { demangleWithoutHash } from '../../src/diff/demangle/index.js';
import type { ObjectFile, Section } from '../../src/object/model.js';
import { readObjectPath } from '../../src/object/read.js';
import { edit } from '../support/demo-crate.js';
import { ScratchCrate } from '../support/rustc.js';

const V0 = ['-C', 'symbol-mangling-version=v0'];

const SIGNATURE_CRATE = `pub struct Point { pub x: i32, pub y: i32 }
#[inline(never)] pub fn twice(x: u64) -> u64 { x * 2 }
#[inline(never)] pub fn nothing(label: &str, p: Point) { let _ = (label, p.x); }
#[inline(never)] pub fn ignored(_: u64, (a, b): (u8, u16)) -> u32 { a as u32 + b as u32 }
#[inline(never)] pub fn pointer(f: fn(u64) -> u64, bytes: &[u8]) -> usize { f(1) as usize + bytes.len() }
#[inline(never)] pub fn never() -> ! { loop { std::hint::spin_loop() } }
pub fn generic<T: core::fmt::Debug>(value: T) -> String { format!("<{:?}>", value) }
pub fn use_generics() -> (String, String) { (generic(1u8), generic("x")) }
pub trait Shape { fn area(&self) -> u64; fn scale(&mut self, by: f64) -> Option<u32>; }
pub struct Square(pub u64);
impl Shape for Square { fn area(&self) -> u64 { self.0 * self.0 } fn scale(&mut self, by: f64) -> Option<u32> { Some(by as u32) } }
impl Square { pub fn new(side: u64) -> Square { Square(side) } pub fn side(&self) -> u64 { self.0 } }
pub fn shapes() -> Vec<Box<dyn Shape>> { vec![Box::new(Square::new(3))] }
`;

/** The signatures of the crate's own functions, by demangled path (crate disambiguators left out). */
function byPath(signatures: ReadonlyMap<string, string>): Map<string, string> {
  const paths = new Map<string, string>();
  for (const [symbol, signature] of signatures) {
    const path = demangleWithoutHash(symbol);
    if (path.includes('demo::')) paths.set(path, signature);
  }
  return paths;
}

function definedFunctions(objects: readonly ObjectFile[]): Set<string> {
  const names = new Set<string>();
  for (const object of objects) {
    for (const symbol of object.symbols) if (symbol.section !== undefined && symbol.kind === 'function') names.add(symbol.name);
  }
  return names;
}

function section(object: ObjectFile, name: string): Section | undefined {
  return object.sections.find((s) => s.name === name);
}

describe('function signatures from the debug info of v0-mangled rustc objects', () => {
  let crate: ScratchCrate;
  let objects: ObjectFile[];
  let signatures: Map<string, string>;

  before(async () => {
    crate = await ScratchCrate.create('ipbp-signatures-');
    objects = await readObjectPath(await crate.build(SIGNATURE_CRATE, { flags: V0 }));
    signatures = readFunctionSignatures(objects);
  });
  after(async () => crate.remove());

  test('keys are the v0 symbols rustc puts in DW_AT_linkage_name, each a function the objects define', () => {
    const defined = definedFunctions(objects);
    const twice = [...signatures.keys()].filter((symbol) => demangleWithoutHash(symbol) === 'demo::twice');
    assert.equal(twice.length, 1, 'one symbol for demo::twice');
    assert.match(twice[0]!, /^_RNvCs[0-9A-Za-z_]+_4demo5twice$/);
    // Declarations inside types and abstract instances of inlined functions (core's, std's) name no definition here.
    for (const symbol of signatures.keys()) assert.ok(defined.has(symbol), `${symbol} is defined in the objects`);
    // And every function rustc compiled here is described.
    for (const symbol of defined) assert.ok(signatures.has(symbol), `${demangleWithoutHash(symbol)} has a signature`);
  });

  test('parameters and return types, `()` and `!` returns, unnamed and pattern parameters', () => {
    const paths = byPath(signatures);
    assert.equal(paths.get('demo::twice'), 'fn(u64) -> u64');
    assert.equal(paths.get('demo::nothing'), 'fn(&str, demo::Point)');
    assert.equal(paths.get('demo::ignored'), 'fn(u64, (u8, u16)) -> u32');
    assert.equal(paths.get('demo::pointer'), 'fn(fn(u64) -> u64, &[u8]) -> usize');
    assert.equal(paths.get('demo::never'), 'fn() -> !');
    assert.equal(paths.get('demo::use_generics'), 'fn() -> (alloc::string::String, alloc::string::String)');
    assert.equal(paths.get('demo::shapes'), 'fn() -> alloc::vec::Vec<alloc::boxed::Box<dyn demo::Shape, alloc::alloc::Global>, alloc::alloc::Global>');
  });

  test('each generic instantiation has its own symbol and signature', () => {
    const paths = byPath(signatures);
    assert.equal(paths.get('demo::generic::<u8>'), 'fn(u8) -> alloc::string::String');
    assert.equal(paths.get('demo::generic::<&str>'), 'fn(&str) -> alloc::string::String');
  });

  test('inherent methods (defined through DW_AT_specification) and trait methods', () => {
    const paths = byPath(signatures);
    assert.equal(paths.get('<demo::Square>::new'), 'fn(u64) -> demo::Square');
    assert.equal(paths.get('<demo::Square>::side'), 'fn(&demo::Square) -> u64');
    assert.equal(paths.get('<demo::Square as demo::Shape>::area'), 'fn(&demo::Square) -> u64');
    assert.equal(paths.get('<demo::Square as demo::Shape>::scale'), 'fn(&mut demo::Square, f64) -> core::option::Option<u32>');
  });

  test('a signature edit changes the signature under the same symbol; a body edit does not', async () => {
    const edited = readFunctionSignatures(await readObjectPath(await crate.build(edit(SIGNATURE_CRATE, 'fn twice(x: u64) -> u64 { x * 2 }', 'fn twice(x: u64, y: u64) -> u64 { x * y }'), { flags: V0 })));
    const symbol = [...signatures.keys()].find((name) => demangleWithoutHash(name) === 'demo::twice')!;
    assert.equal(edited.get(symbol), 'fn(u64, u64) -> u64', 'v0 keeps the symbol');
    const body = readFunctionSignatures(await readObjectPath(await crate.build(edit(SIGNATURE_CRATE, 'x * 2 }', 'x * 5 }'), { flags: V0 })));
    assert.equal(body.get(symbol), 'fn(u64) -> u64');
    assert.deepEqual(byPath(body), byPath(signatures));
  });

  test('DWARF 5 in one codegen unit reads the same signatures as DWARF 4 in sixteen', async () => {
    const dwarf5 = await readObjectPath(await crate.build(SIGNATURE_CRATE, { flags: [...V0, '-C', 'dwarf-version=5', '-C', 'codegen-units=1'] }, 'incremental-dwarf5'));
    assert.ok(dwarf5.some((object) => section(object, '.debug_str_offsets')), 'DWARF 5 output (string offsets table)');
    const paths = byPath(readFunctionSignatures(dwarf5));
    assert.ok(paths.size >= 12, `the crate's functions: ${[...paths.keys()]}`);
    assert.deepEqual(paths, byPath(signatures));
  });

  test('reading signatures leaves the type collection as it is without them', () => {
    for (const object of objects) {
      const sections = debugSections(object);
      if (!sections) continue;
      const plain = collectTypes(sections);
      const withSubprograms = collectTypes(sections, { subprograms: true });
      assert.deepEqual(plain.subprograms, [], 'no subprograms unless asked for');
      assert.deepEqual(withSubprograms.types, plain.types);
      assert.deepEqual(withSubprograms.aggregates, plain.aggregates);
    }
  });

  test('no debug info, limited debug info and split debug info give no signatures', async () => {
    const none = await readObjectPath(await crate.build(SIGNATURE_CRATE, { flags: [...V0, '-C', 'debuginfo=0'] }, 'incremental-nodebug'));
    assert.equal(readFunctionSignatures(none).size, 0);
    // `debuginfo=1` keeps the subprograms and their symbols, without a single type: every function would read `fn()`.
    const limited = await readObjectPath(await crate.build(SIGNATURE_CRATE, { flags: [...V0, '-C', 'debuginfo=1'] }, 'incremental-limited'));
    assert.ok(limited.some((object) => (section(object, '.debug_info')?.size ?? 0) > 0), 'limited debug info has a .debug_info');
    assert.equal(readFunctionSignatures(limited).size, 0);
    const split = await readObjectPath(await crate.build(SIGNATURE_CRATE, { flags: [...V0, '-C', 'split-debuginfo=unpacked'] }, 'incremental-split'));
    assert.ok(split.some((object) => section(object, '.debug_info')), 'split objects keep skeleton units');
    assert.equal(readFunctionSignatures(split).size, 0);
  });

  test('malformed debug info is a one-line DebugInfoError naming the object', () => {
    const object = objects.find((o) => readFunctionSignatures([o]).size > 0)!;
    const info = section(object, '.debug_info')!.data;
    const truncated: ObjectFile = {
      ...object,
      sections: object.sections.map((s) => (s.name === '.debug_info' ? { ...s, data: info.subarray(0, info.byteLength >> 1), size: info.byteLength >> 1 } : s.name === '.rela.debug_info' ? { ...s, name: '.rela.removed' } : s)),
    };
    assert.throws(
      () => readFunctionSignatures([truncated]),
      (error: unknown) => {
        assert.ok(error instanceof DebugInfoError, `expected a DebugInfoError, got ${String(error)}`);
        assert.ok(error.message.startsWith(object.path) && !error.message.includes('\n'), error.message);
        assert.match(error.message, /runs past the end/);
        return true;
      },
    );
  });

  test('random byte flips in the debug sections raise only one-line DebugInfoErrors', () => {
    const object = objects.find((o) => [...readFunctionSignatures([o]).keys()].some((symbol) => demangleWithoutHash(symbol) === 'demo::twice'))!;
    const names = ['.debug_info', '.debug_abbrev', '.debug_str', '.rela.debug_info'];
    let rejected = 0;
    const runs = 400;
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), (name, flips) => {
        const original = section(object, name)!;
        const data = new Uint8Array(original.data);
        for (const [at, mask] of flips) data[at % data.byteLength]! ^= mask;
        const mutated: ObjectFile = { ...object, sections: object.sections.map((s) => (s === original ? { ...s, data } : s)) };
        try {
          readFunctionSignatures([mutated]);
        } catch (error) {
          if (!(error instanceof DebugInfoError) || error.message.includes('\n')) throw error;
          rejected++;
        }
      }),
      { numRuns: runs, seed: 7 },
    );
    assert.ok(rejected > 0 && rejected < runs, `the mutations reach the parser: ${rejected} of ${runs} rejected`);
  });
});
