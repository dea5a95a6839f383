import { DW_FORM, DW_OP } from './constants.js';
import { formSize, formSizes, VARIABLE, skipVariableForm } from './forms.js';
import type { Abbreviation } from './abbrev.js';
import { DwarfReader } from './reader.js';
import type { DebugSections } from './sections.js';
import type { UnitHeader } from './unit.js';

/** A reference to a type that cannot be followed: a type unit signature or a supplementary file. */
export const EXTERNAL_REFERENCE = -2;
/** No DW_AT_type: `void`, which Rust spells `()`. */
export const NO_REFERENCE = -1;

/**
 * Decodes attribute values of the current unit: each reader method accepts
 * exactly the forms its attribute class allows in DWARF 2 to 5, and rejects
 * the rest with a DebugInfoError rather than guessing.
 */
export class ValueDecoder {
  readonly info: DwarfReader;
  private readonly str: DwarfReader;
  private readonly lineStr: DwarfReader;
  private readonly strOffsets: DwarfReader;
  /** Decoded strings by section offset: names repeat across thousands of DIEs. */
  private readonly strCache = new Map<number, string>();
  private readonly lineStrCache = new Map<number, string>();

  unit: UnitHeader = { offset: 0, end: 0, unitType: 0, abbrevOffset: 0, firstDie: 0, version: 4, addressSize: 8, offsetSize: 4 };
  sizes: Int8Array = formSizes(this.unit);
  /** DW_AT_str_offsets_base of the unit, or -1 before it is known. */
  strOffsetsBase = -1;

  constructor(sections: DebugSections) {
    this.info = new DwarfReader(sections.file, '.debug_info', sections.info);
    this.str = new DwarfReader(sections.file, '.debug_str', sections.str);
    this.lineStr = new DwarfReader(sections.file, '.debug_line_str', sections.lineStr);
    this.strOffsets = new DwarfReader(sections.file, '.debug_str_offsets', sections.strOffsets);
  }

  enterUnit(unit: UnitHeader, sizes: Int8Array): void {
    this.unit = unit;
    this.sizes = sizes;
    this.strOffsetsBase = -1;
  }

  fail(what: string, detail: string, at = this.info.pos): never {
    return this.info.fail(what, at, detail);
  }

  /**
   * The actual form of a DW_FORM_indirect value, which precedes the value.
   * An indirect form naming itself again, or DW_FORM_implicit_const (whose
   * value lives in the abbreviation), is never valid.
   */
  resolveIndirect(form: number): number {
    if (form !== DW_FORM.indirect) return form;
    const at = this.info.pos;
    const actual = this.info.readUleb('DW_FORM_indirect');
    if (actual === DW_FORM.indirect || actual === DW_FORM.implicit_const || formSize(this.sizes, this.unit, actual) === undefined) {
      this.fail('DW_FORM_indirect', `form 0x${actual.toString(16)} cannot be indirect`, at);
    }
    return actual;
  }

  /** Step over every attribute of a DIE. */
  skipAttributes(abbreviation: Abbreviation): void {
    if (abbreviation.fixedSize !== VARIABLE) {
      this.info.skip('DIE attributes', abbreviation.fixedSize);
      return;
    }
    const forms = abbreviation.forms;
    for (let i = 0; i < forms.length; i++) this.skip(forms[i]!);
  }

  skip(form: number): void {
    const size = formSize(this.sizes, this.unit, form)!;
    if (size === VARIABLE) skipVariableForm(this.info, form, this.sizes, this.unit);
    else this.info.pos += size;
  }

