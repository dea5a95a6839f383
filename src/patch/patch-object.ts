import type { Atom } from '../diff/atoms.js';
import { relocationsWithin } from '../diff/fingerprint.js';
import { resolveTarget } from '../diff/target-identity.js';
import type { Relocation } from '../object/model.js';
import type { Target } from '../targets/target.js';
import type { FrameRecord } from './eh-frame.js';
import { type OutputRelocation, type OutputSection, type OutputSymbol, SHT_NOBITS, SHT_PROGBITS, writeElfObject } from './elf-object-writer.js';
import type { PatchPlan } from './plan.js';

const SHF_WRITE = 0x1n;
const SHF_ALLOC = 0x2n;
const SHF_EXECINSTR = 0x4n;

/**
 * Write the patch as a new relocatable object holding only the planned atoms.
 * Each atom gets its own section and symbol; every reference to something
 * the process already has becomes an undefined symbol, bound at link time to
 * the process's address. Compiler-local atoms get unique local names.
 */
export function buildPatchObject(plan: PatchPlan, target: Target): Buffer {
  const sections: OutputSection[] = [];
  const symbols: OutputSymbol[] = [];
  const symbolOfAtom = new Map<Atom, OutputSymbol>();
  const symbolOfName = new Map<string, OutputSymbol>();
  const undefinedSymbols = new Map<string, OutputSymbol>();

  plan.atoms.forEach((atom, i) => {
    const section: OutputSection = {
      name: atom.section.name || '.data.ipbp',
      type: atom.section.kind === 'bss' ? SHT_NOBITS : SHT_PROGBITS,
      flags: atom.section.raw.flags & (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR),
      alignment: atomAlignment(atom),
      data: atom.section.kind === 'bss' ? new Uint8Array(atom.extent) : atom.section.data.slice(atom.offset, atom.offset + atom.extent),
      relocations: [],
    };
    sections.push(section);
    const symbol: OutputSymbol = {
      name: atom.anonymous ? `__ipbp_local_${i}` : atom.name,
      binding: atom.anonymous ? 'local' : 'global',
      visibility: atom.anonymous ? 'default' : 'hidden',
      type: atom.category === 'function' ? 'function' : 'object',
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
      external = { name, binding: 'global', visibility, type: 'notype', section: undefined, value: 0, size: 0 };
      undefinedSymbols.set(name, external);
      symbols.push(external);
    }
    return { symbol: external, addend: target.addend };
  };

  plan.atoms.forEach((atom, i) => {
    const section = sections[i]!;
    for (const relocation of relocationsWithin(atom)) {
      const { symbol, addend } = targetSymbol(atom, relocation);
      section.relocations.push({ offset: relocation.offset - atom.offset, type: relocation.raw.type, symbol, addend });
    }
  });

  if (plan.frames.fdes.length > 0) sections.push(frameSection(plan.frames.cies, plan.frames.fdes, targetSymbol, target.patchObject.unwindSectionType));
  return writeElfObject(target.patchObject.machine, sections, symbols);
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
