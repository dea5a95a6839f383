import type { Atom, AtomIndex } from '../diff/atoms.js';
import type { Diff } from '../diff/compare.js';
import { relocationsWithin } from '../diff/fingerprint.js';
import { demangleWithoutHash, isRustSymbol } from '../diff/demangle/index.js';
import { namedReferrers } from '../diff/referrers.js';
import { resolveTarget } from '../diff/target-identity.js';
import type { ObjectFile, Relocation } from '../object/model.js';
import { type FrameRecord, selectFrames } from './eh-frame.js';
import type { LibraryIndex } from './library-index.js';
import type { LiveSymbols } from './live-symbols.js';
import { isModuleBase, type TlsTemplate } from './thread-locals.js';

/** How patch code may reach a thread-local new in the edit (`patch-object.ts`); TLS descriptors only on aarch64, where the patch's loader resolves them. */
const NEW_THREAD_LOCAL_ACCESSES: ReadonlySet<string> = new Set([
  'R_X86_64_TPOFF32',
  'R_X86_64_TPOFF64',
  'R_X86_64_GOTTPOFF',
  'R_X86_64_TLSGD',
  'R_X86_64_TLSLD',
  'R_X86_64_DTPOFF32',
  'R_X86_64_DTPOFF64',
  'R_AARCH64_TLSLE_ADD_TPREL_HI12',
  'R_AARCH64_TLSLE_ADD_TPREL_LO12',
  'R_AARCH64_TLSLE_ADD_TPREL_LO12_NC',
  'R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21',
  'R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC',
  'R_AARCH64_TLSDESC_ADR_PAGE21',
  'R_AARCH64_TLSDESC_LD64_LO12',
  'R_AARCH64_TLSDESC_ADD_LO12',
  'R_AARCH64_TLSDESC_CALL',
]);

function isThreadLocalData(atom: Atom): boolean {
  return atom.section.kind === 'tls-data' || atom.section.kind === 'tls-bss';
}

/** What goes into one patch, and why a patch may be impossible. */
export interface PatchPlan {
  /** Atoms copied into the patch object, in a stable order. */
  readonly atoms: Atom[];
  /** Named references bound to the running process: name -> runtime address. */
  readonly bindings: Map<string, bigint>;
  /** Names left for the dynamic loader to resolve (shared-library functions). */
  readonly dynamic: Set<string>;
  /** Functions whose entries jump to their new copy. */
  readonly redirected: string[];
  /**
   * Names the process defines for other code than the new build does
   * (renumbered closures): the patch defines them anew, and from now on the
   * name means the patch's definition, not the original.
   */
  readonly retired: string[];
  /** Changed functions and data, for the report: not those whose only change is a source position. */
  readonly changed: string[];
  /** Functions patched only because code above them moved (their panic locations changed). */
  readonly moved: string[];
  readonly added: string[];
  /** Thread-locals of the running program the patch reaches: name -> offset in its TLS template. */
  readonly threadLocals: Map<string, bigint>;
  /** The program's TLS template, to resolve those accesses (`thread-locals.ts`). */
  readonly tlsTemplate: TlsTemplate | undefined;
  /**
   * Thread-locals new in the edit: the patch defines them in a TLS block of
   * its own (static TLS, `patch-object.ts`), by name.
   */
  readonly newThreadLocals: Set<string>;
  /** Reasons the change cannot be applied by patching. Empty when it can. */
  readonly unpatchable: string[];
  /** Unwind records (CIEs, FDEs) of the included functions. */
  frames: { cies: FrameRecord[]; fdes: FrameRecord[] };
  /** The atom index each included atom resolves its relocations against. */
  readonly indexOf: ReadonlyMap<ObjectFile, AtomIndex>;
}

/**
 * Decide the patch contents from the diffs of every recompiled crate. Starts
 * from what changed or is new, then follows relocations: a reference to
 * anything the process already has is bound to it (so unchanged functions and
 * statics are shared, never copied); anything it lacks (a new function, a
 * constant, code the linker had dropped, a std function used for the first
 * time) comes into the patch.
 */
