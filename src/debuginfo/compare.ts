import { describeGeneratedType, generatedType, isRenumberable, isVtableType, withoutNumbers } from './generated-names.js';
import { diffLayout, embeddedTypes, layoutSignature, sameLayout } from './layout-diff.js';
import type { LayoutChange, TypeLayout } from './model.js';

type Layouts = ReadonlyMap<string, TypeLayout>;

/** A difference found, before deciding whether the type itself or a member is the cause. */
interface Found {
  readonly type: string;
  readonly before: TypeLayout;
  readonly after: TypeLayout | undefined;
  readonly phrases: readonly string[];
  readonly shapeChanged: boolean;
  /** Set for a generated type's message ("captures of a closure in `app::main` changed"). */
  readonly lead: string | undefined;
}

/**
 * The layout changes between two builds that live values could notice.
 *
 * Only types in both builds are compared: a new type has no live values, and
 * a removed one is not used by new code. Variant payload structs are compared
 * as part of their enum, and vtable types are left to the object diff.
 * Types named after numbered generated items (closure environments, async
 * states, and instantiations with them) are matched as a multiset per
 * renumbering-blind name, because adding a closure renumbers the ones after it.
 */
export function compareLayouts(before: Layouts, after: Layouts): LayoutChange[] {
  const found: Found[] = [];
  const payloads = new Set([...payloadTypes(before), ...payloadTypes(after)]);
  const beforeGroups = new Map<string, TypeLayout[]>();
  const afterGroups = new Map<string, TypeLayout[]>();

  for (const [name, layout] of before) {
    if (payloads.has(name) || isVtableType(name)) continue;
    if (isRenumberable(name)) {
      addTo(beforeGroups, withoutNumbers(name), layout);
      continue;
    }
    const next = after.get(name);
    if (!next || sameLayout(layout, next, before, after)) continue;
    const { phrases, shapeChanged } = diffLayout(layout, next, before, after);
    if (phrases.length > 0) found.push({ type: name, before: layout, after: next, phrases, shapeChanged, lead: undefined });
  }
  for (const [name, layout] of after) {
    if (!payloads.has(name) && !isVtableType(name) && isRenumberable(name)) addTo(afterGroups, withoutNumbers(name), layout);
  }
  for (const [key, olds] of beforeGroups) {
    const news = afterGroups.get(key);
    if (!news) continue;
    if (!keptNamesAndLayouts(olds, news, before, after)) found.push(...unmatchedGenerated(olds, news, before, after));
  }

  // A type whose declaration is unchanged but whose offsets moved is explained
  // by a changed member type (Option<Counter> after Counter); otherwise the
  // cause is in the type itself, e.g. a changed #[repr(align)].
  const changed = new Set(found.map((f) => f.type));
  const changes = found.map((f): LayoutChange => {
    const members = embeddedTypes(f.before, before);
    const explained = members.some((type) => changed.has(type) || (f.after === undefined && isRenumberable(type)));
    const detail = f.lead ? (f.phrases.length > 0 ? `${f.lead} (${f.phrases.join('; ')})` : f.lead) : f.phrases.join('; ');
    return { type: f.type, detail, root: f.shapeChanged || !explained };
  });
  return changes.sort((a, b) => Number(b.root) - Number(a.root) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** The usual case, no closure added or removed: every generated type kept its name and its layout. */
function keptNamesAndLayouts(olds: readonly TypeLayout[], news: readonly TypeLayout[], before: Layouts, after: Layouts): boolean {
  if (olds.length !== news.length) return false;
  return olds.every((layout) => {
    const next = after.get(layout.name);
    return next !== undefined && sameLayout(layout, next, before, after);
  });
}

/**
 * Old generated types with no identical (up to numbering) counterpart among
 * the new ones of the same renumbering-blind name. When exactly one old and
 * one new type are left over, they are the same closure edited, and their
 * difference is spelled out.
 */
function unmatchedGenerated(olds: readonly TypeLayout[], news: readonly TypeLayout[], before: Layouts, after: Layouts): Found[] {
  const available = new Map<string, number>();
  const newSignatures = news.map((layout) => layoutSignature(layout, after, withoutNumbers));
  for (const signature of newSignatures) available.set(signature, (available.get(signature) ?? 0) + 1);
  const leftOld: TypeLayout[] = [];
  const consumed = new Map<string, number>();
  for (const layout of olds) {
    const signature = layoutSignature(layout, before, withoutNumbers);
    const count = available.get(signature) ?? 0;
    if (count > 0) {
      available.set(signature, count - 1);
      consumed.set(signature, (consumed.get(signature) ?? 0) + 1);
    } else {
      leftOld.push(layout);
    }
  }
  const leftNew = news.filter((_, i) => {
    const signature = newSignatures[i]!;
    const count = consumed.get(signature) ?? 0;
    if (count === 0) return true;
    consumed.set(signature, count - 1);
    return false;
  });
  const pair = leftOld.length === 1 && leftNew.length === 1 ? leftNew[0] : undefined;
  return leftOld.map((layout): Found => {
    const generated = generatedType(layout.name);
    const { phrases, shapeChanged } = pair ? diffLayout(layout, pair, before, after, withoutNumbers) : { phrases: [], shapeChanged: generated !== undefined };
    const lead = generated ? `${describeGeneratedType(generated)} changed` : phrases.length === 0 ? `no identical layout among the ${news.length} after the edit` : undefined;
    return { type: layout.name, before: layout, after: pair, phrases, shapeChanged, lead };
  });
}

/** Names of the structs that hold enum variants' fields (`Option<T>::Some`). */
function payloadTypes(layouts: Layouts): string[] {
  const names: string[] = [];
  for (const layout of layouts.values()) for (const variant of layout.variants) if (layouts.has(variant.type)) names.push(variant.type);
  return names;
}

function addTo(groups: Map<string, TypeLayout[]>, key: string, layout: TypeLayout): void {
  const group = groups.get(key);
  if (group) group.push(layout);
  else groups.set(key, [layout]);
}

/** One line for people: "layout of `hooks::Counter` changed (size 16 -> 24; field `extra: u64` added at offset 16)". */
export function describeLayoutChange(change: LayoutChange): string {
  if (generatedType(change.type)) return change.detail;
  const cause = change.root ? '' : ' because a type it contains changed';
  return `layout of \`${change.type}\` changed${cause} (${change.detail})`;
}
