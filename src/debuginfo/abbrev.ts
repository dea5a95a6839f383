import { DW_AT, DW_FORM } from './constants.js';
import { formSize, type UnitFormat, VARIABLE } from './forms.js';
import type { DwarfReader } from './reader.js';
import { type Role, roleOfTag } from './roles.js';

/** One entry of an abbreviation table: the shape shared by many DIEs. */
export interface Abbreviation {
  readonly code: number;
  readonly tag: number;
  readonly role: Role;
  readonly hasChildren: boolean;
  readonly attributes: Uint32Array;
  readonly forms: Uint32Array;
  /** DW_FORM_implicit_const values, by attribute index; empty when the abbreviation has none. */
  readonly implicitConstants: readonly bigint[];
  /** Total bytes of the attribute values when every form has a fixed size, else VARIABLE. */
  readonly fixedSize: number;
  /** Index of DW_AT_sibling among the attributes, or -1. */
  readonly siblingIndex: number;
}

/** Codes are small and dense in practice (LLVM numbers them from 1); larger ones go to a map. */
const DENSE_LIMIT = 1 << 16;

export class AbbreviationTable {
  private readonly dense: (Abbreviation | undefined)[] = [];
  private readonly sparse = new Map<number, Abbreviation>();

  get(code: number): Abbreviation | undefined {
    return code < DENSE_LIMIT ? this.dense[code] : this.sparse.get(code);
  }

  add(abbreviation: Abbreviation): boolean {
    if (this.get(abbreviation.code)) return false;
    if (abbreviation.code < DENSE_LIMIT) this.dense[abbreviation.code] = abbreviation;
    else this.sparse.set(abbreviation.code, abbreviation);
    return true;
  }
}

/**
 * Parse the table at `offset` of .debug_abbrev. Sizes are resolved for the
 * unit's format, so a table shared by units of different formats is parsed
 * once per format (the caller caches by offset and format). `roleOf` decides
 * what the reader does with each tag.
 */
export function parseAbbreviations(reader: DwarfReader, offset: number, format: UnitFormat, sizes: Int8Array, roleOf: (tag: number) => Role = roleOfTag): AbbreviationTable {
  const table = new AbbreviationTable();
  if (offset >= reader.length) reader.fail('abbreviation table offset', offset, `lies outside .debug_abbrev (0x${reader.length.toString(16)} bytes)`);
  reader.pos = offset;
  for (;;) {
    const at = reader.pos;
    const code = reader.readUleb('abbreviation code');
    if (code === 0) return table;
    const tag = reader.readUleb('abbreviation tag');
    const children = reader.readU8('abbreviation children flag');
    if (children > 1) reader.fail('abbreviation children flag', reader.pos - 1, `expected 0 or 1, found ${children}`);
    const attributes: number[] = [];
    const forms: number[] = [];
    const implicitConstants: bigint[] = [];
    let fixedSize = 0;
    let siblingIndex = -1;
    for (;;) {
      const specAt = reader.pos;
      const attribute = reader.readUleb('attribute name');
      const form = reader.readUleb('attribute form');
      if (attribute === 0 && form === 0) break;
      if (attribute === 0) reader.fail('attribute specification', specAt, 'attribute 0 is not valid');
      const size = formSize(sizes, format, form);
      if (size === undefined) reader.fail('attribute form', specAt, `unknown form 0x${form.toString(16)}`);
      if (form === DW_FORM.implicit_const) implicitConstants[attributes.length] = reader.readSlebBig('implicit constant');
      if (attribute === DW_AT.sibling) siblingIndex = attributes.length;
      attributes.push(attribute);
      forms.push(form);
      fixedSize = size === VARIABLE || fixedSize === VARIABLE ? VARIABLE : fixedSize + size;
    }
    const added = table.add({
      code,
      tag,
      role: roleOf(tag),
      hasChildren: children === 1,
      attributes: Uint32Array.from(attributes),
      forms: Uint32Array.from(forms),
      implicitConstants,
      fixedSize,
      siblingIndex,
    });
    if (!added) reader.fail('abbreviation code', at, `code ${code} is defined twice`);
  }
}