  string(form: number): string {
    const info = this.info;
    switch (form) {
      case DW_FORM.string: {
        const at = info.pos;
        info.skipCString('DW_FORM_string');
        return info.cString('DW_FORM_string', at);
      }
      case DW_FORM.strp:
        return this.strAt(info.readOffset('DW_FORM_strp', this.unit.offsetSize));
      case DW_FORM.line_strp: {
        const offset = info.readOffset('DW_FORM_line_strp', this.unit.offsetSize);
        let text = this.lineStrCache.get(offset);
        if (text === undefined) this.lineStrCache.set(offset, (text = this.lineStr.cString('string', offset)));
        return text;
      }
      case DW_FORM.strx:
      case DW_FORM.GNU_str_index:
        return this.strIndex(info.readUleb('DW_FORM_strx'));
      case DW_FORM.strx1:
        return this.strIndex(info.readU8('DW_FORM_strx1'));
      case DW_FORM.strx2:
        return this.strIndex(info.readU16('DW_FORM_strx2'));
      case DW_FORM.strx3:
        return this.strIndex(info.readU24('DW_FORM_strx3'));
      case DW_FORM.strx4:
        return this.strIndex(info.readU32('DW_FORM_strx4'));
      default:
        return this.fail('string attribute', `unsupported form 0x${form.toString(16)} for a string`);
    }
  }

  private strAt(offset: number): string {
    let text = this.strCache.get(offset);
    if (text === undefined) {
      if (offset >= this.str.length) this.fail('DW_FORM_strp', `string offset 0x${offset.toString(16)} lies outside .debug_str (0x${this.str.length.toString(16)} bytes)`);
      this.strCache.set(offset, (text = this.str.cString('string', offset)));
    }
    return text;
  }

  /** DWARF 5 string index: an entry of the unit's .debug_str_offsets contribution. */
  private strIndex(index: number): string {
    if (this.strOffsetsBase < 0) this.fail('DW_FORM_strx', 'string index used before or without DW_AT_str_offsets_base');
    const size = this.unit.offsetSize;
    const at = this.strOffsetsBase + index * size;
    const offset = size === 4 ? this.strOffsets.u32('string offset entry', at) : this.strOffsets.u64AsNumber('string offset entry', at);
    return this.strAt(offset);
  }

  /** A reference to another DIE as an offset into .debug_info, checked to lie inside it. */
  reference(form: number): number {
    const info = this.info;
    const at = info.pos;
    let relative: number;
    switch (form) {
      case DW_FORM.ref1:
        relative = info.readU8('DW_FORM_ref1');
        break;
      case DW_FORM.ref2:
        relative = info.readU16('DW_FORM_ref2');
        break;
      case DW_FORM.ref4:
        relative = info.readU32('DW_FORM_ref4');
        break;
      case DW_FORM.ref8:
        relative = info.readU64('DW_FORM_ref8');
        break;
      case DW_FORM.ref_udata:
        relative = info.readUleb('DW_FORM_ref_udata');
        break;
      case DW_FORM.ref_addr: {
        const size = this.unit.version <= 2 ? this.unit.addressSize : this.unit.offsetSize;
        const target = info.readOffset('DW_FORM_ref_addr', size);
        if (target >= info.length) this.fail('DW_FORM_ref_addr', `reference 0x${target.toString(16)} lies outside .debug_info`, at);
        return target;
      }
      case DW_FORM.ref_sig8:
      case DW_FORM.ref_sup4:
      case DW_FORM.ref_sup8:
      case DW_FORM.GNU_ref_alt:
        this.skip(form);
        return EXTERNAL_REFERENCE;
      default:
        return this.fail('reference attribute', `unsupported form 0x${form.toString(16)} for a reference`, at);
    }
    const unit = this.unit;
    if (relative >= unit.end - unit.offset) this.fail('reference', `reference 0x${relative.toString(16)} lies outside its unit`, at);
    return unit.offset + relative;
  }

