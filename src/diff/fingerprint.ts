import type { Relocation } from '../object/model.js';
import type { Atom, AtomIndex } from './atoms.js';
import { Hasher } from './hasher.js';
import { type ResolvedTarget, resolveTarget } from './target-identity.js';

/**
 * Content fingerprints of atoms: the bytes with relocation sites masked, plus
 * each relocation as (offset in the atom, equivalence class, target identity,
 * addend). A named target is its name; an anonymous one is its own
 * fingerprint, computed recursively. Cycles (a vtable pointing at a function
 * that points back) are cut with the distance to the atom already on the stack.
 */
export class Fingerprinter {
  private readonly done: Map<Atom, string> | WeakMap<Atom, string>;
  private readonly stack: Atom[] = [];

  /**
   * `ignoringLines`: source positions (`core::panic::Location`s) count by
   * their file alone, so that code an edit only moved fingerprints alike.
   */
  constructor(
    private readonly index: AtomIndex,
    private readonly ignoringLines = false,
    /** How digests are made; tests pass a weak one to show that equal digests are never taken on trust. */
    private readonly newHasher: () => Hasher = defaultHasher,
  ) {
    this.done = newHasher === defaultHasher && index.promoted.size === 0 ? SHARED_DIGESTS[ignoringLines ? 1 : 0] : new Map();
  }

  /**
   * Whether an atom's fingerprint is the same in every index that holds its
   * object: then builds that share parsed objects share their digests.
   */
  get isShared(): boolean {
    return this.done instanceof WeakMap;
  }

  fingerprint(atom: Atom): string {
    const cached = this.done.get(atom);
    if (cached !== undefined) return cached;
    this.stack.push(atom);
    const hasher = this.newHasher();
    if (this.ignoringLines && isSourceLocation(atom)) {
      hasher.string('location');
      const file = atom.section.relocations[firstRelocationAt(atom.section.relocations, atom.offset)]!;
      this.hashTarget(hasher, resolveTarget(this.index, atom.object, file));
      this.stack.pop();
      const digest = hasher.digest();
      this.done.set(atom, digest);
      return digest;
    }
    hasher.string(atom.section.kind);
    hasher.number(atom.extent);
    // Walks the section's relocations in place: this runs for every atom of both builds.
    const relocations = atom.section.relocations;
    let cursor = atom.offset;
    const end = atom.offset + atom.extent;
    const data = atom.section.data;
    for (let i = firstRelocationAt(relocations, atom.offset); i < relocations.length && relocations[i]!.offset < end; i++) {
      const relocation = relocations[i]!;
      const siteStart = Math.max(relocation.offset, cursor);
      if (data.length > 0) hasher.bytes(data, cursor, Math.min(siteStart, end));
      cursor = Math.max(cursor, Math.min(relocation.offset + relocation.width, end));
      hasher.number(relocation.offset - atom.offset);
      hashEquivalenceClass(hasher, atom, relocation);
      this.hashTarget(hasher, resolveTarget(this.index, atom.object, relocation));
    }
    if (data.length > 0 && cursor < end) hasher.bytes(data, cursor, Math.min(end, data.length));
    this.stack.pop();
    const digest = hasher.digest();
    this.done.set(atom, digest);
    return digest;
  }

  /** The stable identity of a relocation target, used by the diff and the patch builder alike. */
  targetIdentity(target: ResolvedTarget): string {
    if (target.type === 'atom' && target.atom.anonymous) {
      const onStack = this.stack.lastIndexOf(target.atom);
      if (onStack >= 0) return `cycle:${this.stack.length - onStack}`;
      return `anon:${this.fingerprint(target.atom)}`;
    }
    // A named target is its name, whether this build defines it in another
    // codegen unit or in the same one.
    return `sym:${targetName(target)}`;
  }

  private hashTarget(hasher: Hasher, target: ResolvedTarget): void {
    // Hashes what targetIdentity returns; for the common named target without
    // building the joined string, as this runs for every relocation.
    if (target.type === 'atom' && target.atom.anonymous) hasher.string(this.targetIdentity(target));
    else hasher.strings('sym:', targetName(target));
    hasher.bigint(target.addend);
  }
}

function defaultHasher(): Hasher {
  return new Hasher();
}

/**
 * Digests by atom, for every index with no promoted locals. An atom's
 * fingerprint then depends on its own object alone: named targets count by
 * name, and anonymous ones are the object's own (a cycle among them is
 * walked from the same entry every time, since the first walk's digests
 * stay). A promoted local (`….llvm.<n>`, ThinLTO) is resolved through the
 * whole index, which is why such indexes keep digests of their own. Atoms
 * are kept by their parsed objects, so a digest lives as long as an index
 * that can ask for it.
 */
const SHARED_DIGESTS = [new WeakMap<Atom, string>(), new WeakMap<Atom, string>()] as const;

/**
 * A `core::panic::Location` rustc emitted for a panic site or
 * `#[track_caller]`: an anonymous 24-byte constant `{ file: &str, line: u32,
 * col: u32 }` whose only relocation is the file name's pointer at its start.
 */
function isSourceLocation(atom: Atom): boolean {
  if (!atom.anonymous || atom.category !== 'data' || atom.extent !== 24) return false;
  const relocations = atom.section.relocations;
  const first = firstRelocationAt(relocations, atom.offset);
  const relocation = relocations[first];
  if (!relocation || relocation.offset !== atom.offset || relocation.kind !== 'absolute' || relocation.width !== 8) return false;
  const next = relocations[first + 1];
  return next === undefined || next.offset >= atom.offset + atom.extent;
}

function targetName(target: ResolvedTarget): string {
  return target.type === 'external' ? target.name : target.atom.name;
}

/** The relocations whose site starts inside the atom, found by binary search. */
export function relocationsWithin(atom: Atom): Relocation[] {
  const all = atom.section.relocations;
  const end = atom.offset + atom.extent;
  const result: Relocation[] = [];
  for (let i = firstRelocationAt(all, atom.offset); i < all.length && all[i]!.offset < end; i++) result.push(all[i]!);
  return result;
}

/** Index of the first relocation (sorted by offset) at or after `offset`. */
function firstRelocationAt(all: readonly Relocation[], offset: number): number {
  let low = 0;
  let high = all.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (all[middle]!.offset < offset) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * On x86_64 the instruction bytes around a site are not masked, so the neutral
 * kind and width suffice (PC32 and PLT32 are one class). AArch64 masks whole
 * instructions, so the exact type must stay (`b` versus `bl`); Mach-O
 * subtractor pairs carry their subtrahend in the type name.
 */
export function equivalenceClassOf(atom: Atom, relocation: Relocation): string {
  return atom.object.architecture === 'x86_64' && relocation.kind !== 'subtractor' ? `${relocation.kind}${widthSuffix(relocation.width)}` : relocation.raw.typeName;
}

function hashEquivalenceClass(hasher: Hasher, atom: Atom, relocation: Relocation): void {
  // Hashes `${kind}/${width}` in two parts, without building the string per relocation.
  if (atom.object.architecture === 'x86_64' && relocation.kind !== 'subtractor') hasher.strings(relocation.kind, widthSuffix(relocation.width));
  else hasher.string(relocation.raw.typeName);
}

const WIDTH_SUFFIXES: string[] = [];

function widthSuffix(width: number): string {
  return (WIDTH_SUFFIXES[width] ??= `/${width}`);
}
