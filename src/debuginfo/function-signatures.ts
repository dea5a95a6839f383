import type { ObjectFile } from '../object/model.js';
import { collectTypes } from './collect.js';
import { DebugInfoError } from './errors.js';
import type { RawParameter, RawSubprogram } from './raw.js';
import { debugSections } from './sections.js';
import { TypeNames } from './type-names.js';
import { NO_REFERENCE } from './values.js';

/** Longer chains of DW_AT_specification / DW_AT_abstract_origin than LLVM makes (it makes at most two links). */
const MAX_CHAIN = 8;

/**
 * The signature of every function defined in `objects` that its debug info
 * describes, by symbol (DW_AT_linkage_name): `fn(u64, &str) -> u64`, with
 * the types named as in type layouts; `fn(&demo::Square)` for a function
 * returning `()`, `fn() -> !` for one that never returns. A definition is a
 * subprogram with code in the object (DW_AT_low_pc or DW_AT_ranges), not a
 * declaration inside a type nor an abstract instance of an inlined function;
 * the ones that complete such a DIE (DW_AT_specification for methods,
 * DW_AT_abstract_origin for out-of-line copies of inlined functions) take
 * the symbol, return type and parameters it lacks from it.
 *
 * Objects without debug info, with split DWARF, or with rustc's limited
 * debug info (no types: every function would read `fn()`) add nothing. The
 * first object (in the order given) that defines a symbol wins, as with
 * layouts. Throws DebugInfoError for malformed debug info.
 */
export function readFunctionSignatures(objects: readonly ObjectFile[]): Map<string, string> {
  const signatures = new Map<string, string>();
  for (const object of objects) {
    const sections = debugSections(object);
    if (!sections) continue;
    const raw = collectTypes(sections, { subprograms: true });
    if (raw.subprograms.length === 0) continue;
    const byDie = new Map(raw.subprograms.map((subprogram) => [subprogram.die, subprogram]));
    const names = new TypeNames(raw.types);
    for (const subprogram of raw.subprograms) {
      if (!subprogram.hasCode || subprogram.declaration) continue;
      const resolved = resolve(subprogram, byDie, object.path);
      if (resolved.linkageName === undefined || signatures.has(resolved.linkageName)) continue;
      signatures.set(resolved.linkageName, signatureOf(resolved, names));
    }
  }
  return signatures;
}

interface ResolvedSubprogram {
  readonly linkageName: string | undefined;
  readonly returnType: number;
  readonly noreturn: boolean;
  readonly parameters: readonly RawParameter[];
}

/**
 * A definition with what the DIEs it completes say. The parameters are the
 * ones of the DIE that describes them in full: the abstract instance for a
 * concrete out-of-line copy (whose own parameters may be optimized out), the
 * definition itself otherwise (a method's declaration lists the same types).
 */
function resolve(definition: RawSubprogram, byDie: ReadonlyMap<number, RawSubprogram>, file: string): ResolvedSubprogram {
  let linkageName = definition.linkageName;
  let returnType = definition.returnType;
  let noreturn = definition.noreturn;
  let parameters = definition.parameters;
  let current = definition;
  for (let links = 0; ; links++) {
    const next = current.abstractOrigin >= 0 ? current.abstractOrigin : current.specification;
    if (next < 0) break;
    if (links >= MAX_CHAIN) throw new DebugInfoError(file, '.debug_info', definition.die, `DW_TAG_subprogram: more than ${MAX_CHAIN} DW_AT_specification or DW_AT_abstract_origin links (a cycle?)`);
    const completed = byDie.get(next);
    if (!completed) {
      throw new DebugInfoError(file, '.debug_info', current.die, `DW_TAG_subprogram: DW_AT_specification or DW_AT_abstract_origin 0x${next.toString(16)} is not a subprogram`);
    }
    if (current.abstractOrigin >= 0) parameters = completed.parameters;
    linkageName ??= completed.linkageName;
    if (returnType === NO_REFERENCE) returnType = completed.returnType;
    noreturn ||= completed.noreturn;
    current = completed;
  }
  return { linkageName, returnType, noreturn, parameters };
}

function signatureOf(subprogram: ResolvedSubprogram, names: TypeNames): string {
  const parameters = subprogram.parameters.map((parameter) => (parameter.variadic ? '...' : parameter.type === NO_REFERENCE ? '{unknown type}' : names.nameOf(parameter.type)));
  const returns = subprogram.returnType !== NO_REFERENCE ? ` -> ${names.nameOf(subprogram.returnType)}` : subprogram.noreturn ? ' -> !' : '';
  return `fn(${parameters.join(', ')})${returns}`;
}
