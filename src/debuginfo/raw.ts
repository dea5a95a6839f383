/**
 * What the DIE walk keeps of one object's types, before type references are
 * resolved to names: references are offsets into .debug_info, since a member
 * may name a type whose DIE comes later in the unit.
 */

export interface RawMember {
  readonly name: string;
  readonly offset: number;
  /** Offset of the member's type DIE, or NO_REFERENCE / EXTERNAL_REFERENCE. */
  readonly type: number;
}

export interface RawVariant {
  /** DW_AT_discr_value; undefined for the variant taken by every other value (niche layouts). */
  readonly value: bigint | undefined;
  member: RawMember | undefined;
}

export interface RawVariantPart {
  /** The DIE that DW_AT_discr names, or -1. */
  readonly discr: number;
  /** Members directly inside the variant part, by DIE offset: one of them is the discriminant. */
  readonly candidates: { readonly die: number; readonly member: RawMember }[];
  readonly variants: RawVariant[];
}

/** Any type DIE a member can refer to. */
export interface RawType {
  readonly tag: number;
  /** Qualified for structs, unions, enums and typedefs; as written for the others. */
  readonly name: string | undefined;
  /** DW_AT_type: the pointee, element, aliased or underlying type. */
  readonly target: number;
  /** Array dimensions, outermost first; -1 for an unknown bound. */
  readonly dimensions: number[] | undefined;
}

export interface RawAggregate extends RawType {
  readonly byteSize: number | undefined;
  readonly alignment: number | undefined;
  readonly declaration: boolean;
  readonly members: RawMember[];
  variantPart: RawVariantPart | undefined;
  readonly enumerators: { readonly name: string; readonly value: bigint }[];
}

export interface RawTypes {
  /** Every type DIE by its offset in .debug_info. */
  readonly types: Map<number, RawType>;
  /** Struct, union and enum DIEs in DIE order. */
  readonly aggregates: RawAggregate[];
  /** Whether any unit carried full debug info (not a split-DWARF skeleton). */
  readonly hasFullUnits: boolean;
  /**
   * Subprogram DIEs in DIE order, when asked for (empty otherwise), from
   * units that describe types: rustc's limited debug info (`debuginfo=1`)
   * has subprograms without their return and parameter types, which would
   * read as `fn()`.
   */
  readonly subprograms: RawSubprogram[];
}

/** One DW_TAG_formal_parameter (or DW_TAG_unspecified_parameters, a C `...`). */
export interface RawParameter {
  /** Offset of the parameter's type DIE, or NO_REFERENCE / EXTERNAL_REFERENCE. */
  readonly type: number;
  readonly variadic: boolean;
}

/** One DW_TAG_subprogram: a definition, a declaration inside a type, or an abstract instance of an inlined function. */
export interface RawSubprogram {
  /** Offset of the DIE in .debug_info, which DW_AT_specification and DW_AT_abstract_origin refer to. */
  readonly die: number;
  /** DW_AT_linkage_name: the symbol. */
  readonly linkageName: string | undefined;
  /** DW_AT_type: the return type; NO_REFERENCE for `()`, `!` or when a DIE this one completes gives it. */
  readonly returnType: number;
  readonly noreturn: boolean;
  readonly declaration: boolean;
  /** Has DW_AT_low_pc or DW_AT_ranges: its code is in this object. */
  readonly hasCode: boolean;
  /** DW_AT_specification: the declaration this DIE defines, or -1. */
  readonly specification: number;
  /** DW_AT_abstract_origin: the abstract instance this concrete one instantiates, or -1. */
  readonly abstractOrigin: number;
  readonly parameters: RawParameter[];
}
