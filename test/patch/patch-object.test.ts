import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { demangleWithoutHash } from '../../src/diff/demangle/index.js';
import { relocationsWithin } from '../../src/diff/fingerprint.js';
import { readElfImage } from '../../src/object/elf/image.js';
import { SHT_X86_64_UNWIND } from '../../src/object/elf/section-header.js';
import type { ObjectFile, Section } from '../../src/object/model.js';
import { readObjects } from '../../src/object/read.js';
import { LibraryIndex } from '../../src/patch/library-index.js';
import { linkPatch, PATCH_LOAD_BIAS } from '../../src/patch/link.js';
import { LiveSymbols } from '../../src/patch/live-symbols.js';
import { buildPatchObject } from '../../src/patch/patch-object.js';
import { type PatchPlan, planPatch } from '../../src/patch/plan.js';
import { X86_64_LINUX } from '../../src/targets/x86_64-linux.js';
import { DEMO_CRATE, edit } from '../support/demo-crate.js';
import { DemoProgram, stdRlib } from '../support/demo-program.js';
import { dynamicRelocations, pcRelativeTarget, R_X86_64_RELATIVE, symbolVisibility } from '../support/elf-inspect.js';

// buildPatchObject on plans of real rustc output, read back with the
// project's object reader and linked by rust-lld the way a session links it.

/** The pretend process has its executable here; patches go 16 MiB below it, as `ProcessState.reserve` puts them. */
const LOAD_BIAS = 0x7f0000000000n;
const PATCH_BASE = LOAD_BIAS - 0x1000000n;

/**
 * References whose resolution the link test follows: direct ones, and GOTPCREL,
 * which debug builds use for calls into other crates and lld never relaxes
 * (the *X variants it may rewrite into other instructions).
 */
const REFERENCE_TYPES = new Set(['R_X86_64_PLT32', 'R_X86_64_PC32', 'R_X86_64_GOTPCREL']);

const SHF_WRITE = 0x1n;
const SHF_ALLOC = 0x2n;
const SHF_EXECINSTR = 0x4n;

interface Case {
  readonly plan: PatchPlan;
  readonly bytes: Buffer;
  readonly object: ObjectFile;
}

function atomBytes(atom: PatchPlan['atoms'][number]): Uint8Array {
  return atom.section.kind === 'bss' ? new Uint8Array(atom.extent) : atom.section.data.subarray(atom.offset, atom.offset + atom.extent);
}

function ehFrame(object: ObjectFile): Section | undefined {
  return object.sections.find((section) => section.name === '.eh_frame');
}

function symbolName(object: ObjectFile, target: Section['relocations'][number]['target']): string {
  assert.ok('symbol' in target, 'ELF relocations name symbols');
  return object.symbols[target.symbol]!.name;
}

