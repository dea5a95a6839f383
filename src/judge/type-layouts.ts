import { basename } from 'node:path';
import { compareLayouts, DebugInfoError, describeLayoutChange, generatedType, type LayoutChange, readTypeLayouts } from '../debuginfo/index.js';
import type { ObjectFile, Section } from '../object/model.js';
import { note, type Reason, restart, type Verdict } from './verdict.js';

/** One crate's objects before and after an edit. */
export interface CrateObjects {
  readonly crate: string;
  readonly before: readonly ObjectFile[];
  readonly after: readonly ObjectFile[];
}

/** What the debug info says about the types an edit changed. */
export interface LayoutJudgement {
  /** A restart for each change no migration can cover; a note for each crate whose layouts could not be checked. */
  readonly verdicts: Verdict[];
  /** Named types whose declaration changed: the app must migrate them (`ipbp::migrate`) for a patch to apply. */
  readonly migrations: LayoutChange[];
  /** Every type whose layout changed, including those that only contain a changed type. */
  readonly changedTypes: string[];
}

/**
 * Compares the type layouts of each crate's old and new objects. An app
 * without the `ipbp` crate cannot migrate anything, and closures or futures
 * cannot be migrated at all: those changes need a restart. Unreadable debug
 * info is noted as unchecked rather than guessed about.
 */
export function judgeLayouts(crates: readonly CrateObjects[], appUsesIpbp: boolean): LayoutJudgement {
  const changes = new Map<string, LayoutChange>();
  const verdicts: Verdict[] = [];
  for (const { crate, before, after } of crates) {
    try {
      const crateChanges = compareCrate(before, after);
      if (crateChanges === undefined) {
        verdicts.push(
          note(
            'type-layouts',
            `${crate} has no debug info in its objects, so type layout changes cannot be detected (set \`debug = true\` in its profile, and \`split-debuginfo = "off"\` if it is split)`,
          ),
        );
      }
      for (const change of crateChanges ?? []) if (!changes.has(change.type) || change.root) changes.set(change.type, change);
    } catch (error) {
      if (!(error instanceof DebugInfoError)) throw error;
      verdicts.push(note('type-layouts', `type layouts of ${crate} not checked: ${error.message}`));
    }
  }
  const roots = [...changes.values()].filter((change) => change.root);
  const migratable = (change: LayoutChange): boolean => appUsesIpbp && isMigratable(change);
  for (const change of roots) {
    if (migratable(change)) continue;
    const { reason, details } = layoutReason(change, appUsesIpbp);
    verdicts.push(restart('type-layouts', reason, details));
  }
  return { verdicts, migrations: roots.filter(migratable), changedTypes: [...changes.keys()] };
}

/**
 * Only objects whose debug info differs are read: a type whose layout changed
 * is described differently in every object that uses it, so an object with
 * identical debug info holds no news, and skipping it keeps a small edit's
 * check small. `undefined` when the new objects carry no debug info with
 * types in it.
 */
function compareCrate(oldObjects: readonly ObjectFile[], newObjects: readonly ObjectFile[]): LayoutChange[] | undefined {
  const unchanged = new Set<ObjectFile>();
  const oldByUnit = new Map(oldObjects.map((object) => [codegenUnitOf(object), object]));
  for (const object of newObjects) {
    const old = oldByUnit.get(codegenUnitOf(object));
    if (old && sameDebugInfo(old, object)) {
      unchanged.add(old);
      unchanged.add(object);
    }
  }
  // Objects without type info all look alike, so "unchanged" proves nothing about them.
  if (!holdsTypeInfo(newObjects)) return newObjects.length > 0 ? undefined : [];
  const before = readTypeLayouts(oldObjects.filter((object) => !unchanged.has(object)));
  const after = readTypeLayouts(newObjects.filter((object) => !unchanged.has(object)));
  return compareLayouts(before.layouts, after.layouts);
}

/**
 * The codegen unit an object was compiled from: rustc names objects
 * `<crate>-<hash>.<unit>.<random>.rcgu.o`, with a part that changes on every
 * run, so the same unit of two builds is found by the name without it.
 */
