import type { ObjectFile, Section } from '../object/model.js';
import { SHT_REL, SHT_RELA } from '../object/elf/section-header.js';
import { DebugInfoError } from './errors.js';

/**
 * In a relocatable object, every offset from .debug_info into .debug_str,
 * .debug_abbrev, .debug_line... is a relocation: the bytes hold 0 and the
 * RELA addend holds the offset (LLVM writes them so the linker can merge the
 * sections of many objects). The object reader does not decode relocations of
 * metadata sections (the diff has no use for them), so the raw .rela tables
 * are decoded here and applied to a private copy of the section.
 *
 * Only relocations against symbols in debug sections are applied; the others
 * (code addresses in DW_AT_low_pc, TLS offsets in locations) do not matter for
 * type layouts and stay 0.
 */
export function relocatedDebugSection(object: ObjectFile, section: Section): Uint8Array {
  if (object.format !== 'elf') return section.data;
  const tables = object.sections.filter((s) => (s.raw.type === SHT_RELA && s.name === `.rela${section.name}`) || (s.raw.type === SHT_REL && s.name === `.rel${section.name}`));
  if (tables.length === 0) return section.data;
  const widths = object.architecture === 'x86_64' ? X86_64_ABSOLUTE : AARCH64_ABSOLUTE;
  const copy = new Uint8Array(section.data);
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  const inDebugSection = object.sections.map((s) => isDebugSectionName(s.name));
  for (const table of tables) {
    const fail = (at: number, detail: string): never => {
      throw new DebugInfoError(object.path, table.name, at, detail);
    };
    const withAddend = table.raw.type === SHT_RELA;
    const entrySize = withAddend ? 24 : 16;
    const entries = new DataView(table.data.buffer, table.data.byteOffset, table.data.byteLength);
    const count = Math.floor(table.data.byteLength / entrySize);
    for (let i = 0; i < count; i++) {
      const at = i * entrySize;
      const symbolIndex = entries.getUint32(at + 12, true);
      const symbol = object.symbols[symbolIndex];
      if (!symbol) return fail(at, `relocation ${i} names symbol ${symbolIndex}, which does not exist`);
      if (symbol.section === undefined || !inDebugSection[symbol.section]) continue;
      const type = entries.getUint32(at + 8, true);
      const width = widths.get(type);
      if (width === undefined) return fail(at, `unsupported relocation type ${type} against a debug section`);
      const offset = entries.getUint32(at, true);
      if (entries.getUint32(at + 4, true) !== 0 || offset + width > copy.byteLength) return fail(at, `relocation ${i} patches bytes outside ${section.name}`);
      // Addends of debug relocations are section offsets: small and non-negative.
      const addend = withAddend
        ? entries.getInt32(at + 20, true) * 2 ** 32 + entries.getUint32(at + 16, true)
        : width === 8
          ? Number(view.getBigUint64(offset, true))
          : view.getUint32(offset, true);
      const value = symbol.offset + addend;
      if (!Number.isSafeInteger(value) || value < 0 || (width === 4 && value > 0xffffffff)) {
        return fail(at, `relocation ${i} yields 0x${value.toString(16)}, which does not fit its ${width}-byte field`);
      }
      if (width === 8) view.setBigUint64(offset, BigInt(value), true);
      else view.setUint32(offset, value, true);
    }
  }
  return copy;
}

function isDebugSectionName(name: string): boolean {
  return name.startsWith('.debug_');
}

/** Absolute relocation types and their widths; debug sections use no others. */
const X86_64_ABSOLUTE: ReadonlyMap<number, number> = new Map([
  [1, 8], // R_X86_64_64
  [10, 4], // R_X86_64_32
  [11, 4], // R_X86_64_32S
]);
const AARCH64_ABSOLUTE: ReadonlyMap<number, number> = new Map([
  [257, 8], // R_AARCH64_ABS64
  [258, 4], // R_AARCH64_ABS32
]);
