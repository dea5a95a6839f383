import type { MemberLayout, TypeLayout } from './model.js';

/** Maps a type name before comparing it (identity, or the renumbering-blind form). */
export type Rename = (name: string) => string;
const same: Rename = (name) => name;

export interface LayoutDiff {
  /** What differs, for people, in a stable order; empty when the layouts are the same. */
  readonly phrases: string[];
  /**
   * Whether the declaration itself differs: kind, fields or their types,
   * variants or their payloads' fields, enumerators. When false, only sizes,
   * offsets, alignments or discriminant encodings moved.
   */
  readonly shapeChanged: boolean;
}

/**
 * Compare two layouts of one type. Fields are matched by name, not by order:
 * memory holds fields at offsets, so a reordering that keeps every offset
 * changes nothing a live value depends on (and rustc reorders fields anyway).
 * Variant payload structs are looked up in their build's map and compared as
 * part of the enum, so an enum reads as one change.
 */
export function diffLayout(before: TypeLayout, after: TypeLayout, beforeMap: ReadonlyMap<string, TypeLayout>, afterMap: ReadonlyMap<string, TypeLayout>, rename: Rename = same): LayoutDiff {
  const phrases: string[] = [];
  let shapeChanged = false;
  const shape = (phrase: string): void => {
    phrases.push(phrase);
    shapeChanged = true;
  };
  if (before.kind !== after.kind) shape(`kind ${before.kind} -> ${after.kind}`);
  if (before.size !== after.size) phrases.push(`size ${before.size} -> ${after.size}`);
  if (before.alignment !== after.alignment) phrases.push(`alignment ${before.alignment ?? 'unknown'} -> ${after.alignment ?? 'unknown'}`);
  if (diffMembers(before.members, after.members, '', phrases, rename)) shapeChanged = true;

  const [d0, d1] = [before.discriminant, after.discriminant];
  if (d0 && d1) {
    if (d0.offset !== d1.offset) phrases.push(`discriminant moved from offset ${d0.offset} to ${d1.offset}`);
    if (rename(d0.type) !== rename(d1.type)) phrases.push(`discriminant type ${d0.type} -> ${d1.type}`);
  } else if (d0 || d1) {
    phrases.push(d0 ? 'discriminant removed' : 'discriminant added');
  }

  const afterVariants = new Map(after.variants.map((v) => [v.name, v]));
  const beforeNames = new Set(before.variants.map((v) => v.name));
  for (const v0 of before.variants) {
    const v1 = afterVariants.get(v0.name);
    if (!v1) {
      shape(`variant \`${v0.name}\` removed`);
      continue;
    }
    if (v0.discriminant !== v1.discriminant) phrases.push(`variant \`${v0.name}\` discriminant ${v0.discriminant ?? 'default'} -> ${v1.discriminant ?? 'default'}`);
    if (v0.offset !== v1.offset) phrases.push(`variant \`${v0.name}\` moved from offset ${v0.offset} to ${v1.offset}`);
    const p0 = beforeMap.get(v0.type);
    const p1 = afterMap.get(v1.type);
    if (p0 && p1) {
      if (diffMembers(p0.members, p1.members, `variant \`${v0.name}\`: `, phrases, rename)) shapeChanged = true;
    } else if (rename(v0.type) !== rename(v1.type)) {
      shape(`variant \`${v0.name}\` changed type from ${v0.type} to ${v1.type}`);
    }
  }
  for (const v1 of after.variants) if (!beforeNames.has(v1.name)) shape(`variant \`${v1.name}\` added`);

  const afterEnumerators = new Map(after.enumerators.map((e) => [e.name, e.value]));
  const beforeEnumerators = new Set(before.enumerators.map((e) => e.name));
  for (const e0 of before.enumerators) {
    const value = afterEnumerators.get(e0.name);
    if (value === undefined) shape(`enumerator \`${e0.name}\` removed`);
    else if (value !== e0.value) shape(`enumerator \`${e0.name}\` value ${e0.value} -> ${value}`);
  }
  for (const e1 of after.enumerators) if (!beforeEnumerators.has(e1.name)) shape(`enumerator \`${e1.name}\` added (= ${e1.value})`);

  return { phrases, shapeChanged };
}

/**
 * Append the differences between two field lists, the causes (removed,
 * retyped, added fields) before their effects (moved fields); true when a
 * field was added, removed or retyped.
 */
function diffMembers(before: readonly MemberLayout[], after: readonly MemberLayout[], prefix: string, phrases: string[], rename: Rename): boolean {
  const afterByKey = keyed(after);
  const beforeByKey = keyed(before);
  const causes: string[] = [];
  const moves: string[] = [];
  for (const [key, m0] of beforeByKey) {
    const m1 = afterByKey.get(key);
    const field = `${prefix}field \`${m0.name}\``;
    if (!m1) {
      causes.push(`${field} removed`);
      continue;
    }
    const moved = m0.offset !== m1.offset ? ` from offset ${m0.offset} to ${m1.offset}` : '';
    if (rename(m0.type) !== rename(m1.type)) causes.push(`${field} changed type from ${m0.type} to ${m1.type}${moved ? ` and moved${moved}` : ''}`);
    else if (moved) moves.push(`${field} moved${moved}`);
  }
  for (const [key, m1] of afterByKey) {
    if (!beforeByKey.has(key)) causes.push(`${prefix}field \`${m1.name}: ${m1.type}\` added at offset ${m1.offset}`);
  }
  phrases.push(...causes, ...moves);
  return causes.length > 0;
}

