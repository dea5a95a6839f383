import type { ObjectFile } from '../object/model.js';
import { collectTypes } from './collect.js';
import { DW_TAG } from './constants.js';
import type { LayoutKind, TypeLayout } from './model.js';
import type { RawAggregate, RawTypes } from './raw.js';
import { debugSections } from './sections.js';
import { TypeNames } from './type-names.js';

export interface TypeLayouts {
  /** Every defined struct, enum and union with a size, by qualified name. */
  readonly layouts: Map<string, TypeLayout>;
  /** Objects that carried full debug info: 0 means no layout check was possible. */
  readonly objectsWithDebugInfo: number;
  /** Type descriptions read, of any kind: none in full units means limited debug info (`-C debuginfo=1`), with functions but no types. */
  readonly typesRead: number;
}

/**
 * Read the type layouts of a build's objects. rustc repeats a type in every
 * codegen unit that uses it; the first object (in the order given) that
 * describes a name wins, so the same build order gives the same choice.
 * Throws DebugInfoError for malformed debug info.
 */
export function readTypeLayouts(objects: readonly ObjectFile[]): TypeLayouts {
  const layouts = new Map<string, TypeLayout>();
  let objectsWithDebugInfo = 0;
  let typesRead = 0;
  for (const object of objects) {
    const sections = debugSections(object);
    if (!sections) continue;
    const raw = collectTypes(sections);
    if (raw.hasFullUnits) objectsWithDebugInfo++;
    typesRead += raw.types.size;
    addLayouts(raw, layouts);
  }
  return { layouts, objectsWithDebugInfo, typesRead };
}

function addLayouts(raw: RawTypes, layouts: Map<string, TypeLayout>): void {
  const names = new TypeNames(raw.types);
  for (const aggregate of raw.aggregates) {
    const name = aggregate.name;
    // Declarations and unsized types say nothing about a layout.
    if (name === undefined || aggregate.declaration || aggregate.byteSize === undefined || layouts.has(name)) continue;
    layouts.set(name, layoutOf(aggregate, name, aggregate.byteSize, names));
  }
}

function layoutOf(aggregate: RawAggregate, name: string, size: number, names: TypeNames): TypeLayout {
  const part = aggregate.variantPart;
  const discriminantMember = part ? (part.candidates.find((c) => c.die === part.discr) ?? (part.discr < 0 && part.candidates.length === 1 ? part.candidates[0] : undefined))?.member : undefined;
  return {
    name,
    kind: kindOf(aggregate),
    size,
    alignment: aggregate.alignment,
    members: aggregate.members.map((m) => ({ name: m.name, offset: m.offset, type: names.nameOf(m.type) })),
    discriminant: discriminantMember ? { offset: discriminantMember.offset, type: names.nameOf(discriminantMember.type) } : undefined,
    variants: (part?.variants ?? []).flatMap((v) => (v.member ? [{ name: v.member.name, discriminant: v.value, offset: v.member.offset, type: names.nameOf(v.member.type) }] : [])),
    enumerators: aggregate.enumerators,
  };
}

function kindOf(aggregate: RawAggregate): LayoutKind {
  if (aggregate.tag === DW_TAG.enumeration_type) return 'c-enum';
  if (aggregate.tag === DW_TAG.union_type) return 'union';
  return aggregate.variantPart ? 'enum' : 'struct';
}