export function planPatch(diffs: readonly Diff[], live: LiveSymbols, libraries: LibraryIndex): PatchPlan {
  const indexOf = new Map<ObjectFile, AtomIndex>();
  const newByName = new Map<string, Atom>();
  for (const diff of diffs) {
    for (const object of diff.new.objects) indexOf.set(object, diff.new);
    for (const [name, atoms] of diff.new.byName) if (!newByName.has(name)) newByName.set(name, atoms[0]!);
  }
  const plan: PatchPlan = { atoms: [], bindings: new Map(), dynamic: new Set(), redirected: [], retired: [], changed: [], moved: [], added: [], threadLocals: new Map(), tlsTemplate: live.tlsTemplate, newThreadLocals: new Set(), unpatchable: [], frames: { cies: [], fdes: [] }, indexOf };
  const includedByName = new Map<string, Atom>();
  const included = new Set<Atom>();
  const queue: Atom[] = [];
  const include = (atom: Atom): Atom => {
    const existing = atom.anonymous ? undefined : includedByName.get(atom.name);
    if (existing) return existing;
    if (included.has(atom)) return atom;
    included.add(atom);
    if (!atom.anonymous) includedByName.set(atom.name, atom);
    plan.atoms.push(atom);
    queue.push(atom);
    return atom;
  };
  const bind = (name: string, referrer: string): boolean => {
    if (live.isAmbiguous(name)) {
      plan.unpatchable.push(`\`${demangleWithoutHash(name)}\` (used by \`${demangleWithoutHash(referrer)}\`) names several symbols in the running program`);
      return true;
    }
    const symbol = live.lookup(name);
    if (!symbol) return false;
    if (symbol.kind === 'ifunc') {
      plan.unpatchable.push(
        `\`${demangleWithoutHash(referrer)}\` calls \`${demangleWithoutHash(name)}\`, an indirect function (ifunc) of the running program: its symbol is a resolver the loader ran once, and a patch cannot bind to what it chose`,
      );
    }
    if (symbol.kind === 'tls') plan.unpatchable.push(`\`${demangleWithoutHash(referrer)}\` refers to the thread-local \`${demangleWithoutHash(name)}\` other than through thread-local storage`);
    plan.bindings.set(name, symbol.address);
    return true;
  };

  for (const diff of diffs) {
    // A changed static comes in as a new copy that only the new code uses;
    // whether that is right for it (or a restart is) the judges decided already.
    for (const atom of diff.changedAtoms) {
      (diff.movedAtoms.has(atom) ? plan.moved : plan.changed).push(atom.name);
      include(atom);
    }
    for (const atom of diff.addedAtoms) {
      plan.added.push(atom.name);
      include(atom);
    }
    // The readers of a static that comes in as a new copy must read the copy: they come along, redirected.
    const copied = new Set(diff.changedAtoms.filter((atom) => atom.category === 'data').map((atom) => atom.name));
    if (copied.size > 0) {
      // Named data pointing to a copy (read-only, or the judges restarted) needs a copy too.
      for (const reader of namedReferrers(diff.new, copied, (referrer) => (referrer.category === 'data' ? 'follow' : 'take'))) {
        if (includedByName.has(reader.name)) continue;
        if (reader.category === 'function') plan.changed.push(reader.name);
        include(reader);
      }
    }
    for (const atom of diff.freshAtoms) {
      if (live.lookup(atom.name)) plan.retired.push(atom.name);
      if (diff.report.functions.changed.some((entry) => entry.symbol === atom.name)) plan.changed.push(atom.name);
      include(atom);
    }
  }

  // The program's own thread-locals resolve to constants (thread-locals.ts);
  // new ones come into the patch's own TLS block (patch-object.ts).
  const followThreadLocal = (index: AtomIndex, object: ObjectFile, relocation: Relocation, referrer: string): void => {
    const target = resolveTarget(index, object, relocation);
    const name = target.type === 'atom' ? target.atom.name : target.name;
    const offset = live.threadLocalOffset(name);
    // Defined here or, by name, in another codegen unit of the new build.
    const atom = target.type === 'atom' ? target.atom : newByName.get(name);
    if (offset === undefined && atom && isThreadLocalData(atom) && !live.lookup(name)) {
      if (!NEW_THREAD_LOCAL_ACCESSES.has(relocation.raw.typeName)) {
        plan.unpatchable.push(`\`${demangleWithoutHash(referrer)}\` reaches the new thread-local \`${demangleWithoutHash(name)}\` through ${relocation.raw.typeName}, which patches do not support`);
        return;
      }
      plan.newThreadLocals.add(include(atom).name);
      return;
    }
    if (!plan.tlsTemplate) {
      plan.unpatchable.push(`\`${demangleWithoutHash(referrer)}\` uses thread-local storage, which the running program has none of`);
      return;
    }
    // The module's own base (local dynamic): the program's block, whichever variable the relocation names.
    if (isModuleBase(relocation)) return;
    if (offset !== undefined) plan.threadLocals.set(name, offset);
    else if (live.lookup(name)?.kind === 'tls') plan.unpatchable.push(`\`${demangleWithoutHash(referrer)}\` uses the thread-local \`${demangleWithoutHash(name)}\`, which an earlier patch added; a later patch cannot reach it yet`);
    else plan.unpatchable.push(`\`${demangleWithoutHash(referrer)}\` uses the thread-local \`${demangleWithoutHash(name)}\`, which the running program does not have`);
  };

  /**
   * A local-dynamic access computes its module's base once (TLSLD) and adds
   * offsets to it (DTPOFF32), and the compiler may share one base among
   * several variables of its crate: an edit that puts some of them in the
   * program's block and some in the patch's cannot share it.
   */
  const checkLocalDynamicModules = (index: AtomIndex, object: ObjectFile, relocations: readonly Relocation[], referrer: string): void => {
    const modules = new Set<string>();
    for (const relocation of relocations) {
      if (relocation.raw.typeName !== 'R_X86_64_TLSLD' && relocation.raw.typeName !== 'R_X86_64_DTPOFF32') continue;
      const target = resolveTarget(index, object, relocation);
      const name = target.type === 'atom' ? target.atom.name : target.name;
      modules.add(live.threadLocalOffset(name) !== undefined || live.lookup(name) ? 'program' : 'patch');
    }
    if (modules.size > 1) plan.unpatchable.push(`\`${demangleWithoutHash(referrer)}\` reaches the program's thread-locals and new ones through one local-dynamic base`);
  };

  const follow = (object: ObjectFile, relocations: readonly Relocation[], referrer: string): void => {
    const index = indexOf.get(object);
    if (!index) return;
    checkLocalDynamicModules(index, object, relocations, referrer);
    for (const relocation of relocations) {
      if (relocation.kind === 'tls') {
        followThreadLocal(index, object, relocation, referrer);
        continue;
      }
      const target = resolveTarget(index, object, relocation);
      if (target.type === 'atom' && target.atom.anonymous) {
        include(target.atom);
        continue;
      }
      const name = target.type === 'atom' ? target.atom.name : target.name;
      if (includedByName.has(name) || plan.dynamic.has(name)) continue;
      // A local the process defines in several objects (a generic's copy per crate): the new build's own copy comes along.
      if (live.isAmbiguous(name) && target.type === 'atom' && target.atom.symbol?.binding === 'local') {
        include(target.atom);
        continue;
      }
      if (bind(name, referrer)) continue;
      if (live.isImported(name)) {
        // Shared-library symbols stay undefined; dlopen resolves them in the process's global scope.
        plan.dynamic.add(name);
        continue;
      }
      const candidate = target.type === 'atom' ? target.atom : (newByName.get(name) ?? libraries.find(name));
      if (candidate) {
        const libraryIndex = libraries.indexOf(candidate.object);
        if (libraryIndex) indexOf.set(candidate.object, libraryIndex);
        include(candidate);
        continue;
      }
      if (!isRustSymbol(name)) {
        // Most likely a C library function the program never called before; the loader finds it or says so.
        plan.dynamic.add(name);
        continue;
      }
      plan.unpatchable.push(`\`${demangleWithoutHash(referrer)}\` refers to \`${demangleWithoutHash(name)}\`, which neither the running program nor any library on its link line defines`);
    }
  };
  const drain = (): void => {
    while (queue.length > 0) {
      const atom = queue.shift()!;
      follow(atom.object, relocationsWithin(atom), atom.name || atom.section.name);
    }
  };
  drain();
  // Unwind tables come last: they reach the functions' exception tables (LSDAs) and the personality routine.
  let framesCovered = 0;
  while (framesCovered < plan.atoms.length) {
    framesCovered = plan.atoms.length;
    const frames = selectFrames(new Set(plan.atoms.map((atom) => atom.object)), indexOf, included);
    for (const record of [...frames.cies, ...frames.fdes]) {
      follow(record.object, record.relocations.filter((relocation) => relocation.offset !== record.offset + 8 || record.cieOffset === undefined), `unwind info of ${record.object.path}`);
    }
    drain();
    plan.frames = frames;
  }

  const retired = new Set(plan.retired);
  const edited = new Set(plan.changed);
  for (const atom of plan.atoms) {
    if (atom.anonymous || atom.category !== 'function' || retired.has(atom.name)) continue;
    if (live.isAmbiguous(atom.name)) {
      // Copies brought along for new code replace nothing; an edited one would need the right copy redirected.
      if (edited.has(atom.name)) plan.unpatchable.push(`\`${demangleWithoutHash(atom.name)}\` names several functions in the running program; ipbp cannot tell which one to redirect`);
      continue;
    }
    if (live.entriesOf(atom.name).length > 0) plan.redirected.push(atom.name);
  }
  plan.unpatchable.splice(0, plan.unpatchable.length, ...new Set(plan.unpatchable));
  return plan;
}
