import type { ByteReader } from '../byte-reader.js';
import type { SectionKind } from '../model.js';
import type { LoadCommand } from './load-commands.js';
import { classifySection, isZeroFill, sectionTypeOf, type SectionType } from './section-kind.js';

/** `sizeof(struct segment_command_64)`: its section headers follow it. */
const SEGMENT_COMMAND_64_SIZE = 72;
/** `sizeof(struct section_64)`. */
const SECTION_64_SIZE = 80;
/** Larger alignments are no real section's and would overflow 2 ** align as a safe integer. */
const MAX_ALIGNMENT_POWER = 31;

/** A section header as read, before relocations are decoded (they need the symbols). */
export interface MachOSection {
  readonly index: number;
  readonly name: string;
  readonly segment: string;
  readonly kind: SectionKind;
  readonly type: SectionType;
  readonly flags: number;
  readonly address: bigint;
  readonly size: number;
  readonly alignment: number;
  /** File offset of the contents; meaningless (and unused) for zero-fill sections. */
  readonly fileOffset: number;
  readonly data: Uint8Array;
  readonly relocationOffset: number;
  readonly relocationCount: number;
}

/**
 * Reads the section headers of one LC_SEGMENT_64. `firstIndex` is how many
 * sections earlier segments held: `n_sect` and non-extern `r_symbolnum`
 * number sections from 1 across all segments in load-command order.
 */
export function readSegmentSections(reader: ByteReader, command: LoadCommand, firstIndex: number): MachOSection[] {
  if (command.size < SEGMENT_COMMAND_64_SIZE) {
    reader.fail('segment_command_64', command.offset, `cmdsize ${command.size} is smaller than the command`);
  }
  const count = reader.u32('segment_command_64', command.offset + 64);
  if (SEGMENT_COMMAND_64_SIZE + count * SECTION_64_SIZE > command.size) {
    reader.fail('segment_command_64', command.offset + 64, `${count} sections do not fit in cmdsize ${command.size}`);
  }

  const sections: MachOSection[] = [];
  for (let i = 0; i < count; i++) {
    const offset = command.offset + SEGMENT_COMMAND_64_SIZE + i * SECTION_64_SIZE;
    sections.push(readSectionHeader(reader, offset, firstIndex + i));
  }
  return sections;
}

function readSectionHeader(reader: ByteReader, offset: number, index: number): MachOSection {
  const structure = 'section_64';
  const name = reader.fixedString(structure, offset, 16);
  const segment = reader.fixedString(structure, offset + 16, 16);
  const address = reader.u64(structure, offset + 32);
  const size = reader.u64AsNumber(structure, offset + 40);
  const fileOffset = reader.u32(structure, offset + 48);
  const alignPower = reader.u32(structure, offset + 52);
  const relocationOffset = reader.u32(structure, offset + 56);
  const relocationCount = reader.u32(structure, offset + 60);
  const flags = reader.u32(structure, offset + 64);

  const type = sectionTypeOf(flags);
  if (type === undefined) reader.fail(structure, offset + 64, `unknown section type 0x${(flags & 0xff).toString(16)}`);
  if (alignPower > MAX_ALIGNMENT_POWER) reader.fail(structure, offset + 52, `alignment 2^${alignPower} is too large`);

  const zeroFill = isZeroFill(type);
  // Zero-fill sections own no file bytes, however large they are.
  const data = zeroFill ? reader.bytes.subarray(0, 0) : reader.slice(`contents of ${segment},${name}`, fileOffset, size);
  if (zeroFill && relocationCount !== 0) reader.fail(structure, offset + 60, 'a zero-fill section cannot have relocations');

  return {
    index,
    name,
    segment,
    kind: classifySection(type, flags, segment, name),
    type,
    flags,
    address,
    size,
    alignment: 2 ** alignPower,
    fileOffset,
    data,
    relocationOffset,
    relocationCount,
  };
}
