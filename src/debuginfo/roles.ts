import { DW_TAG } from './constants.js';

/**
 * What the layout reader does with a DIE, decided once per abbreviation from
 * its tag so the DIE loop switches on a small number. SKIP covers the bulk of
 * a debug build's DIEs (subprograms, variables, parameters, lexical blocks,
 * template parameters), whose attributes are stepped over undecoded.
 */
export const Role = {
  skip: 0,
  unit: 1,
  namespace: 2,
  aggregate: 3,
  member: 4,
  variantPart: 5,
  variant: 6,
  enumerator: 7,
  /** Any other type a member can name: base, pointer, typedef, qualifiers, function. */
  type: 8,
  array: 9,
  subrange: 10,
  /** Only when signatures are read (`roleOfTagWithFunctions`); the layout reader skips these. */
  subprogram: 11,
  parameter: 12,
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export function roleOfTag(tag: number): Role {
  switch (tag) {
    case DW_TAG.compile_unit:
    case DW_TAG.partial_unit:
    case DW_TAG.skeleton_unit:
      return Role.unit;
    case DW_TAG.namespace:
      return Role.namespace;
    case DW_TAG.structure_type:
    case DW_TAG.class_type:
    case DW_TAG.union_type:
    case DW_TAG.enumeration_type:
      return Role.aggregate;
    case DW_TAG.member:
      return Role.member;
    case DW_TAG.variant_part:
      return Role.variantPart;
    case DW_TAG.variant:
      return Role.variant;
    case DW_TAG.enumerator:
      return Role.enumerator;
    case DW_TAG.base_type:
    case DW_TAG.pointer_type:
    case DW_TAG.reference_type:
    case DW_TAG.rvalue_reference_type:
    case DW_TAG.typedef:
    case DW_TAG.const_type:
    case DW_TAG.volatile_type:
    case DW_TAG.restrict_type:
    case DW_TAG.atomic_type:
    case DW_TAG.subroutine_type:
    case DW_TAG.unspecified_type:
    case DW_TAG.ptr_to_member_type:
      return Role.type;
    case DW_TAG.array_type:
      return Role.array;
    case DW_TAG.subrange_type:
      return Role.subrange;
    default:
      return Role.skip;
  }
}

/**
 * The roles of the signature reader: the layout reader's, plus subprograms
 * and their parameters. A separate table, so that reading layouts alone
 * keeps stepping over subprograms undecoded.
 */
export function roleOfTagWithFunctions(tag: number): Role {
  switch (tag) {
    case DW_TAG.subprogram:
      return Role.subprogram;
    case DW_TAG.formal_parameter:
    case DW_TAG.unspecified_parameters:
      return Role.parameter;
    default:
      return roleOfTag(tag);
  }
}
