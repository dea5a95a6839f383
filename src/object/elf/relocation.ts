import type { ByteReader } from '../byte-reader.js';
import type { Relocation } from '../model.js';
import type { RelocationType } from '../relocation-type.js';
import { type ElfSectionHeader, SHT_RELA } from './section-header.js';

const RELA_SIZE = 24;
const REL_SIZE = 16;

/** Decode one SHT_RELA or SHT_REL section that applies to `target`. */
export function readElfRelocations(
  reader: ByteReader,
  table: ElfSectionHeader,
  target: ElfSectionHeader,
  symbolCount: number,
  types: ReadonlyMap<number, RelocationType>,
): Relocation[] {
  const withAddend = table.type === SHT_RELA;
  const entrySize = withAddend ? RELA_SIZE : REL_SIZE;
  const count = Math.floor(table.size / entrySize);
  const relocations: Relocation[] = [];
  for (let i = 0; i < count; i++) {
    const at = table.offset + i * entrySize;
    const offset = reader.u64AsNumber('ELF relocation offset', at);
    const info = reader.u64('ELF relocation info', at + 8);
    const typeNumber = Number(info & 0xffffffffn);
    const symbol = Number(info >> 32n);
    const type = types.get(typeNumber);
    if (!type) reader.fail('ELF relocation type', at + 8, `unsupported relocation type ${typeNumber}`);
    if (symbol >= symbolCount) reader.fail('ELF relocation symbol', at + 8, `symbol ${symbol} does not exist`);
    if (offset + type.width > target.size) {
      reader.fail('ELF relocation offset', at, `relocation at 0x${offset.toString(16)} lies outside its section`);
    }
    const addend = withAddend ? reader.i64('ELF relocation addend', at + 16) : implicitAddend(reader, target, offset, type.width);
    relocations.push({
      offset,
      kind: type.kind,
      width: type.width,
      target: { symbol },
      addend,
      raw: { type: typeNumber, typeName: type.name, pcRelative: type.kind === 'pc-relative' },
    });
  }
  return relocations;
}

/** REL entries keep the addend in the bytes being relocated. */
function implicitAddend(reader: ByteReader, target: ElfSectionHeader, offset: number, width: number): bigint {
  const at = target.offset + offset;
  if (width === 8) return reader.i64('ELF implicit addend', at);
  if (width === 4) return BigInt(reader.i32('ELF implicit addend', at));
  return 0n;
}