  /** A non-negative integer constant (sizes, alignments, offsets, counts). */
  unsigned(form: number, abbreviation: Abbreviation, index: number): number {
    const info = this.info;
    const at = info.pos;
    let value: number;
    switch (form) {
      case DW_FORM.data1:
        return info.readU8('DW_FORM_data1');
      case DW_FORM.data2:
        return info.readU16('DW_FORM_data2');
      case DW_FORM.data4:
        return info.readU32('DW_FORM_data4');
      case DW_FORM.data8:
        return info.readU64('DW_FORM_data8');
      case DW_FORM.udata:
        return info.readUleb('DW_FORM_udata');
      case DW_FORM.sdata:
        value = info.readSleb('DW_FORM_sdata');
        break;
      case DW_FORM.implicit_const: {
        const constant = abbreviation.implicitConstants[index] ?? 0n;
        if (constant < 0n || constant > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('DW_FORM_implicit_const', `value ${constant} is not a size`, at);
        return Number(constant);
      }
      default:
        return this.fail('constant attribute', `unsupported form 0x${form.toString(16)} for a size or offset`, at);
    }
    if (value < 0) this.fail('constant attribute', `negative value ${value} for a size or offset`, at);
    return value;
  }

  /** Any integer constant, for discriminant and enumerator values up to 128 bits. */
  constant(form: number, abbreviation: Abbreviation, index: number): bigint {
    const info = this.info;
    switch (form) {
      case DW_FORM.data1:
        return BigInt(info.readU8('DW_FORM_data1'));
      case DW_FORM.data2:
        return BigInt(info.readU16('DW_FORM_data2'));
      case DW_FORM.data4:
        return BigInt(info.readU32('DW_FORM_data4'));
      case DW_FORM.data8:
        return info.readU64Big('DW_FORM_data8');
      case DW_FORM.data16:
        return info.readBlockConstant('DW_FORM_data16', 16);
      case DW_FORM.udata:
        return info.readUlebBig('DW_FORM_udata');
      case DW_FORM.sdata:
        return info.readSlebBig('DW_FORM_sdata');
      case DW_FORM.implicit_const:
        return abbreviation.implicitConstants[index] ?? 0n;
      case DW_FORM.block1:
        return info.readBlockConstant('DW_FORM_block1', info.readU8('DW_FORM_block1 length'));
      case DW_FORM.block2:
        return info.readBlockConstant('DW_FORM_block2', info.readU16('DW_FORM_block2 length'));
      case DW_FORM.block4:
        return info.readBlockConstant('DW_FORM_block4', info.readU32('DW_FORM_block4 length'));
      case DW_FORM.block:
        return info.readBlockConstant('DW_FORM_block', info.readUleb('DW_FORM_block length'));
      default:
        return this.fail('constant attribute', `unsupported form 0x${form.toString(16)} for a constant`);
    }
  }

  flag(form: number): boolean {
    if (form === DW_FORM.flag_present) return true;
    if (form === DW_FORM.flag) return this.info.readU8('DW_FORM_flag') !== 0;
    return this.fail('flag attribute', `unsupported form 0x${form.toString(16)} for a flag`);
  }

  /** A section offset (DW_AT_str_offsets_base). */
  sectionOffset(form: number): number {
    if (form === DW_FORM.sec_offset || form === DW_FORM.data4 || form === DW_FORM.data8) return this.info.readOffset('DW_FORM_sec_offset', form === DW_FORM.data8 ? 8 : form === DW_FORM.data4 ? 4 : this.unit.offsetSize);
    return this.fail('section offset attribute', `unsupported form 0x${form.toString(16)} for a section offset`);
  }

  /**
   * DW_AT_data_member_location: a constant, or (DWARF 2 style) an expression
   * `DW_OP_plus_uconst N` or `DW_OP_constu N`, the only ones a member offset needs.
   */
  memberOffset(form: number, abbreviation: Abbreviation, index: number): number {
    if (form !== DW_FORM.exprloc && form !== DW_FORM.block1 && form !== DW_FORM.block) return this.unsigned(form, abbreviation, index);
    const info = this.info;
    const at = info.pos;
    const length = form === DW_FORM.block1 ? info.readU8('member location length') : info.readUleb('member location length');
    const end = info.pos + length;
    const op = info.readU8('member location operation');
    if (op !== DW_OP.plus_uconst && op !== DW_OP.constu) this.fail('member location', `unsupported expression operation 0x${op.toString(16)}`, at);
    const value = info.readUleb('member location operand');
    if (info.pos !== end) this.fail('member location', 'expression is longer than one operation', at);
    return value;
  }
}
