import { DW_UT } from './constants.js';
import type { UnitFormat } from './forms.js';
import type { DwarfReader } from './reader.js';

export interface UnitHeader extends UnitFormat {
  /** Offset of the unit in .debug_info; unit-relative references are added to it. */
  readonly offset: number;
  /** One past the unit's last byte. */
  readonly end: number;
  /** DW_UT_*; DWARF 2 to 4 units in .debug_info are compile units. */
  readonly unitType: number;
  readonly abbrevOffset: number;
  readonly firstDie: number;
}

/** Read the header of the unit starting at `offset` (DWARF 2 to 5, 32- and 64-bit). */
export function readUnitHeader(reader: DwarfReader, offset: number): UnitHeader {
  reader.pos = offset;
  let length = reader.readU32('unit length');
  let offsetSize = 4;
  if (length === 0xffffffff) {
    length = reader.readU64('64-bit unit length');
    offsetSize = 8;
  } else if (length >= 0xfffffff0) {
    reader.fail('unit length', offset, `reserved value 0x${length.toString(16)}`);
  }
  const end = reader.pos + length;
  if (end > reader.length) reader.fail('unit length', offset, `unit of 0x${length.toString(16)} bytes runs past the end of the section (0x${reader.length.toString(16)} bytes)`);
  const version = reader.readU16('unit version');
  if (version < 2 || version > 5) reader.fail('unit version', offset, `unsupported DWARF version ${version}`);
  let unitType: number = DW_UT.compile;
  let addressSize: number;
  let abbrevOffset: number;
  if (version >= 5) {
    unitType = reader.readU8('unit type');
    addressSize = reader.readU8('address size');
    abbrevOffset = reader.readOffset('abbreviation offset', offsetSize);
    switch (unitType) {
      case DW_UT.compile:
      case DW_UT.partial:
        break;
      case DW_UT.skeleton:
      case DW_UT.split_compile:
        reader.skip('unit id', 8);
        break;
      case DW_UT.type:
      case DW_UT.split_type:
        reader.skip('type signature', 8);
        reader.skip('type offset', offsetSize);
        break;
      default:
        reader.fail('unit type', offset, `unknown unit type 0x${unitType.toString(16)}`);
    }
  } else {
    abbrevOffset = reader.readOffset('abbreviation offset', offsetSize);
    addressSize = reader.readU8('address size');
  }
  if (addressSize !== 4 && addressSize !== 8 && addressSize !== 2) reader.fail('address size', offset, `unsupported address size ${addressSize}`);
  if (reader.pos > end) reader.fail('unit header', offset, 'the header is longer than the unit');
  return { offset, end, unitType, abbrevOffset, firstDie: reader.pos, version, addressSize, offsetSize };
}
