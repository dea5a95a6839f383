import type { ByteReader } from '../byte-reader.js';
import type { Architecture, Relocation, RelocationTarget } from '../model.js';
import { readRelocationInfos, type RelocationInfo } from './relocation-info.js';
import { relocationRule, type RelocationRule } from './relocation-types.js';
import type { MachOSection } from './section.js';
import type { MachOSymbolTable } from './symbol.js';

/** Everything a section's relocations are resolved against. */
export interface RelocationContext {
  readonly reader: ByteReader;
  readonly architecture: Architecture;
  readonly sections: readonly MachOSection[];
  readonly symbolTable: MachOSymbolTable;
}

/**
 * Decodes one section's relocations into the neutral model, folding the
 * format's two-entry forms into one relocation each:
 *
 * - ARM64_RELOC_ADDEND + (BRANCH26 | PAGE21 | PAGEOFF12): the addend entry
 *   only carries the addend of the next one.
 * - SUBTRACTOR + UNSIGNED: one 'subtractor' relocation computing
 *   minuend - subtrahend + addend. The minuend (the UNSIGNED's target) is the
 *   target; the model has no second target, so the subtrahend is named in
 *   `raw.typeName`, e.g. `X86_64_RELOC_SUBTRACTOR(-_table)`, where anything
 *   comparing relocations sees it.
 *
 * Addends follow the model's formulas with P the address of the patched
 * field. On x86_64 the CPU's PC is the end of the 4-byte field, so
 * pc-relative addends are the stored value minus 4 (a plain `call` reads
 * -4, as on ELF). Section-relative (non-extern) targets store an address in
 * the object's own address space; it becomes an offset into the section.
 *
 * The result is sorted by offset (the table lists entries in reverse).
 */
export function readRelocations(context: RelocationContext, section: MachOSection): Relocation[] {
  const entries = readRelocationInfos(context.reader, section);
  const relocations: Relocation[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry === undefined) break;
    const rule = ruleOf(context, entry);
    switch (rule.role) {
      case 'single':
        relocations.push(decodeSingle(context, section, entry, rule, undefined));
        break;
      case 'addend': {
        const [next, nextRule] = partnerOf(context, entries, i, 'ARM64_RELOC_ADDEND');
        if (!nextRule.acceptsAddend) fail(context, next, `ARM64_RELOC_ADDEND cannot precede ${nextRule.typeName}`);
        relocations.push(decodeSingle(context, section, next, nextRule, signExtend24(entry.symbolNumber)));
        i++;
        break;
      }
      case 'subtractor': {
        const [next, nextRule] = partnerOf(context, entries, i, rule.typeName);
        if (!nextRule.completesSubtractor) fail(context, next, `${rule.typeName} must be followed by UNSIGNED, not ${nextRule.typeName}`);
        if (next.lengthPower !== entry.lengthPower) fail(context, next, 'SUBTRACTOR pair halves differ in width');
        relocations.push(decodeSubtractor(context, section, entry, rule, next, nextRule));
        i++;
        break;
      }
      default:
        return assertNever(rule.role);
    }
  }
  return relocations.sort((a, b) => a.offset - b.offset);
}

function ruleOf(context: RelocationContext, entry: RelocationInfo): RelocationRule {
  const rule = relocationRule(context.architecture, entry.type);
  if (rule === undefined) fail(context, entry, `unknown ${context.architecture} relocation type ${entry.type}`);
  return rule;
}

/** The entry completing a pair begun at `index`: it must exist and patch the same field. */
function partnerOf(
  context: RelocationContext,
  entries: readonly RelocationInfo[],
  index: number,
  first: string,
): [RelocationInfo, RelocationRule] {
  const entry = entries[index];
  const next = entries[index + 1];
  if (entry === undefined || next === undefined) {
    return context.reader.fail('relocation_info', entry?.entryOffset ?? 0, `${first} is not followed by the other half of its pair`);
  }
  if (next.address !== entry.address) fail(context, next, `${first} pair halves patch different addresses`);
  return [next, ruleOf(context, next)];
}

