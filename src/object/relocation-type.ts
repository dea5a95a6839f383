import type { RelocationKind } from './model.js';

/** One row of an architecture's relocation table. */
export interface RelocationType {
  readonly name: string;
  readonly kind: RelocationKind;
  /** Bytes of the section the relocation rewrites; masked when fingerprinting. */
  readonly width: number;
  /** Types with the same class are interchangeable for the diff. */
  readonly class: string;
}
