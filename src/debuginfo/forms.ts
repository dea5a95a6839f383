import { DW_FORM } from './constants.js';
import type { DwarfReader } from './reader.js';

/** What the encoding of a unit's attribute values depends on. */
export interface UnitFormat {
  readonly version: number;
  readonly addressSize: number;
  /** 4 in 32-bit DWARF, 8 in 64-bit DWARF. */
  readonly offsetSize: number;
}

export const VARIABLE = -1;
const UNKNOWN = -2;

/**
 * Bytes each form occupies in a unit of `format`, indexed by form, with
 * VARIABLE for forms whose length is encoded in the data and UNKNOWN for
 * numbers DWARF does not define. Skipping an attribute is then one addition,
 * and a DIE made only of fixed-size forms is skipped in one step.
 */
export function formSizes(format: UnitFormat): Int8Array {
  const sizes = new Int8Array(0x2d).fill(UNKNOWN);
  const set = (size: number, ...forms: number[]): void => {
    for (const form of forms) sizes[form] = size;
  };
  set(0, DW_FORM.flag_present, DW_FORM.implicit_const);
  set(1, DW_FORM.data1, DW_FORM.ref1, DW_FORM.flag, DW_FORM.strx1, DW_FORM.addrx1);
  set(2, DW_FORM.data2, DW_FORM.ref2, DW_FORM.strx2, DW_FORM.addrx2);
  set(3, DW_FORM.strx3, DW_FORM.addrx3);
  set(4, DW_FORM.data4, DW_FORM.ref4, DW_FORM.ref_sup4, DW_FORM.strx4, DW_FORM.addrx4);
  set(8, DW_FORM.data8, DW_FORM.ref8, DW_FORM.ref_sig8, DW_FORM.ref_sup8);
  set(16, DW_FORM.data16);
  set(format.addressSize, DW_FORM.addr);
  set(format.offsetSize, DW_FORM.strp, DW_FORM.sec_offset, DW_FORM.line_strp, DW_FORM.strp_sup);
  // DWARF 2 sized DW_FORM_ref_addr like an address; DWARF 3 made it an offset.
  set(format.version <= 2 ? format.addressSize : format.offsetSize, DW_FORM.ref_addr);
  set(
    VARIABLE,
    DW_FORM.string,
    DW_FORM.block,
    DW_FORM.block1,
    DW_FORM.block2,
    DW_FORM.block4,
    DW_FORM.exprloc,
    DW_FORM.sdata,
    DW_FORM.udata,
    DW_FORM.ref_udata,
    DW_FORM.strx,
    DW_FORM.addrx,
    DW_FORM.loclistx,
    DW_FORM.rnglistx,
    DW_FORM.indirect,
  );
  return sizes;
}

/** Size of a form in `sizes`, VARIABLE, or undefined for a number that is no form. */
export function formSize(sizes: Int8Array, format: UnitFormat, form: number): number | undefined {
  if (form < sizes.length) {
    const size = sizes[form]!;
    return size === UNKNOWN ? undefined : size;
  }
  switch (form) {
    case DW_FORM.GNU_addr_index:
    case DW_FORM.GNU_str_index:
      return VARIABLE;
    case DW_FORM.GNU_ref_alt:
    case DW_FORM.GNU_strp_alt:
      return format.offsetSize;
    default:
      return undefined;
  }
}

/** Step over one attribute value of a variable-length form (see formSizes). */
export function skipVariableForm(reader: DwarfReader, form: number, sizes: Int8Array, format: UnitFormat): void {
  switch (form) {
    case DW_FORM.string:
      reader.skipCString('DW_FORM_string');
      return;
    case DW_FORM.block1:
      reader.skip('DW_FORM_block1', reader.readU8('DW_FORM_block1 length'));
      return;
    case DW_FORM.block2:
      reader.skip('DW_FORM_block2', reader.readU16('DW_FORM_block2 length'));
      return;
    case DW_FORM.block4:
      reader.skip('DW_FORM_block4', reader.readU32('DW_FORM_block4 length'));
      return;
    case DW_FORM.block:
    case DW_FORM.exprloc:
      reader.skip('DW_FORM_block', reader.readUleb('block length'));
      return;
    case DW_FORM.indirect: {
      // The form is in the data; an indirect form naming itself again is never valid.
      const at = reader.pos;
      const actual = reader.readUleb('DW_FORM_indirect');
      const size = actual === DW_FORM.indirect ? undefined : formSize(sizes, format, actual);
      if (size === undefined) reader.fail('DW_FORM_indirect', at, `unknown form 0x${actual.toString(16)}`);
      if (actual === DW_FORM.implicit_const) reader.fail('DW_FORM_indirect', at, 'DW_FORM_implicit_const cannot be indirect');
      if (size === VARIABLE) skipVariableForm(reader, actual, sizes, format);
      else reader.skip('attribute value', size);
      return;
    }
    default:
      // sdata, udata, ref_udata, strx, addrx, loclistx, rnglistx and the GNU index forms.
      reader.skipLeb('LEB128 attribute value');
  }
}
