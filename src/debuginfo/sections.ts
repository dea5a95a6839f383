import type { ObjectFile, Section } from '../object/model.js';
import { DebugInfoError } from './errors.js';
import { relocatedDebugSection } from './relocate.js';

/** The DWARF sections the layout reader needs, relocated, empty when absent. */
export interface DebugSections {
  readonly file: string;
  readonly info: Uint8Array;
  readonly abbrev: Uint8Array;
  readonly str: Uint8Array;
  readonly strOffsets: Uint8Array;
  readonly lineStr: Uint8Array;
}

/** ELF sections compressed with SHF_COMPRESSED (`-gz`, `-Z debuginfo-compression`) would need inflating first. */
const SHF_COMPRESSED = 0x800n;

/**
 * The debug sections of `object`, or undefined when it has no .debug_info.
 * (Mach-O names them `__debug_*` and needs no relocation; ELF objects are
 * what ipbp builds on Linux.)
 */
export function debugSections(object: ObjectFile): DebugSections | undefined {
  const find = (name: string): Section | undefined => object.sections.find((s) => s.name === `.debug_${name}` || s.name === `__debug_${name}`);
  const info = find('info');
  if (!info || info.data.byteLength === 0) return undefined;
  const used = { info, abbrev: find('abbrev'), str: find('str'), strOffsets: find('str_offsets') ?? find('str_offs'), lineStr: find('line_str') };
  for (const section of Object.values(used)) {
    if (section && object.format === 'elf' && (section.raw.flags & SHF_COMPRESSED) !== 0n) {
      throw new DebugInfoError(object.path, section.name, 0, 'compressed debug sections are not supported');
    }
  }
  return {
    file: object.path,
    info: relocatedDebugSection(object, info),
    abbrev: used.abbrev?.data ?? EMPTY,
    str: used.str?.data ?? EMPTY,
    strOffsets: used.strOffsets ? relocatedDebugSection(object, used.strOffsets) : EMPTY,
    lineStr: used.lineStr?.data ?? EMPTY,
  };
}

const EMPTY = new Uint8Array(0);