/** Members by name; a repeated name (unnamed members) is told apart by its occurrence. */
function keyed(members: readonly MemberLayout[]): Map<string, MemberLayout> {
  const map = new Map<string, MemberLayout>();
  for (const member of members) {
    let key = member.name;
    for (let n = 2; map.has(key); n++) key = `${member.name}#${n}`;
    map.set(key, member);
  }
  return map;
}

/**
 * Whether `diffLayout` would find nothing, checked field by field in
 * declaration order without allocating: nearly every type is unchanged, and
 * a build has thousands of them. (Layouts whose fields were merely reordered
 * fail this check and get the full comparison.)
 */
export function sameLayout(before: TypeLayout, after: TypeLayout, beforeMap: ReadonlyMap<string, TypeLayout>, afterMap: ReadonlyMap<string, TypeLayout>, rename: Rename = same): boolean {
  if (before.kind !== after.kind || before.size !== after.size || before.alignment !== after.alignment) return false;
  if (!sameMembers(before.members, after.members, rename)) return false;
  const [d0, d1] = [before.discriminant, after.discriminant];
  if (d0 !== d1 && (!d0 || !d1 || d0.offset !== d1.offset || rename(d0.type) !== rename(d1.type))) return false;
  if (before.variants.length !== after.variants.length || before.enumerators.length !== after.enumerators.length) return false;
  for (let i = 0; i < before.variants.length; i++) {
    const v0 = before.variants[i]!;
    const v1 = after.variants[i]!;
    if (v0.name !== v1.name || v0.discriminant !== v1.discriminant || v0.offset !== v1.offset) return false;
    const p0 = beforeMap.get(v0.type);
    const p1 = afterMap.get(v1.type);
    if (p0 && p1 ? !sameMembers(p0.members, p1.members, rename) : p0 !== p1 || rename(v0.type) !== rename(v1.type)) return false;
  }
  for (let i = 0; i < before.enumerators.length; i++) {
    const e0 = before.enumerators[i]!;
    const e1 = after.enumerators[i]!;
    if (e0.name !== e1.name || e0.value !== e1.value) return false;
  }
  return true;
}

function sameMembers(before: readonly MemberLayout[], after: readonly MemberLayout[], rename: Rename): boolean {
  if (before.length !== after.length) return false;
  for (let i = 0; i < before.length; i++) {
    const m0 = before[i]!;
    const m1 = after[i]!;
    if (m0.name !== m1.name || m0.offset !== m1.offset || (m0.type !== m1.type && rename(m0.type) !== rename(m1.type))) return false;
  }
  return true;
}

/**
 * Everything `diffLayout` compares, as one string, with names passed through
 * `rename`: equal signatures mean no difference. Used to match renumbered
 * closure environments as a multiset.
 */
export function layoutSignature(layout: TypeLayout, map: ReadonlyMap<string, TypeLayout>, rename: Rename): string {
  const members = (list: readonly MemberLayout[]): string =>
    [...keyed(list)]
      .map(([key, m]) => `${key}:${rename(m.type)}@${m.offset}`)
      .sort()
      .join(',');
  const d = layout.discriminant;
  const variants = [...layout.variants]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((v) => {
      const payload = map.get(v.type);
      return `${v.name}=${v.discriminant ?? 'default'}@${v.offset}{${payload ? members(payload.members) : rename(v.type)}}`;
    });
  const enumerators = layout.enumerators.map((e) => `${e.name}=${e.value}`).sort();
  return [layout.kind, layout.size, layout.alignment ?? '', `{${members(layout.members)}}`, d ? `${rename(d.type)}@${d.offset}` : '', variants.join(';'), enumerators.join(',')].join('|');
}

/** The types whose layouts this one embeds by value: fields, and fields of variant payloads; arrays stand for their elements. */
export function embeddedTypes(layout: TypeLayout, map: ReadonlyMap<string, TypeLayout>): string[] {
  const types = layout.members.map((m) => elementType(m.type));
  for (const variant of layout.variants) {
    const payload = map.get(variant.type);
    if (payload) for (const m of payload.members) types.push(elementType(m.type));
  }
  return types;
}

/** `[[T; 2]; 3]` -> `T`. */
function elementType(name: string): string {
  let type = name;
  for (;;) {
    const match = /^\[(.*); \d+\]$/.exec(type);
    if (!match) return type;
    type = match[1]!;
  }
}
