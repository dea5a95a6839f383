import type { ObjectFile, Relocation } from '../object/model.js';
import { type Atom, type AtomIndex, atomAt } from './atoms.js';
import { isCompilerLocalName } from './compiler-local.js';
import { withoutLlvmSuffix } from './demangle/index.js';

/** Where a relocation points, in terms that survive a rebuild. */
export type ResolvedTarget =
  /** A symbol outside these objects, or a named symbol not in an atom. */
  | { readonly type: 'external'; readonly name: string; readonly addend: bigint }
  /** A byte inside an atom of these objects. */
  | { readonly type: 'atom'; readonly atom: Atom; readonly addend: bigint };

/**
 * Resolve a relocation to a named symbol where possible: the same call is
 * emitted against `.text.foo` in one build and against `foo` in the next once
 * `foo` moves to another codegen unit, and both must fingerprint alike.
 */
export function resolveTarget(index: AtomIndex, object: ObjectFile, relocation: Relocation): ResolvedTarget {
  const target = relocation.target;
  if ('section' in target) {
    // Mach-O non-extern relocations: the reader turned the address into an offset in the section.
    const targetSection = object.sections[target.section];
    if (!targetSection) return { type: 'external', name: `<section ${target.section}>`, addend: relocation.addend };
    const position = landingOffset(object, 0, relocation);
    const atom = atomAt(index, targetSection, position);
    if (!atom) return { type: 'external', name: `<${targetSection.name}>`, addend: relocation.addend };
    return { type: 'atom', atom, addend: relocation.addend - BigInt(atom.offset) };
  }
  const symbol = object.symbols[target.symbol];
  if (!symbol) return { type: 'external', name: `<symbol ${target.symbol}>`, addend: relocation.addend };
  const direct = index.bySymbol.get(object)?.get(symbol.index);
  if (direct && !direct.anonymous) return { type: 'atom', atom: direct, addend: relocation.addend };
  if (symbol.section === undefined) {
    // A compiler-local defined in another codegen unit: identified by content, like one defined here.
    const promoted = index.promoted.get(symbol.name);
    if (promoted) return { type: 'atom', atom: promoted, addend: relocation.addend };
    return { type: 'external', name: externalName(object, symbol.name), addend: relocation.addend };
  }
  const targetSection = object.sections[symbol.section];
  if (!targetSection) return { type: 'external', name: externalName(object, symbol.name), addend: relocation.addend };
  // A section symbol or an anonymous label: find the atom the reference lands in.
  const position = landingOffset(object, symbol.offset, relocation);
  const atom = atomAt(index, targetSection, position) ?? direct;
  if (!atom) return { type: 'external', name: symbol.name || `<${targetSection.name}>`, addend: relocation.addend };
  return { type: 'atom', atom, addend: relocation.addend + BigInt(symbol.offset - atom.offset) };
}

/**
 * The offset in the target section a relocation refers to. x86_64 PC-relative
 * fields carry the distance to the next instruction in their addend (`-4`),
 * which is not part of the target.
 */
function landingOffset(object: ObjectFile, symbolOffset: number, relocation: Relocation): number {
  const bias = object.architecture === 'x86_64' && relocation.raw.pcRelative ? BigInt(relocation.width) : 0n;
  const landing = BigInt(symbolOffset) + relocation.addend + bias;
  return landing < 0n ? 0 : Number(landing);
}

/** A named symbol outside the atoms, known as atoms are: without ThinLTO's `.llvm.<hash>` (`makeAtom`). */
function externalName(object: ObjectFile, name: string): string {
  return isCompilerLocalName(name, object.format) ? name : withoutLlvmSuffix(name);
}
