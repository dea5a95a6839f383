import type { Atom } from '../diff/atoms.js';
import { relocationsWithin } from '../diff/fingerprint.js';
import { resolveTarget } from '../diff/target-identity.js';
import type { Relocation } from '../object/model.js';
import type { Target } from '../targets/target.js';
import type { FrameRecord } from './eh-frame.js';
import { type OutputRelocation, type OutputSection, type OutputSymbol, SHT_NOBITS, SHT_PROGBITS, writeElfObject } from './elf-object-writer.js';
import type { PatchPlan } from './plan.js';
import { isModuleBase, type SlotWord, type ThreadLocalAccess, threadLocalAccess, writeAddImmediate, writeValue } from './thread-locals.js';

const SHF_WRITE = 0x1n;
const SHF_ALLOC = 0x2n;
const SHF_EXECINSTR = 0x4n;
const SHF_TLS = 0x400n;

/** Local symbols that mark a local-exec access of a patch's own thread-local: `link.ts` reads them back (`tlsFixupsOf`). */
export const TLS_FIXUP_PREFIX = '__ipbp_tpoff.';
/** Local aliases of the patch's thread-locals, which those marks name by number. */
export const TLS_VARIABLE_PREFIX = '__ipbp_tlsvar.';

/**
 * Write the patch as a new relocatable object holding only the planned atoms.
 * Each atom gets its own section and symbol; every reference to something
 * the process already has becomes an undefined symbol, bound at link time to
 * the process's address. Compiler-local atoms get unique local names.
 */
/** What a patch's atoms take once loaded (zero-filled data included), each at its alignment: the address range its sections need. */
export function loadedSizeOf(plan: PatchPlan): number {
  let size = 0;
  for (const atom of plan.atoms) {
    const alignment = Math.max(atomAlignment(atom), 1);
    size = Math.ceil(size / alignment) * alignment + atom.extent;
  }
  return size;
}