function codegenUnitOf(object: ObjectFile): string {
  return basename(object.path).replace(/\.[0-9a-z]+\.rcgu\.o\)?$/, '');
}

/**
 * Whether the objects describe their types: some debug info, not only the
 * skeleton units split DWARF leaves behind (the types are in .dwo files
 * then), and not the limited kind (`-C debuginfo=1`: functions and lines,
 * no types), which would pass every layout check without reading anything.
 */
function holdsTypeInfo(objects: readonly ObjectFile[]): boolean {
  const withDebugInfo = objects
    .map((object) => ({ object, size: object.sections.find((section) => section.name === '.debug_info')?.size }))
    .filter((entry): entry is { object: ObjectFile; size: number } => entry.size !== undefined)
    .sort((a, b) => a.size - b.size);
  // Smallest first: in a full debug build the first object with a full unit describes some type.
  for (const { object } of withDebugInfo) {
    const read = readTypeLayouts([object]);
    if (read.objectsWithDebugInfo === 0) return false;
    if (read.typesRead > 0) return true;
  }
  return false;
}

function sameDebugInfo(a: ObjectFile, b: ObjectFile): boolean {
  const debugA = a.sections.filter(isDebugSection);
  const debugB = b.sections.filter(isDebugSection);
  if (debugA.length !== debugB.length) return false;
  return debugA.every((section, i) => {
    const other = debugB[i]!;
    return section.name === other.name && Buffer.from(section.data.buffer, section.data.byteOffset, section.data.byteLength).equals(other.data);
  });
}

/**
 * The debug sections and their relocation tables: in a relocatable object
 * the references between debug sections are relocation addends, not bytes.
 */
function isDebugSection(section: Section): boolean {
  return section.name.startsWith('.debug_') || section.name.startsWith('.rela.debug_');
}

/**
 * Only named types can be migrated (`ipbp::migrate::<T>` needs to name `T`):
 * a closure or future that already exists keeps its old captures or state,
 * and no hook can rebuild it.
 */
function isMigratable(change: LayoutChange): boolean {
  return generatedType(change.type) === undefined;
}

/** The reason a restart gives for one layout change. */
export function layoutReason(change: LayoutChange, appUsesIpbp: boolean): Reason {
  const { reason, whatChanged } = shortened(describeLayoutChange(change));
  const remedy = !isMigratable(change)
    ? 'closures and futures made before the edit may still be live, and a patch cannot update them'
    : `values of the old layout may be live (${appUsesIpbp ? `register \`ipbp::migrate::<${change.type}>\` to keep them without a restart` : "the `ipbp` crate's `migrate` can keep them without a restart"})`;
  return { reason, details: whatChanged ? `${whatChanged}; ${remedy}` : remedy };
}

/** Longest description kept whole in the one-line reason; a longer one keeps its first item there, and the rest goes to the details. */
const REASON_LENGTH = 150;

function shortened(description: string): { reason: string; whatChanged?: string } {
  if (description.length <= REASON_LENGTH) return { reason: description };
  const open = description.indexOf(' (');
  const firstItem = description.indexOf('; ', open);
  if (open < 0 || firstItem < 0) return { reason: description };
  return { reason: `${description.slice(0, firstItem)}; …)`, whatChanged: description.slice(open + 2, -1) };
}

/**
 * Whether the symbol path `path` names one of `types`. rustc's symbol hashes
 * cover the definitions of the types involved, so when a type's layout
 * changes, every function over a type containing it gets a new symbol
 * (`drop_in_place<Vec<app::Player>>`), and every vtable made for such a type
 * new slots, although no signature changed. That follows from the layout
 * change, which is judged on its own (a migration or a restart).
 */
export function mentionsType(path: string, types: readonly string[]): boolean {
  return types.some((type) => {
    for (let at = path.indexOf(type); at >= 0; at = path.indexOf(type, at + 1)) {
      if (!isIdentifierChar(path[at - 1]) && !isIdentifierChar(path[at + type.length])) return true;
    }
    return false;
  });
}

function isIdentifierChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_]/.test(char);
}
