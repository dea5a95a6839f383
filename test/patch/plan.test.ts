import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Atom } from '../../src/diff/atoms.js';
import type { Diff } from '../../src/diff/compare.js';
import { demangleWithoutHash } from '../../src/diff/demangle/index.js';
import { resolveTarget } from '../../src/diff/target-identity.js';
import { LibraryIndex } from '../../src/patch/library-index.js';
import { LiveSymbols } from '../../src/patch/live-symbols.js';
import { type PatchPlan, planPatch } from '../../src/patch/plan.js';
import { DEMO_CRATE, edit } from '../support/demo-crate.js';
import { DemoProgram, stdRlib } from '../support/demo-program.js';

// planPatch on real rustc output: the diff of an edited DEMO_CRATE against
// the build a real executable was linked from, with that executable's
// symbols as the running process.

/** Where the pretend process has the executable mapped: bindings must be runtime addresses. */
const LOAD_BIAS = 0x7f0000000000n;

const EDITS = {
  body: edit(DEMO_CRATE, 'x + 1 }', 'x + 3 }'),
  // `tick` uses the static TICKS and the (unchanged, linked) `AtomicU64::fetch_add`.
  usesStatic: edit(DEMO_CRATE, 'fetch_add(1,', 'fetch_add(2,'),
  newFunction: edit(DEMO_CRATE, '// end', `#[inline(never)] pub fn brand_new() -> &'static str { std::hint::black_box("brand-new literal") }`),
  // `std::env::temp_dir` is in libstd but not in the executable: nothing it runs calls it.
  firstStdCall: edit(DEMO_CRATE, 'std::hint::black_box("label-a")', 'std::hint::black_box(if std::env::temp_dir().as_os_str().is_empty() { "" } else { "label-a" })'),
  threadLocal: edit(DEMO_CRATE, 'pub fn tick() -> u64 {', 'thread_local! { static LOCAL: std::cell::Cell<u64> = const { std::cell::Cell::new(7) }; } pub fn tick() -> u64 { LOCAL.get() +'),
};

function demangled(names: Iterable<string>): string[] {
  return [...names].map(demangleWithoutHash).sort();
}

function named(atoms: readonly Atom[]): Atom[] {
  return atoms.filter((atom) => !atom.anonymous);
}

/** The included functions an FDE of the plan covers, by its `pc_begin` relocation. */
function functionsWithFrames(plan: PatchPlan): Set<string> {
  const covered = new Set<string>();
  for (const fde of plan.frames.fdes) {
    const pcBegin = fde.relocations.find((relocation) => relocation.offset === fde.offset + 8);
    assert.ok(pcBegin, `FDE at ${fde.offset} of ${fde.object.path} has a pc_begin relocation`);
    const target = resolveTarget(plan.indexOf.get(fde.object)!, fde.object, pcBegin);
    if (target.type === 'atom') covered.add(target.atom.name);
  }
  return covered;
}