export function buildPatchObject(plan: PatchPlan, target: Target): Buffer {
  const sections: OutputSection[] = [];
  const symbols: OutputSymbol[] = [];
  const symbolOfAtom = new Map<Atom, OutputSymbol>();
  const symbolOfName = new Map<string, OutputSymbol>();
  const undefinedSymbols = new Map<string, OutputSymbol>();

  plan.atoms.forEach((atom, i) => {
    const zeroFilled = atom.section.kind === 'bss' || atom.section.kind === 'tls-bss';
    const threadLocal = atom.section.kind === 'tls-data' || atom.section.kind === 'tls-bss';
    const section: OutputSection = {
      name: atom.section.name || '.data.ipbp',
      type: zeroFilled ? SHT_NOBITS : SHT_PROGBITS,
      // SHF_TLS: a thread-local new in the edit goes into the patch's own TLS segment.
      flags: atom.section.raw.flags & (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR | SHF_TLS),
      alignment: atomAlignment(atom),
      // A copy: the fixups below write into it, and a section's data may be a view of the object file (a Buffer, whose `slice` shares memory).
      data: zeroFilled ? new Uint8Array(atom.extent) : Uint8Array.from(atom.section.data.subarray(atom.offset, atom.offset + atom.extent)),
      relocations: [],
    };
    sections.push(section);
    const symbol: OutputSymbol = {
      name: atom.anonymous ? `__ipbp_local_${i}` : atom.name,
      binding: atom.anonymous ? 'local' : 'global',
      visibility: atom.anonymous ? 'default' : 'hidden',
      type: atom.category === 'function' ? 'function' : threadLocal ? 'tls' : 'object',
      section,
      value: 0,
      size: atom.extent,
    };
    symbols.push(symbol);
    symbolOfAtom.set(atom, symbol);
    if (!atom.anonymous) symbolOfName.set(atom.name, symbol);
  });

  const targetSymbol = (atom: Atom, relocation: Relocation): { symbol: OutputSymbol; addend: bigint } => {
    const index = plan.indexOf.get(atom.object);
    if (!index) throw new Error(`no index for ${atom.object.path}`);
    const target = resolveTarget(index, atom.object, relocation);
    if (target.type === 'atom') {
      const own = symbolOfAtom.get(target.atom) ?? (target.atom.anonymous ? undefined : symbolOfName.get(target.atom.name));
      if (own) return { symbol: own, addend: target.addend };
    }
    const name = target.type === 'atom' ? target.atom.name : target.name;
    const named = symbolOfName.get(name);
    if (named) return { symbol: named, addend: target.addend };
    let external = undefinedSymbols.get(name);
    if (!external) {
      const visibility = plan.bindings.has(name) ? 'hidden' : 'default';
      // A weak reference nothing defines resolves to 0 in the program; a strong one would fail the patch's load.
      const referenced = 'symbol' in relocation.target ? atom.object.symbols[relocation.target.symbol] : undefined;
      const binding = referenced?.undefined && referenced.binding === 'weak' ? 'weak' : 'global';
      external = { name, binding, visibility, type: 'notype', section: undefined, value: 0, size: 0 };
      undefinedSymbols.set(name, external);
      symbols.push(external);
    }
    return { symbol: external, addend: target.addend };
  };

  const slots = new ThreadLocalSlots(sections, symbols);
  const own = new PatchThreadLocals(symbols, target);
  plan.atoms.forEach((atom, i) => {
    const section = sections[i]!;
    for (const relocation of relocationsWithin(atom)) {
      const offset = relocation.offset - atom.offset;
      if (relocation.kind === 'tls' && isOwnThreadLocal(plan, atom, relocation)) {
        own.access(section, offset, relocation, targetSymbol(atom, relocation));
        continue;
      }
      if (relocation.kind === 'tls') {
        const access = threadLocalAccessOf(plan, atom, relocation, target);
        if (access.type === 'value') writeValue(section.data, offset, access.width, access.value);
        else if (access.type === 'immediate') writeAddImmediate(section.data, offset, access.value);
        else if (access.type === 'slot') section.relocations.push({ offset, type: access.relocation, symbol: slots.symbolFor(access.contents), addend: access.addend });
        continue;
      }
      const { symbol, addend } = targetSymbol(atom, relocation);
      section.relocations.push({ offset, type: relocation.raw.type, symbol, addend });
    }
  });

  own.referenceStatically(sections);
  if (plan.frames.fdes.length > 0) sections.push(frameSection(plan.frames.cies, plan.frames.fdes, targetSymbol, target.patchObject.unwindSectionType));
  return writeElfObject(target.patchObject.machine, sections, symbols);
}

/** Whether a thread-local access names one the patch defines (a local-dynamic base naming one is the patch's module base). */
function isOwnThreadLocal(plan: PatchPlan, atom: Atom, relocation: Relocation): boolean {
  const index = plan.indexOf.get(atom.object);
  if (!index) throw new Error(`no index for ${atom.object.path}`);
  const target = resolveTarget(index, atom.object, relocation);
  return plan.newThreadLocals.has(target.type === 'atom' ? target.atom.name : target.name);
}

/**
 * The thread-locals the patch defines itself (new in the edit), in its own
 * TLS segment. The loader resolves the module-relative accesses (general
 * and local dynamic, initial exec through a GOT slot), so those stay
 * ordinary relocations for the linker. A local-exec access (a thread-pointer
 * offset as an immediate) has no relocation a shared library may carry:
 * its bytes stay zero and a local symbol marks the site, named after the
 * width, the variable and the addend; the agent writes it once the loader
 * placed the block. One initial-exec reference makes that block static.
 */
class PatchThreadLocals {
  private readonly aliases = new Map<OutputSymbol, OutputSymbol>();
  private marks = 0;

  constructor(
    private readonly symbols: OutputSymbol[],
    private readonly target: Target,
  ) {}

  defines(symbol: OutputSymbol): boolean {
    return symbol.section !== undefined && (symbol.section.flags & SHF_TLS) !== 0n;
  }

