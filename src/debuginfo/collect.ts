import { type Abbreviation, type AbbreviationTable, parseAbbreviations } from './abbrev.js';
import { DW_AT, DW_FORM, DW_TAG, DW_UT } from './constants.js';
import { formSizes } from './forms.js';
import type { RawAggregate, RawMember, RawSubprogram, RawType, RawTypes, RawVariant, RawVariantPart } from './raw.js';
import { DwarfReader } from './reader.js';
import { Role, roleOfTag, roleOfTagWithFunctions } from './roles.js';
import type { DebugSections } from './sections.js';
import { readUnitHeader, type UnitHeader } from './unit.js';
import { NO_REFERENCE, ValueDecoder } from './values.js';

/** Where a DIE sits: what its parent collects and the qualified path it extends. */
interface Scope {
  readonly role: Role;
  readonly path: string;
  readonly aggregate?: RawAggregate;
  readonly variantPart?: RawVariantPart;
  readonly variant?: RawVariant;
  readonly array?: RawType & { readonly dimensions: number[] };
  readonly subprogram?: RawSubprogram;
  /** The shared scope for children of DIEs the reader does not look into. */
  opaque?: Scope;
}

/** The attributes the reader decodes, reset for every DIE it looks at. */
class Attributes {
  name: string | undefined = undefined;
  type = NO_REFERENCE;
  byteSize = -1;
  alignment = -1;
  memberOffset = 0;
  declaration = false;
  discr = -1;
  discrValue: bigint | undefined = undefined;
  constValue: bigint | undefined = undefined;
  count = -1;
  upperBound = -1;
  lowerBound = 0;
  sibling = -1;

  reset(): void {
    this.name = undefined;
    this.type = NO_REFERENCE;
    this.byteSize = -1;
    this.alignment = -1;
    this.memberOffset = 0;
    this.declaration = false;
    this.discr = -1;
    this.discrValue = undefined;
    this.constValue = undefined;
    this.count = -1;
    this.upperBound = -1;
    this.lowerBound = 0;
    this.sibling = -1;
  }
}

/** The attributes of a subprogram or parameter DIE, decoded only when signatures are read. */
class FunctionAttributes {
  linkageName: string | undefined = undefined;
  type = NO_REFERENCE;
  declaration = false;
  hasCode = false;
  noreturn = false;
  specification = -1;
  abstractOrigin = -1;

  reset(): void {
    this.linkageName = undefined;
    this.type = NO_REFERENCE;
    this.declaration = false;
    this.hasCode = false;
    this.noreturn = false;
    this.specification = -1;
    this.abstractOrigin = -1;
  }
}

export interface CollectOptions {
  /**
   * Also keep subprograms and their parameters (`RawTypes.subprograms`),
   * for function signatures. Off, subprograms are stepped over as before.
   */
  readonly subprograms?: boolean;
}

const CONSTANT_FORMS: ReadonlySet<number> = new Set([DW_FORM.data1, DW_FORM.data2, DW_FORM.data4, DW_FORM.data8, DW_FORM.udata, DW_FORM.sdata, DW_FORM.implicit_const]);

/**
 * Walk every unit of one object's .debug_info and keep the type DIEs. Only
 * DIEs that describe types are decoded; the rest (most of a debug build:
 * subprograms, variables, lexical blocks, template parameters) are stepped
 * over by form, in one step when their abbreviation has only fixed-size
 * forms, or jumped over with DW_AT_sibling when the producer emits it.
 * With `subprograms`, subprogram and parameter DIEs are decoded too.
 */
export function collectTypes(sections: DebugSections, options: CollectOptions = {}): RawTypes {
  return new TypeCollector(sections, options.subprograms === true).run();
}

class TypeCollector {
  private readonly values: ValueDecoder;
  private readonly info: DwarfReader;
  private readonly abbrev: DwarfReader;
  private readonly tables = new Map<string, { table: AbbreviationTable; sizes: Int8Array }>();
  private readonly attributes = new Attributes();
  private readonly types = new Map<number, RawType>();
  private readonly aggregates: RawAggregate[] = [];
  private readonly subprograms: RawSubprogram[] = [];
  private readonly functionAttributes = new FunctionAttributes();
  private hasFullUnits = false;