function decodeSingle(
  context: RelocationContext,
  section: MachOSection,
  entry: RelocationInfo,
  rule: RelocationRule,
  explicitAddend: bigint | undefined,
): Relocation {
  const width = checkField(context, section, entry, rule);
  const { target, section: targetSection } = resolveTarget(context, entry, rule);
  const stored = explicitAddend ?? (rule.addendInField ? readField(context, section, entry, width) : 0n);
  // x86_64 measures pc-relative fields from the end of the 4-byte field; arm64 from the instruction.
  const pcBias = context.architecture === 'x86_64' && rule.pcRelative ? BigInt(width) : 0n;

  let addend: bigint;
  if (targetSection === undefined) {
    addend = stored - pcBias;
  } else {
    const fieldAddress = section.address + BigInt(entry.address);
    const targetAddress = rule.pcRelative ? stored + fieldAddress + pcBias : stored;
    addend = targetAddress - targetSection.address - pcBias;
  }
  return {
    offset: entry.address,
    kind: rule.kind,
    width,
    target,
    addend,
    raw: { type: entry.type, typeName: rule.typeName, pcRelative: entry.pcRelative },
  };
}

function decodeSubtractor(
  context: RelocationContext,
  section: MachOSection,
  subtrahendEntry: RelocationInfo,
  rule: RelocationRule,
  minuendEntry: RelocationInfo,
  minuendRule: RelocationRule,
): Relocation {
  const width = checkField(context, section, subtrahendEntry, rule);
  const subtrahend = resolveTarget(context, subtrahendEntry, rule);
  checkField(context, section, minuendEntry, minuendRule);
  const minuend = resolveTarget(context, minuendEntry, minuendRule);

  // The field holds minuend - subtrahend + addend with symbols at 0, or the
  // minuend's own address when it is a section.
  let addend = readField(context, section, subtrahendEntry, width);
  if (minuend.section !== undefined) addend -= minuend.section.address;

  return {
    offset: subtrahendEntry.address,
    kind: 'subtractor',
    width,
    target: minuend.target,
    addend,
    raw: { type: subtrahendEntry.type, typeName: `${rule.typeName}(-${subtrahend.name})`, pcRelative: false },
  };
}

/** Validates pc-relativity and width against the rule and that the field lies in the section; returns the width. */
function checkField(context: RelocationContext, section: MachOSection, entry: RelocationInfo, rule: RelocationRule): number {
  const width = 1 << entry.lengthPower;
  if (!rule.widths.includes(width)) fail(context, entry, `${rule.typeName} cannot patch ${width} bytes`);
  if (entry.pcRelative !== rule.pcRelative) {
    fail(context, entry, `${rule.typeName} must ${rule.pcRelative ? '' : 'not '}be pc-relative`);
  }
  if (entry.address + width > section.size) {
    fail(context, entry, `field at 0x${entry.address.toString(16)} runs past the end of ${section.segment},${section.name}`);
  }
  return width;
}

/** A relocation's target, with the section behind it when it is one and a name for messages and fingerprints. */
interface ResolvedTarget {
  readonly target: RelocationTarget;
  readonly section: MachOSection | undefined;
  readonly name: string;
}

function resolveTarget(context: RelocationContext, entry: RelocationInfo, rule: RelocationRule): ResolvedTarget {
  if (entry.external) {
    const index = context.symbolTable.symbolIndexOfEntry[entry.symbolNumber];
    const symbol = index === undefined ? undefined : context.symbolTable.symbols[index];
    if (index === undefined || symbol === undefined) fail(context, entry, `r_symbolnum ${entry.symbolNumber} names no symbol`);
    return { target: { symbol: index }, section: undefined, name: symbol.name === '' ? `symbol#${index}` : symbol.name };
  }
  if (!rule.sectionTarget) fail(context, entry, `${rule.typeName} must target a symbol`);
  // Non-extern relocations number sections from 1, like n_sect; 0 (R_ABS) names none.
  const section = context.sections[entry.symbolNumber - 1];
  if (section === undefined) fail(context, entry, `r_symbolnum ${entry.symbolNumber} names no section`);
  return { target: { section: section.index }, section, name: `${section.segment},${section.name}` };
}

/** The implicit addend: the signed value already in the patched field. */
function readField(context: RelocationContext, section: MachOSection, entry: RelocationInfo, width: number): bigint {
  const offset = section.fileOffset + entry.address;
  switch (width) {
    case 4:
      return BigInt(context.reader.i32('relocated field', offset));
    case 8:
      return context.reader.i64('relocated field', offset);
    default:
      return fail(context, entry, `cannot read a ${width}-byte addend`);
  }
}

/** ARM64_RELOC_ADDEND keeps a signed 24-bit addend in r_symbolnum. */
function signExtend24(value: number): bigint {
  return BigInt((value << 8) >> 8);
}

function fail(context: RelocationContext, entry: RelocationInfo, detail: string): never {
  return context.reader.fail('relocation_info', entry.entryOffset, detail);
}

function assertNever(value: never): never {
  throw new Error(`unhandled relocation role ${String(value)}`);
}