  access(section: OutputSection, offset: number, relocation: Relocation, { symbol, addend }: { symbol: OutputSymbol; addend: bigint }): void {
    const form = this.target.patchObject.localExecRelocations.get(relocation.raw.typeName);
    if (form === undefined) {
      section.relocations.push({ offset, type: relocation.raw.type, symbol, addend });
      return;
    }
    if (form === 'u32' || form === 'u64') writeValue(section.data, offset, form === 'u32' ? 4 : 8, 0n);
    else writeAddImmediate(section.data, offset, 0n);
    const variable = this.aliasOf(symbol);
    this.symbols.push({ name: `${TLS_FIXUP_PREFIX}${form}.${variable.name.slice(TLS_VARIABLE_PREFIX.length)}.${addend}.${this.marks++}`, binding: 'local', visibility: 'default', type: 'notype', section, value: offset, size: 0 });
  }

  /** The synthetic initial-exec reference, when the patch has thread-locals of its own. */
  referenceStatically(sections: OutputSection[]): void {
    const variable = this.symbols.find((symbol) => symbol.binding !== 'local' && this.defines(symbol)) ?? this.symbols.find((symbol) => this.defines(symbol));
    if (!variable) return;
    const reference = this.target.patchObject.staticTlsReference;
    if (!reference) throw new Error(`thread-locals new in an edit are not supported on ${this.target.triple}`);
    sections.push({
      name: '.text.ipbp.static_tls',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      alignment: 16,
      data: Uint8Array.from(reference.code),
      relocations: reference.relocations.map(({ offset, type, addend }) => ({ offset, type, symbol: variable, addend })),
    });
  }

  private aliasOf(symbol: OutputSymbol): OutputSymbol {
    let alias = this.aliases.get(symbol);
    if (!alias) {
      alias = { name: `${TLS_VARIABLE_PREFIX}${this.aliases.size}`, binding: 'local', visibility: 'default', type: 'tls', section: symbol.section, value: symbol.value, size: 0 };
      this.aliases.set(symbol, alias);
      this.symbols.push(alias);
    }
    return alias;
  }
}

/** How `atom` reaches one of the program's thread-locals (the plan checked it is one). */
function threadLocalAccessOf(plan: PatchPlan, atom: Atom, relocation: Relocation, target: Target): ThreadLocalAccess {
  const template = plan.tlsTemplate;
  if (!template) throw new Error(`${atom.name}: a thread-local access in a program without TLS`);
  let offset = 0n;
  let addend = relocation.addend;
  if (!isModuleBase(relocation)) {
    const index = plan.indexOf.get(atom.object);
    if (!index) throw new Error(`no index for ${atom.object.path}`);
    const variable = resolveTarget(index, atom.object, relocation);
    const name = variable.type === 'atom' ? variable.atom.name : variable.name;
    const known = plan.threadLocals.get(name);
    if (known === undefined) throw new Error(`${atom.name}: the thread-local ${name} is not in the plan`);
    offset = known;
    addend = variable.addend;
  }
  const access = threadLocalAccess(target.architecture, relocation, offset, addend, template);
  if (typeof access === 'string') throw new Error(`${atom.name}: ${access}`);
  return access;
}

/** `ldr x0, [x0, #8]; ret`: the TLS descriptor resolver of a variable in static TLS, whose offset is the descriptor's second word. */
const STATIC_DESCRIPTOR_RESOLVER = Uint8Array.of(0x00, 0x04, 0x40, 0xf9, 0xc0, 0x03, 0x5f, 0xd6);
const R_AARCH64_ABS64 = 257;

/**
 * The GOT-style slots the patch carries for thread-local accesses: read-only
 * data, one symbol per distinct contents. A slot naming the descriptor
 * resolver points at the patch's own copy of it (a relative relocation
 * once linked).
 */
class ThreadLocalSlots {
  private readonly byContents = new Map<string, OutputSymbol>();
  private resolver: OutputSymbol | undefined;

  constructor(
    private readonly sections: OutputSection[],
    private readonly symbols: OutputSymbol[],
  ) {}