  constructor(
    sections: DebugSections,
    private readonly withSubprograms: boolean,
  ) {
    this.values = new ValueDecoder(sections);
    this.info = this.values.info;
    this.abbrev = new DwarfReader(sections.file, '.debug_abbrev', sections.abbrev);
  }

  run(): RawTypes {
    let offset = 0;
    while (offset < this.info.length) {
      const unit = readUnitHeader(this.info, offset);
      this.walkUnit(unit);
      offset = unit.end;
    }
    return { types: this.types, aggregates: this.aggregates, hasFullUnits: this.hasFullUnits, subprograms: this.subprograms };
  }

  private tableFor(unit: UnitHeader): { table: AbbreviationTable; sizes: Int8Array } {
    const key = `${unit.abbrevOffset}/${unit.version}/${unit.addressSize}/${unit.offsetSize}`;
    let entry = this.tables.get(key);
    if (!entry) {
      const sizes = formSizes(unit);
      entry = { table: parseAbbreviations(this.abbrev, unit.abbrevOffset, unit, sizes, this.withSubprograms ? roleOfTagWithFunctions : roleOfTag), sizes };
      this.tables.set(key, entry);
    }
    return entry;
  }

  private walkUnit(unit: UnitHeader): void {
    // Skeletons of split DWARF only point at a .dwo file; the types are there.
    if (unit.unitType === DW_UT.skeleton || unit.unitType === DW_UT.split_compile || unit.unitType === DW_UT.split_type) return;
    const { table, sizes } = this.tableFor(unit);
    const values = this.values;
    const info: DwarfReader = this.info;
    values.enterUnit(unit, sizes);
    info.pos = unit.firstDie;
    const root: Scope = { role: Role.unit, path: '' };
    const stack: Scope[] = [root];
    const typesBefore = this.types.size;
    const subprogramsBefore = this.subprograms.length;
    while (info.pos < unit.end) {
      const die = info.pos;
      const code = info.readUleb('abbreviation code');
      if (code === 0) {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const abbreviation = table.get(code);
      if (!abbreviation) info.fail('DIE', die, `unknown abbreviation code ${code}`);
      const scope = stack[stack.length - 1]!;
      let child: Scope | undefined;
      switch (abbreviation.role) {
        case Role.skip:
          if (abbreviation.hasChildren && abbreviation.siblingIndex >= 0) {
            const sibling = this.decode(abbreviation).sibling;
            if (sibling > die && sibling <= unit.end) {
              info.pos = sibling;
              continue;
            }
            if (sibling >= 0) info.fail('DW_AT_sibling', die, `sibling 0x${sibling.toString(16)} does not follow its DIE inside the unit`);
          } else {
            values.skipAttributes(abbreviation);
          }
          break;
        case Role.unit:
          if (!this.readUnitDie(abbreviation)) return;
          break;
        case Role.namespace: {
          const name = this.decode(abbreviation).name ?? '{anonymous}';
          child = { role: Role.namespace, path: join(scope.path, name) };
          break;
        }
        case Role.aggregate:
          child = this.aggregate(die, abbreviation, scope);
          break;
        case Role.member:
          this.member(die, abbreviation, scope);
          break;
        case Role.variantPart: {
          const discr = this.decode(abbreviation).discr;
          const aggregate = scope.aggregate;
          if (scope.role === Role.aggregate && aggregate) {
            // Rust enums have one variant part; a second one would add its variants to the first.
            const part = (aggregate.variantPart ??= { discr, candidates: [], variants: [] });
            child = { role: Role.variantPart, path: scope.path, variantPart: part };
          }
          break;
        }
        case Role.variant: {
          const value = this.decode(abbreviation).discrValue;
          if (scope.role === Role.variantPart && scope.variantPart) {
            const variant: RawVariant = { value, member: undefined };
            scope.variantPart.variants.push(variant);
            child = { role: Role.variant, path: scope.path, variant };
          }
          break;
        }
        case Role.enumerator: {
          const a = this.decode(abbreviation);
          if (scope.role === Role.aggregate) scope.aggregate?.enumerators.push({ name: a.name ?? '', value: a.constValue ?? 0n });
          break;
        }
        case Role.type: {
          const a = this.decode(abbreviation);
          const name = a.name !== undefined && abbreviation.tag === DW_TAG.typedef ? join(scope.path, a.name) : a.name;
          this.types.set(die, { tag: abbreviation.tag, name, target: a.type, dimensions: undefined });
          break;
        }
        case Role.array: {
          const a = this.decode(abbreviation);
          const array = { tag: abbreviation.tag, name: a.name, target: a.type, dimensions: [] as number[] };
          this.types.set(die, array);
          child = { role: Role.array, path: scope.path, array };
          break;
        }
        case Role.subrange: {
          const a = this.decode(abbreviation);
          if (scope.role === Role.array && scope.array) {
            scope.array.dimensions.push(a.count >= 0 ? a.count : a.upperBound >= 0 ? a.upperBound - a.lowerBound + 1 : -1);
          }
          break;
        }
        case Role.subprogram:
          child = this.subprogram(die, abbreviation, scope);
          break;
        case Role.parameter:
          if (scope.role === Role.subprogram && scope.subprogram) {
            const type = this.decodeFunction(abbreviation).type;
            scope.subprogram.parameters.push({ type, variadic: abbreviation.tag === DW_TAG.unspecified_parameters });
          } else {
            // Parameters of inlined calls, subroutine types and the like describe no definition.
            values.skipAttributes(abbreviation);
          }
          break;
      }
      if (info.pos > unit.end) info.fail('DIE', die, 'runs past the end of its unit');
      if (abbreviation.hasChildren) stack.push(child ?? (scope.opaque ??= { role: Role.skip, path: scope.path }));
    }
    // A unit without a single type DIE is limited debug info: its subprograms carry no signatures.
    if (this.types.size === typesBefore) this.subprograms.length = subprogramsBefore;
    this.hasFullUnits = true;
  }

  /** The unit DIE: where DWARF 5 string indices start, and whether it is a split-DWARF skeleton. */
  private readUnitDie(abbreviation: Abbreviation): boolean {
    const { attributes, forms } = abbreviation;
    let split = false;
    for (let i = 0; i < attributes.length; i++) {
      const attribute = attributes[i]!;
      const form = this.values.resolveIndirect(forms[i]!);
      if (attribute === DW_AT.str_offsets_base) this.values.strOffsetsBase = this.values.sectionOffset(form);
      else {
        if (attribute === DW_AT.GNU_dwo_name || attribute === DW_AT.dwo_name) split = true;
        this.values.skip(form);
      }
    }
    return !split;
  }

  private aggregate(die: number, abbreviation: Abbreviation, scope: Scope): Scope {
    const a = this.decode(abbreviation);
    const name = a.name === undefined ? undefined : join(scope.path, a.name);
    const aggregate: RawAggregate = {
      tag: abbreviation.tag,
      name,
      target: a.type,
      dimensions: undefined,
      byteSize: a.byteSize >= 0 ? a.byteSize : undefined,
      alignment: a.alignment >= 0 ? a.alignment : undefined,
      declaration: a.declaration,
      members: [],
      variantPart: undefined,
      enumerators: [],
    };
    this.types.set(die, aggregate);
    this.aggregates.push(aggregate);
    return { role: Role.aggregate, path: name ?? join(scope.path, '{anonymous}'), aggregate };
  }

  /** A subprogram keeps the path of its parent, so that types declared inside it are named as without it. */
  private subprogram(die: number, abbreviation: Abbreviation, scope: Scope): Scope {
    const a = this.decodeFunction(abbreviation);
    const subprogram: RawSubprogram = {
      die,
      linkageName: a.linkageName,
      returnType: a.type,
      noreturn: a.noreturn,
      declaration: a.declaration,
      hasCode: a.hasCode,
      specification: a.specification,
      abstractOrigin: a.abstractOrigin,
      parameters: [],
    };
    this.subprograms.push(subprogram);
    return { role: Role.subprogram, path: scope.path, subprogram };
  }

  private decodeFunction(abbreviation: Abbreviation): FunctionAttributes {
    const a = this.functionAttributes;
    a.reset();
    const values = this.values;
    const { attributes, forms } = abbreviation;
    for (let i = 0; i < attributes.length; i++) {
      const form = values.resolveIndirect(forms[i]!);
      switch (attributes[i]) {
        case DW_AT.linkage_name:
        case DW_AT.MIPS_linkage_name:
          a.linkageName = values.string(form);
          break;
        case DW_AT.type:
          a.type = values.reference(form);
          break;
        case DW_AT.specification:
          a.specification = values.reference(form);
          break;
        case DW_AT.abstract_origin:
          a.abstractOrigin = values.reference(form);
          break;
        case DW_AT.declaration:
          a.declaration = values.flag(form);
          break;
        case DW_AT.noreturn:
          a.noreturn = values.flag(form);
          break;
        case DW_AT.low_pc:
        case DW_AT.ranges:
          a.hasCode = true;
          values.skip(form);
          break;
        default:
          values.skip(form);
      }
    }
    return a;
  }

  private member(die: number, abbreviation: Abbreviation, scope: Scope): void {
    const a = this.decode(abbreviation);
    const member: RawMember = { name: a.name ?? '', offset: a.memberOffset, type: a.type };
    switch (scope.role) {
      case Role.aggregate:
        scope.aggregate?.members.push(member);
        break;
      case Role.variantPart:
        scope.variantPart?.candidates.push({ die, member });
        break;
      case Role.variant:
        if (scope.variant && !scope.variant.member) scope.variant.member = member;
        break;
    }
  }

  private decode(abbreviation: Abbreviation): Attributes {
    const a = this.attributes;
    a.reset();
    const values = this.values;
    const { attributes, forms } = abbreviation;
    for (let i = 0; i < attributes.length; i++) {
      const form = values.resolveIndirect(forms[i]!);
      switch (attributes[i]) {
        case DW_AT.name:
          a.name = values.string(form);
          break;
        case DW_AT.type:
          a.type = values.reference(form);
          break;
        case DW_AT.byte_size:
          a.byteSize = this.optionalConstant(form, abbreviation, i);
          break;
        case DW_AT.alignment:
          a.alignment = this.optionalConstant(form, abbreviation, i);
          break;
        case DW_AT.data_member_location:
          a.memberOffset = values.memberOffset(form, abbreviation, i);
          break;
        case DW_AT.declaration:
          a.declaration = values.flag(form);
          break;
        case DW_AT.discr:
          a.discr = values.reference(form);
          break;
        case DW_AT.discr_value:
          a.discrValue = values.constant(form, abbreviation, i);
          break;
        case DW_AT.const_value:
          a.constValue = values.constant(form, abbreviation, i);
          break;
        case DW_AT.count:
          a.count = this.optionalConstant(form, abbreviation, i);
          break;
        case DW_AT.upper_bound:
          a.upperBound = this.optionalConstant(form, abbreviation, i);
          break;
        case DW_AT.lower_bound:
          a.lowerBound = Math.max(0, this.optionalConstant(form, abbreviation, i));
          break;
        case DW_AT.sibling:
          a.sibling = values.reference(form);
          break;
        default:
          values.skip(form);
      }
    }
    return a;
  }

  /**
   * A size or bound that may legitimately be computed at run time (C
   * variable-length arrays, GNU variably modified structs in C objects linked
   * into a crate): given by an expression or a variable, it is unknown, -1.
   */
  private optionalConstant(form: number, abbreviation: Abbreviation, index: number): number {
    if (CONSTANT_FORMS.has(form)) return this.values.unsigned(form, abbreviation, index);
    this.values.skip(form);
    return -1;
  }
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}::${name}`;
}
