import type { ByteReader } from '../byte-reader.js';
import type { Relocation, RelocationTarget } from '../model.js';
import type { RelocationType } from '../relocation-type.js';
import { i64Big, safeU64, viewOf } from './fields.js';
import { type ElfSectionHeader, SHT_RELA } from './section-header.js';

const RELA_SIZE = 24;
const REL_SIZE = 16;

/**
 * Decode one SHT_RELA or SHT_REL section that applies to `target`. Relocations
 * to one symbol share their (read-only) target record through `targets`,
 * which the caller keeps for the whole object.
 */
export function readElfRelocations(
  reader: ByteReader,
  table: ElfSectionHeader,
  target: ElfSectionHeader,
  symbolCount: number,
  types: ReadonlyMap<number, RelocationType>,
  targets: RelocationTarget[] = [],
): Relocation[] {
  const withAddend = table.type === SHT_RELA;
  const entrySize = withAddend ? RELA_SIZE : REL_SIZE;
  const count = Math.floor(table.size / entrySize);
  const view = viewOf(reader.bytes);
  const length = reader.length;
  const relocations: Relocation[] = [];
  for (let i = 0; i < count; i++) {
    const at = table.offset + i * entrySize;
    // Entries inside the file (all of them, unless the table's header lies) are read unchecked.
    const inside = at + entrySize <= length;
    const offset = (inside ? safeU64(view, at) : undefined) ?? reader.u64AsNumber('ELF relocation offset', at);
    const info = inside ? undefined : reader.u64('ELF relocation info', at + 8);
    const typeNumber = info === undefined ? view.getUint32(at + 8, true) : Number(info & 0xffffffffn);
    const symbol = info === undefined ? view.getUint32(at + 12, true) : Number(info >> 32n);
    const type = types.get(typeNumber);
    if (!type) reader.fail('ELF relocation type', at + 8, `unsupported relocation type ${typeNumber}`);
    if (symbol >= symbolCount) reader.fail('ELF relocation symbol', at + 8, `symbol ${symbol} does not exist`);
    if (offset + type.width > target.size) {
      reader.fail('ELF relocation offset', at, `relocation at 0x${offset.toString(16)} lies outside its section`);
    }
    let addend: bigint;
    if (!withAddend) addend = implicitAddend(reader, target, offset, type.width);
    else addend = inside ? i64Big(view, at + 16) : reader.i64('ELF relocation addend', at + 16);
    relocations.push({ offset, kind: type.kind, width: type.width, target: (targets[symbol] ??= { symbol }), addend, raw: rawOf(typeNumber, type) });
  }
  return relocations;
}

const RAW = new Map<RelocationType, Relocation['raw']>();

/** The raw fields depend on the type alone, so every relocation of a type shares one (read-only) record. */
function rawOf(typeNumber: number, type: RelocationType): Relocation['raw'] {
  const shared = RAW.get(type);
  if (shared && shared.type === typeNumber) return shared;
  const raw = { type: typeNumber, typeName: type.name, pcRelative: type.kind === 'pc-relative' };
  if (!shared) RAW.set(type, raw);
  return raw;
}

/** REL entries keep the addend in the bytes being relocated. */
function implicitAddend(reader: ByteReader, target: ElfSectionHeader, offset: number, width: number): bigint {
  const at = target.offset + offset;
  if (width === 8) return reader.i64('ELF implicit addend', at);
  if (width === 4) return BigInt(reader.i32('ELF implicit addend', at));
  return 0n;
}