describe('planPatch on real rustc output', () => {
  let program: DemoProgram;
  let live: LiveSymbols;
  let noLibraries: LibraryIndex;
  let withStd: LibraryIndex;
  let std: string;
  const diffs = new Map<keyof typeof EDITS, Diff>();

  before(async () => {
    program = await DemoProgram.build('ipbp-plan-');
    live = new LiveSymbols(program.image, LOAD_BIAS);
    noLibraries = new LibraryIndex([]);
    std = await stdRlib();
    // A missing archive on the link line is skipped, not fatal.
    withStd = new LibraryIndex([`${program.crate.directory}/missing.rlib`, std]);
    // One at a time: every build rewrites the crate's single source file.
    for (const [name, source] of Object.entries(EDITS)) diffs.set(name as keyof typeof EDITS, await program.diff(source));
  });
  after(async () => program?.remove());

  function plan(name: keyof typeof EDITS, libraries = noLibraries): PatchPlan {
    return planPatch([diffs.get(name)!], live, libraries);
  }

  /** A symbol of the executable, by demangled path; the precondition of several tests. */
  function executableSymbol(path: string): string {
    const names = [...program.image.symbols.keys()].filter((name) => demangleWithoutHash(name) === path);
    assert.equal(names.length, 1, `the executable defines ${path} once`);
    return names[0]!;
  }

  test('a body edit changes, includes and redirects exactly that function', () => {
    const result = plan('body');
    assert.deepEqual(demangled(result.changed), ['demo::add_one']);
    assert.deepEqual(result.added, []);
    assert.deepEqual(demangled(result.redirected), ['demo::add_one']);
    assert.deepEqual(result.unpatchable, []);
    // Nothing else with a name comes along: every unchanged function is bound, never copied.
    assert.deepEqual(demangled(named(result.atoms).map((atom) => atom.name)), ['demo::add_one']);
  });

  test('a body edit binds what the function calls at its runtime address in the process', () => {
    const result = plan('body');
    // Debug builds check `x + 3` for overflow, so add_one calls into core.
    const panic = executableSymbol('core::panicking::panic_const::panic_const_add_overflow');
    assert.equal(result.bindings.get(panic), program.image.symbols.get(panic)!.address + LOAD_BIAS);
    for (const [name, address] of result.bindings) {
      assert.equal(address, live.lookup(name)?.address, `${name} bound where the process has it`);
      assert.ok(!result.atoms.some((atom) => atom.name === name), `${name} is bound, not copied`);
    }
  });

  test("a body edit copies the function's compiler-local data and its unwind frame", () => {
    const result = plan('body');
    const anonymous = result.atoms.filter((atom) => atom.anonymous);
    // The panic Location and the file name it points to are compiler-local: matched by content, so copied.
    assert.ok(anonymous.length > 0, 'the panic location comes along');
    assert.ok(
      anonymous.some((atom) => Buffer.from(atom.section.data.subarray(atom.offset, atom.offset + atom.extent)).includes(program.crate.sourcePath)),
      'the source file name of the panic location is copied',
    );
    assert.equal(result.frames.fdes.length, 1);
    assert.equal(result.frames.cies.length, 1);
    assert.deepEqual(demangled(functionsWithFrames(result)), ['demo::add_one']);
  });

  test('an unchanged function and a static the changed code uses are bound, not copied', () => {
    const result = plan('usesStatic');
    assert.deepEqual(demangled(result.changed), ['demo::tick']);
    assert.deepEqual(demangled(result.atoms.map((atom) => atom.name)), ['demo::tick'], 'only tick itself goes into the patch');
    const ticks = executableSymbol('demo::TICKS');
    assert.equal(live.lookup(ticks)!.kind, 'data');
    assert.equal(result.bindings.get(ticks), program.image.symbols.get(ticks)!.address + LOAD_BIAS);
    const fetchAdd = executableSymbol('core::sync::atomic::AtomicU64::fetch_add');
    assert.equal(live.lookup(fetchAdd)!.kind, 'function');
    assert.equal(result.bindings.get(fetchAdd), program.image.symbols.get(fetchAdd)!.address + LOAD_BIAS);
    assert.deepEqual(result.unpatchable, []);
  });

  test('a new function is added, with its new string literal, and redirects nothing', () => {
    const result = plan('newFunction');
    assert.deepEqual(demangled(result.added), ['demo::brand_new']);
    assert.deepEqual(result.changed, []);
    // Nothing in the process calls it yet, so there is no entry to send to it.
    assert.deepEqual(result.redirected, []);
    assert.deepEqual(demangled(named(result.atoms).map((atom) => atom.name)), ['demo::brand_new']);
    const literal = result.atoms.filter((atom) => Buffer.from(atom.section.data.subarray(atom.offset, atom.offset + atom.extent)).includes('brand-new literal'));
    assert.equal(literal.length, 1, 'the literal is included once');
    assert.equal(literal[0]!.anonymous, true, 'as an anonymous atom');
    assert.deepEqual(demangled(functionsWithFrames(result)), ['demo::brand_new']);
    assert.deepEqual(result.unpatchable, []);
  });

  test('a Rust symbol that neither the process nor any library defines makes the change unpatchable', () => {
    const result = plan('firstStdCall');
    const tempDir = 'std::env::temp_dir';
    assert.equal(
      [...program.image.symbols.keys()].some((name) => demangleWithoutHash(name) === tempDir),
      false,
      'precondition: the executable never linked temp_dir',
    );
    const missing = /^`([^`]+)` refers to `([^`]+)`, which neither the running program nor any library on its link line defines$/;
    const reasons = result.unpatchable.map((reason) => {
      const names = missing.exec(reason);
      assert.ok(names, `only missing symbols make this edit unpatchable: ${reason}`);
      return { referrer: demangleWithoutHash(names[1]!), symbol: demangleWithoutHash(names[2]!) };
    });
    // The reason names both the symbol and the function that needs it.
    assert.deepEqual(
      reasons.filter((reason) => reason.symbol === tempDir),
      [{ referrer: 'demo::label', symbol: tempDir }],
    );
  });

  test('a symbol the process never linked is pulled from a library on the link line', () => {
    const result = plan('firstStdCall', withStd);
    assert.deepEqual(result.unpatchable, []);
    assert.deepEqual(demangled(result.changed), ['demo::label']);
    const pulled = result.atoms.filter((atom) => demangleWithoutHash(atom.name) === 'std::env::temp_dir');
    assert.equal(pulled.length, 1, 'temp_dir is in the patch');
    const tempDir = pulled[0]!;
    assert.ok(tempDir.object.path.startsWith(`${std}(`), `from libstd: ${tempDir.object.path}`);
    // The planner resolves (and the builder later writes) its relocations against the library's index.
    assert.ok(result.indexOf.has(tempDir.object), 'the library object has an atom index');
    // It is neither changed nor added: it is new to the process, not to the source.
    assert.ok(!result.changed.includes(tempDir.name) && !result.added.includes(tempDir.name));
    assert.ok(!result.redirected.includes(tempDir.name), 'no entry in the process to redirect');
    // What temp_dir itself calls and the process has is bound, like everything else.
    for (const atom of named(result.atoms)) {
      if (result.changed.includes(atom.name)) continue;
      assert.equal(live.lookup(atom.name), undefined, `${atom.name} is in the process and must be bound, not copied`);
    }
  });

  test('every function pulled into a plan, from the crate or from a library, has its unwind frame', () => {
    const result = plan('firstStdCall', withStd);
    const functions = named(result.atoms).filter((atom) => atom.category === 'function');
    assert.ok(functions.length > 2, 'the plan has functions from the crate and from libstd');
    assert.deepEqual([...functionsWithFrames(result)].sort(), functions.map((atom) => atom.name).sort());
    // Each FDE's own CIE comes along, once, and no CIE without an FDE that uses it.
    const cieOf = (fde: PatchPlan['frames']['fdes'][number]): number =>
      result.frames.cies.findIndex((cie) => cie.object === fde.object && cie.section === fde.section && cie.offset === fde.cieOffset);
    const used = new Set(result.frames.fdes.map(cieOf));
    assert.ok(!used.has(-1), 'every FDE has its CIE');
    assert.equal(used.size, result.frames.cies.length, 'every CIE is used');
  });

  test('an edit that adds a thread-local is patchable: the variable comes into the patch as a thread-local of its own', () => {
    const result = plan('threadLocal', withStd);
    // (The test's library index has libstd only, not libcore: what std's code brings along from core is not found.)
    assert.deepEqual(result.unpatchable.filter((reason) => /thread-local/.test(reason) && !/AccessError/.test(reason)), []);
    assert.ok(demangled(result.changed).includes('demo::tick'), `tick changed: ${demangled(result.changed)}`);
    const locals = [...result.newThreadLocals];
    assert.ok(locals.length > 0 && locals.every((name) => demangleWithoutHash(name).startsWith('demo::LOCAL')), `the new thread-local: ${demangled(locals)}`);
    for (const name of locals) {
      const atom = result.atoms.find((candidate) => candidate.name === name);
      assert.ok(atom && (atom.section.kind === 'tls-data' || atom.section.kind === 'tls-bss'), `${demangleWithoutHash(name)} is included, as TLS data`);
      assert.ok(!result.threadLocals.has(name), 'and not resolved against the program');
      assert.ok(!result.bindings.has(name), 'nor bound to it');
    }
  });
});