describe('buildPatchObject', () => {
  let program: DemoProgram;
  let directory: string;
  const cases = new Map<string, Case>();

  before(async () => {
    program = await DemoProgram.build('ipbp-patch-object-');
    directory = await mkdtemp(join(tmpdir(), 'ipbp-patch-object-out-'));
    const live = new LiveSymbols(program.image, LOAD_BIAS);
    const std = await stdRlib();
    // libcore too: std's thread-local code (the new thread-local's access error) brings some of it along.
    const core = (await readdir(dirname(std))).find((file) => /^libcore-.*\.rlib$/.test(file));
    const libraries = new LibraryIndex([std, ...(core ? [join(dirname(std), core)] : [])]);
    const edits = {
      // One changed function, its panic location, one frame.
      body: edit(DEMO_CRATE, 'x + 1 }', 'x + 3 }'),
      // A first call of a std function: code from libstd, landing pads, several CIEs, a symbol left to the loader.
      library: edit(DEMO_CRATE, 'std::hint::black_box("label-a")', 'std::hint::black_box(if std::env::temp_dir().as_os_str().is_empty() { "" } else { "label-a" })'),
      // A new thread-local, reached local-dynamic (a library crate's code): the patch's own TLS.
      threadLocal: edit(DEMO_CRATE, 'pub fn tick() -> u64 {', 'thread_local! { static LOCAL: std::cell::Cell<u64> = const { std::cell::Cell::new(7) }; } pub fn tick() -> u64 { LOCAL.get() +'),
    };
    for (const [name, source] of Object.entries(edits)) {
      const plan = planPatch([await program.diff(source)], live, libraries);
      assert.deepEqual(plan.unpatchable, [], `the ${name} edit is patchable`);
      const bytes = buildPatchObject(plan, X86_64_LINUX);
      cases.set(name, { plan, bytes, object: readObjects(`${name}.o`, bytes)[0]! });
    }
    // Precondition of the link test: its landing pads resume unwinding through the C runtime's `_Unwind_Resume`.
    assert.ok(cases.get('library')!.plan.dynamic.has('_Unwind_Resume'), 'the library edit leaves a symbol to the loader');
  });
  after(async () => {
    await program?.remove();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  for (const name of ['body', 'library']) {
    describe(`the ${name} edit`, () => {
      const get = (): Case => cases.get(name)!;

      test('has one section per planned atom, in order, with its bytes, alignment and kind', () => {
        const { plan, object } = get();
        const sections = object.sections.slice(1, 1 + plan.atoms.length);
        assert.equal(sections.length, plan.atoms.length);
        plan.atoms.forEach((atom, i) => {
          const section = sections[i]!;
          const label = `section ${i + 1} (${atom.name || atom.section.name})`;
          assert.equal(section.name, atom.section.name || '.data.ipbp', label);
          assert.equal(section.kind, atom.section.kind, label);
          assert.equal(section.size, atom.extent, label);
          if (section.kind !== 'bss') assert.deepEqual([...section.data], [...atomBytes(atom)], label);
          // Only the flags the loader cares about survive (no MERGE, STRINGS or GROUP: each atom stands alone).
          assert.equal(section.raw.flags, atom.section.raw.flags & (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR), label);
          assert.equal(atom.offset % section.alignment, 0, `${label}: an alignment its source offset honours`);
          assert.ok(section.alignment <= atom.section.alignment, label);
        });
        // Past the atoms: at most the unwind section, then metadata (relocation and symbol tables).
        for (const section of object.sections.slice(1 + plan.atoms.length)) assert.ok(section.kind === 'unwind' || section.kind === 'metadata', section.name);
      });

      test('defines each atom as a symbol: named ones global and hidden, compiler-local ones local', () => {
        const { plan, bytes, object } = get();
        plan.atoms.forEach((atom, i) => {
          const defined = object.symbols.filter((symbol) => symbol.section === i + 1);
          assert.equal(defined.length, 1, `one symbol in section ${i + 1}`);
          const symbol = defined[0]!;
          assert.equal(symbol.offset, 0);
          assert.equal(symbol.size, atom.extent);
          assert.equal(symbol.kind, atom.category === 'function' ? 'function' : 'data');
          if (atom.anonymous) {
            assert.equal(symbol.name, `__ipbp_local_${i}`);
            assert.equal(symbol.binding, 'local');
          } else {
            assert.equal(symbol.name, atom.name);
            assert.equal(symbol.binding, 'global');
            // Hidden: a preemptible symbol could not take the PC-relative references between codegen units.
            assert.equal(symbolVisibility(bytes, symbol.index), 'hidden', atom.name);
          }
        });
      });

      test('every binding is an undefined hidden symbol; every other undefined one is left to the loader', () => {
        const { plan, bytes, object } = get();
        const undefinedSymbols = object.symbols.filter((symbol) => symbol.undefined && symbol.name !== '');
        const hidden = undefinedSymbols.filter((symbol) => symbolVisibility(bytes, symbol.index) === 'hidden').map((symbol) => symbol.name);
        const visible = undefinedSymbols.filter((symbol) => symbolVisibility(bytes, symbol.index) === 'default').map((symbol) => symbol.name);
        assert.deepEqual(hidden.sort(), [...plan.bindings.keys()].sort());
        assert.deepEqual(visible.sort(), [...plan.dynamic].sort());
        assert.equal(hidden.length + visible.length, undefinedSymbols.length);
        assert.ok(hidden.length > 0, 'the edit binds something');
      });

      test("keeps each atom's relocations, each against the patch's own copy, a binding, or a loader symbol", () => {
        const { plan, object } = get();
        let total = 0;
        plan.atoms.forEach((atom, i) => {
          const source = relocationsWithin(atom);
          const written = object.sections[i + 1]!.relocations;
          total += written.length;
          assert.deepEqual(
            written.map((relocation) => `${relocation.offset} ${relocation.raw.typeName}`),
            source.map((relocation) => `${relocation.offset - atom.offset} ${relocation.raw.typeName}`),
            atom.name || atom.section.name,
          );
          for (const relocation of written) {
            assert.ok('symbol' in relocation.target);
            const symbol = object.symbols[relocation.target.symbol]!;
            if (symbol.undefined) assert.ok(plan.bindings.has(symbol.name) || plan.dynamic.has(symbol.name), `${symbol.name} is bound or left to the loader`);
            else assert.ok(symbol.section !== undefined && symbol.section <= plan.atoms.length, `${symbol.name} is one of the patch's atoms`);
          }
        });
        assert.equal(total, plan.atoms.reduce((sum, atom) => sum + relocationsWithin(atom).length, 0));
        assert.ok(total > 0);
      });

      test('carries the planned unwind records in an .eh_frame of type SHT_X86_64_UNWIND, each FDE pointing at a CIE', () => {
        const { plan, object } = get();
        assert.ok(plan.frames.fdes.length > 0, 'precondition: the plan has frames');
        const frame = ehFrame(object);
        assert.ok(frame, 'an .eh_frame section is written');
        assert.equal(frame.raw.type, SHT_X86_64_UNWIND);
        assert.equal(frame.kind, 'unwind');
        const records = [...plan.frames.cies, ...plan.frames.fdes];
        assert.equal(frame.size, records.reduce((sum, record) => sum + record.bytes.length, 0));
        assert.equal(frame.relocations.length, records.reduce((sum, record) => sum + record.relocations.length, 0));
        // Walk the written records: the FDEs' CIE pointers were rewritten for the new layout.
        const view = new DataView(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
        const cies = new Set<number>();
        let fdes = 0;
        for (let at = 0; at < frame.size; at += 4 + view.getUint32(at, true)) {
          const id = view.getUint32(at + 4, true);
          if (id === 0) {
            cies.add(at);
            continue;
          }
          fdes++;
          assert.ok(cies.has(at + 4 - id), `FDE at ${at} points at a CIE written before it`);
        }
        assert.equal(fdes, plan.frames.fdes.length);
        assert.equal(cies.size, plan.frames.cies.length);
      });

      test('links with rust-lld as a session links it, defining the changed function near the process', async () => {
        const { plan, bytes, object } = get();
        const objectPath = join(directory, `${name}.o`);
        await writeFile(objectPath, bytes);
        const linked = await linkPatch(X86_64_LINUX, objectPath, join(directory, `${name}.so`), PATCH_BASE, plan.bindings);
        const changed = plan.changed[0]!;
        const patched = linked.symbols.get(changed);
        assert.ok(patched, `${demangleWithoutHash(changed)} is defined by the patch`);
        assert.equal(patched.kind, 'function');
        assert.ok(patched.address >= PATCH_BASE && patched.address < LOAD_BIAS, `0x${patched.address.toString(16)} lies between the patch base and the program`);
        // Everything named in the plan (a std function pulled from libstd too) is the patch's; the bindings are the process's.
        for (const atom of plan.atoms) if (!atom.anonymous) assert.ok(linked.symbols.has(atom.name), `${demangleWithoutHash(atom.name)} is defined by the patch`);
        for (const binding of plan.bindings.keys()) assert.ok(!linked.symbols.has(binding), `${binding} is the process's, not the patch's`);
        assert.ok(![...linked.symbols.keys()].some((symbol) => symbol.startsWith('__ipbp_local_')), 'local aliases are not reported');

        // Each reference from the new copy to a bound symbol reaches the process's symbol at runtime.
        const image = await readFile(linked.path);
        const loaderRelocations = dynamicRelocations(image);
        const section = object.sections[plan.atoms.findIndex((atom) => atom.name === changed) + 1]!;
        const references = section.relocations.filter((relocation) => REFERENCE_TYPES.has(relocation.raw.typeName) && plan.bindings.has(symbolName(object, relocation.target)));
        assert.ok(references.length > 0, 'the changed function refers to something the process has');
        // The file has link-time addresses: the runtime ones less the load bias.
        const linkedEntry = patched.address - PATCH_LOAD_BIAS;
        for (const reference of references) {
          const landing = pcRelativeTarget(image, linkedEntry + BigInt(reference.offset), reference.addend);
          let target: bigint;
          if (reference.raw.typeName === 'R_X86_64_GOTPCREL') {
            // Through a GOT slot, which the loader fills from a RELATIVE relocation (link-time address plus the load bias).
            const slot = loaderRelocations.find((relocation) => relocation.offset === landing);
            assert.ok(slot, `a dynamic relocation fills the GOT slot at 0x${landing.toString(16)}`);
            assert.equal(slot.type, R_X86_64_RELATIVE);
            target = slot.addend + PATCH_LOAD_BIAS;
          } else {
            target = landing + PATCH_LOAD_BIAS;
          }
          const bound = symbolName(object, reference.target);
          assert.equal(target, plan.bindings.get(bound), `${reference.raw.typeName} to ${demangleWithoutHash(bound)}`);
        }
        // What the plan left to the loader stays undefined for it.
        const linkedImage = readElfImage(linked.path, image);
        for (const dynamic of plan.dynamic) assert.ok(linkedImage.imports.has(dynamic), `${dynamic} is imported`);
      });
    });
  }

  test('a new thread-local keeps its TLS flag, and the patch asks for static TLS', async () => {
    const { plan, bytes, object } = cases.get('threadLocal')!;
    assert.ok(plan.newThreadLocals.size > 0);
    plan.atoms.forEach((atom, i) => {
      if (!plan.newThreadLocals.has(atom.name)) return;
      const section = object.sections[i + 1]!;
      assert.ok(section.kind === 'tls-data' || section.kind === 'tls-bss', `${section.name} is TLS: ${section.kind}`);
      assert.equal(section.kind, atom.section.kind, 'tdata stays PROGBITS, tbss NOBITS');
      assert.equal(section.raw.flags & 0x400n, 0x400n, 'SHF_TLS');
    });
    for (const name of plan.newThreadLocals) assert.equal(object.symbols.find((symbol) => symbol.name === name)?.kind, 'tls', `${demangleWithoutHash(name)} is STT_TLS`);
    const reference = object.sections.find((section) => section.name === '.text.ipbp.static_tls');
    assert.ok(reference, 'the synthetic initial-exec reference is there');
    assert.deepEqual([...reference.data], [0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xc3]);
    assert.deepEqual(
      reference.relocations.map((relocation) => [relocation.raw.typeName, relocation.offset, relocation.addend, object.symbols[(relocation.target as { symbol: number }).symbol]!.kind]),
      [['R_X86_64_GOTTPOFF', 3, -4n, 'tls']],
    );
    const objectPath = join(directory, 'threadLocal.o');
    await writeFile(objectPath, bytes);
    const linked = await linkPatch(X86_64_LINUX, objectPath, join(directory, 'threadLocal.so'), PATCH_BASE, plan.bindings);
    const image = readElfImage(linked.path, await readFile(linked.path));
    assert.ok(image.tls && image.tls.size > 0n, 'the linked patch has a PT_TLS');
    assert.ok(image.staticTls, 'DF_STATIC_TLS is set in its dynamic section');
    // A library crate reaches it local-dynamic: the loader resolves that, nothing is left for the agent.
    assert.deepEqual(linked.tlsFixups, []);
  });

  test('no .eh_frame is written when the plan has no frames', () => {
    const { plan } = cases.get('body')!;
    // The same atoms without their unwind records, as a plan of data alone would be.
    const bare: PatchPlan = { ...plan, frames: { cies: [], fdes: [] } };
    const object = readObjects('bare.o', buildPatchObject(bare, X86_64_LINUX))[0]!;
    assert.equal(ehFrame(object), undefined);
    assert.ok(!object.sections.some((section) => section.kind === 'unwind'));
  });
});