  symbolFor(contents: readonly SlotWord[]): OutputSymbol {
    const key = contents.join(',');
    const known = this.byContents.get(key);
    if (known) return known;
    const data = new Uint8Array(contents.length * 8);
    const relocations: OutputRelocation[] = [];
    contents.forEach((word, i) => {
      if (word === 'descriptor-resolver') relocations.push({ offset: i * 8, type: R_AARCH64_ABS64, symbol: this.resolverSymbol(), addend: 0n });
      else writeValue(data, i * 8, 8, word);
    });
    // Written by the loader (the resolver's address), so not read-only: the linker would need a text relocation otherwise.
    const section: OutputSection = { name: '.data.rel.ro.ipbp.tls', type: SHT_PROGBITS, flags: relocations.length > 0 ? SHF_ALLOC | SHF_WRITE : SHF_ALLOC, alignment: 8, data, relocations };
    this.sections.push(section);
    const symbol: OutputSymbol = { name: `__ipbp_tls_${this.byContents.size}`, binding: 'local', visibility: 'default', type: 'object', section, value: 0, size: data.length };
    this.symbols.push(symbol);
    this.byContents.set(key, symbol);
    return symbol;
  }

  private resolverSymbol(): OutputSymbol {
    if (!this.resolver) {
      const section: OutputSection = { name: '.text.ipbp.tlsdesc', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, alignment: 4, data: Uint8Array.from(STATIC_DESCRIPTOR_RESOLVER), relocations: [] };
      this.sections.push(section);
      this.resolver = { name: '__ipbp_tlsdesc_static', binding: 'local', visibility: 'default', type: 'function', section, value: 0, size: section.data.length };
      this.symbols.push(this.resolver);
    }
    return this.resolver;
  }
}

/** Lay the chosen CIEs and FDEs out anew, fixing each FDE's pointer back to its CIE. */
function frameSection(
  cies: readonly FrameRecord[],
  fdes: readonly FrameRecord[],
  targetSymbol: (atom: Atom, relocation: Relocation) => { symbol: OutputSymbol; addend: bigint },
  unwindSectionType: number,
): OutputSection {
  const parts: Uint8Array[] = [];
  const relocations: OutputRelocation[] = [];
  const cieAt = new Map<FrameRecord, number>();
  let size = 0;
  const place = (record: FrameRecord): number => {
    const at = size;
    const copy = Uint8Array.from(record.bytes);
    parts.push(copy);
    size += copy.length;
    // Relocations resolve against the record's own object; a frame is not an atom, so borrow one for the lookup.
    const carrier = { object: record.object } as Atom;
    for (const relocation of record.relocations) {
      const { symbol, addend } = targetSymbol(carrier, relocation);
      relocations.push({ offset: at + relocation.offset - record.offset, type: relocation.raw.type, symbol, addend });
    }
    return at;
  };
  for (const fde of fdes) {
    const cie = cies.find((candidate) => candidate.object === fde.object && candidate.section === fde.section && candidate.offset === fde.cieOffset);
    if (!cie) continue;
    let cieOffset = cieAt.get(cie);
    if (cieOffset === undefined) {
      cieOffset = place(cie);
      cieAt.set(cie, cieOffset);
    }
    const fdeOffset = place(fde);
    new DataView(parts.at(-1)!.buffer).setUint32(4, fdeOffset + 4 - cieOffset, true);
  }
  const data = new Uint8Array(size);
  let cursor = 0;
  for (const part of parts) {
    data.set(part, cursor);
    cursor += part.length;
  }
  return { name: '.eh_frame', type: unwindSectionType, flags: SHF_ALLOC, alignment: 8, data, relocations };
}

/** An atom cut from the middle of a section keeps only the alignment its offset allows. */
function atomAlignment(atom: Atom): number {
  let alignment = Math.max(1, atom.section.alignment);
  while (alignment > 1 && atom.offset % alignment !== 0) alignment /= 2;
  return alignment;
}
