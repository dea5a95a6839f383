/** Type layouts as read from DWARF, keyed and compared by qualified name. */

export type LayoutKind = 'struct' | 'enum' | 'union' | 'c-enum';

export interface MemberLayout {
  readonly name: string;
  readonly offset: number;
  /** Qualified name of the member's type. */
  readonly type: string;
}

/** Where a Rust enum keeps its discriminant (possibly a niche inside a variant's payload). */
export interface DiscriminantLayout {
  readonly offset: number;
  readonly type: string;
}

/** One DW_TAG_variant of a Rust enum. */
export interface VariantLayout {
  /** The variant's name: the name of its member, e.g. `Some`. */
  readonly name: string;
  /** DW_AT_discr_value; undefined for the variant every other value selects (niche layouts). */
  readonly discriminant: bigint | undefined;
  /** Offset of the variant's member (0 in rustc's output). */
  readonly offset: number;
  /** Qualified name of the payload struct, e.g. `core::option::Option<u64>::Some`; its layout is in the same map. */
  readonly type: string;
}

export interface EnumeratorLayout {
  readonly name: string;
  readonly value: bigint;
}

export interface TypeLayout {
  /** Namespaces and enclosing types joined with `::`, e.g. `core::option::Option<hooks::Counter>`. */
  readonly name: string;
  readonly kind: LayoutKind;
  readonly size: number;
  /** DW_AT_alignment when present. */
  readonly alignment: number | undefined;
  readonly members: readonly MemberLayout[];
  /** Rust enums (and coroutine states): the discriminant, undefined for other kinds or a single variant. */
  readonly discriminant: DiscriminantLayout | undefined;
  readonly variants: readonly VariantLayout[];
  /** C-like enums (DW_TAG_enumeration_type). */
  readonly enumerators: readonly EnumeratorLayout[];
}

export interface LayoutChange {
  /** Qualified name of the type, as in the old build. */
  readonly type: string;
  /** What changed, for people: `size 16 -> 24; field \`extra: u64\` added at offset 16`. */
  readonly detail: string;
  /**
   * True when the type's own declaration changed (fields, field types,
   * variants, enumerators, or an alignment no member explains); false when
   * only its size or offsets moved because a member type's layout changed
   * (`Option<Counter>` after `Counter` changed).
   */
  readonly root: boolean;
}
