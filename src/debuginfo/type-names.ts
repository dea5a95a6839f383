import { DW_TAG } from './constants.js';
import type { RawType } from './raw.js';
import { EXTERNAL_REFERENCE, NO_REFERENCE } from './values.js';

/**
 * Names of the types members refer to, as rustc spells them: structs, enums
 * and unions by their qualified path, base and pointer types by the name
 * rustc gives them (`u32`, `&str`, `*const u8`), arrays as `[T; N]`.
 * Memoized: a debug object names the same few hundred types thousands of times.
 */
export class TypeNames {
  private readonly memo = new Map<number, string>();

  constructor(private readonly types: ReadonlyMap<number, RawType>) {}

  nameOf(reference: number): string {
    return this.resolve(reference, 0);
  }

  private resolve(reference: number, depth: number): string {
    if (reference === NO_REFERENCE) return '()';
    if (reference === EXTERNAL_REFERENCE) return '{type in another unit}';
    const known = this.memo.get(reference);
    if (known !== undefined) return known;
    // Only a corrupt or cyclic chain of unnamed qualifiers gets this deep.
    if (depth > 64) return '{recursive type}';
    const type = this.types.get(reference);
    const name = type ? this.describe(type, depth) : '{unknown type}';
    this.memo.set(reference, name);
    return name;
  }

  private describe(type: RawType, depth: number): string {
    if (type.name !== undefined) return type.name;
    switch (type.tag) {
      case DW_TAG.array_type: {
        let name = this.resolve(type.target, depth + 1);
        const dimensions = type.dimensions ?? [];
        if (dimensions.length === 0) return `[${name}]`;
        for (let i = dimensions.length - 1; i >= 0; i--) name = dimensions[i]! < 0 ? `[${name}]` : `[${name}; ${dimensions[i]}]`;
        return name;
      }
      case DW_TAG.pointer_type:
        return `*const ${this.resolve(type.target, depth + 1)}`;
      case DW_TAG.reference_type:
      case DW_TAG.rvalue_reference_type:
        return `&${this.resolve(type.target, depth + 1)}`;
      case DW_TAG.subroutine_type:
        return 'fn(..)';
      case DW_TAG.structure_type:
      case DW_TAG.class_type:
        return '{anonymous struct}';
      case DW_TAG.union_type:
        return '{anonymous union}';
      case DW_TAG.enumeration_type:
        return '{anonymous enum}';
      default:
        // Qualifiers and unnamed typedefs stand for the type they wrap.
        return this.resolve(type.target, depth + 1);
    }
  }
}
