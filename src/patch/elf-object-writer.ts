/**
 * A minimal ELF64 little-endian relocatable object writer: the patch object
 * that holds only the sections a patch needs, handed to the real linker.
 */

const STV_HIDDEN = 2;

export interface OutputSymbol {
  readonly name: string;
  /** `weak`: an undefined reference that may stay unresolved (address 0), as the source object had it. */
  readonly binding: 'local' | 'global' | 'weak';
  /**
   * Hidden for what the patch defines and for its bindings to the process
   * (defined by the linker script): only ipbp looks them up (in .symtab), and
   * a preemptible symbol could not take the PC-relative references release
   * builds make across codegen units. Symbols the dynamic loader resolves
   * (`memcpy`, `_Unwind_Resume`) must stay default.
   */
  readonly visibility: 'default' | 'hidden';
  readonly type: 'function' | 'object' | 'tls' | 'notype';
  /** Undefined symbols are bound by the linker script to addresses in the process. */
  readonly section: OutputSection | undefined;
  readonly value: number;
  readonly size: number;
}

export interface OutputRelocation {
  readonly offset: number;
  readonly type: number;
  readonly symbol: OutputSymbol;
  readonly addend: bigint;
}

export interface OutputSection {
  readonly name: string;
  readonly type: number;
  readonly flags: bigint;
  readonly alignment: number;
  /** Contents; for NOBITS only the length matters. */
  readonly data: Uint8Array;
  readonly relocations: OutputRelocation[];
}

const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_RELA = 4;
const SHT_NOBITS = 8;
const SHF_INFO_LINK = 0x40n;
export { SHT_NOBITS, SHT_PROGBITS };

class StringTable {
  private readonly parts: Buffer[] = [Buffer.from([0])];
  private size = 1;
  private readonly offsets = new Map<string, number>();

  add(value: string): number {
    if (value === '') return 0;
    const known = this.offsets.get(value);
    if (known !== undefined) return known;
    const offset = this.size;
    const bytes = Buffer.from(`${value}\0`, 'utf8');
    this.parts.push(bytes);
    this.size += bytes.length;
    this.offsets.set(value, offset);
    return offset;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function writeElfObject(machine: number, sections: readonly OutputSection[], symbols: readonly OutputSymbol[]): Buffer {
  // The ELF symbol table lists every local before the first global.
  const ordered = [...symbols.filter((s) => s.binding === 'local'), ...symbols.filter((s) => s.binding !== 'local')];
  const symbolIndex = new Map<OutputSymbol, number>(ordered.map((symbol, i) => [symbol, i + 1]));
  const sectionIndex = new Map<OutputSection, number>(sections.map((section, i) => [section, i + 1]));

  const names = new StringTable();
  const strings = new StringTable();
  interface Header {
    name: number;
    type: number;
    flags: bigint;
    data: Uint8Array;
    size: number;
    link: number;
    info: number;
    alignment: number;
    entrySize: number;
  }
  const headers: Header[] = [];
  for (const section of sections) {
    headers.push({
      name: names.add(section.name),
      type: section.type,
      flags: section.flags,
      data: section.type === SHT_NOBITS ? new Uint8Array(0) : section.data,
      size: section.data.length,
      link: 0,
      info: 0,
      alignment: section.alignment,
      entrySize: 0,
    });
  }
  const symtabIndex = sections.length + 1 + sections.filter((s) => s.relocations.length > 0).length;
  for (const section of sections) {
    if (section.relocations.length === 0) continue;
    const rela = Buffer.alloc(section.relocations.length * 24);
    section.relocations.forEach((relocation, i) => {
      const symbol = symbolIndex.get(relocation.symbol);
      if (symbol === undefined) throw new Error(`relocation against a symbol missing from the patch: ${relocation.symbol.name}`);
      rela.writeBigUInt64LE(BigInt(relocation.offset), i * 24);
      rela.writeBigUInt64LE((BigInt(symbol) << 32n) | BigInt(relocation.type), i * 24 + 8);
      rela.writeBigInt64LE(relocation.addend, i * 24 + 16);
    });
    headers.push({
      name: names.add(`.rela${section.name}`),
      type: SHT_RELA,
      flags: SHF_INFO_LINK,
      data: rela,
      size: rela.length,
      link: symtabIndex,
      info: sectionIndex.get(section)!,
      alignment: 8,
      entrySize: 24,
    });
  }
  const symtab = Buffer.alloc((ordered.length + 1) * 24);
  ordered.forEach((symbol, i) => {
    const at = (i + 1) * 24;
    const type = symbol.type === 'function' ? 2 : symbol.type === 'object' ? 1 : symbol.type === 'tls' ? 6 : 0;
    const binding = symbol.binding === 'weak' ? 2 : symbol.binding === 'global' ? 1 : 0;
    symtab.writeUInt32LE(strings.add(symbol.name), at);
    symtab.writeUInt8((binding << 4) | type, at + 4);
    symtab.writeUInt8(symbol.visibility === 'hidden' ? STV_HIDDEN : 0, at + 5);
    symtab.writeUInt16LE(symbol.section ? sectionIndex.get(symbol.section)! : 0, at + 6);
    symtab.writeBigUInt64LE(BigInt(symbol.value), at + 8);
    symtab.writeBigUInt64LE(BigInt(symbol.size), at + 16);
  });
  const firstGlobal = 1 + ordered.filter((s) => s.binding === 'local').length;
  headers.push({ name: names.add('.symtab'), type: SHT_SYMTAB, flags: 0n, data: symtab, size: symtab.length, link: symtabIndex + 1, info: firstGlobal, alignment: 8, entrySize: 24 });
  const strtab = strings.bytes();
  headers.push({ name: names.add('.strtab'), type: SHT_STRTAB, flags: 0n, data: strtab, size: strtab.length, link: 0, info: 0, alignment: 1, entrySize: 0 });
  const shstrtabName = names.add('.shstrtab');
  const shstrtab = names.bytes();
  headers.push({ name: shstrtabName, type: SHT_STRTAB, flags: 0n, data: shstrtab, size: shstrtab.length, link: 0, info: 0, alignment: 1, entrySize: 0 });

  // Layout: ELF header, section contents (aligned), section header table.
  let offset = 64;
  const offsets: number[] = [];
  for (const header of headers) {
    offset = alignUp(offset, Math.max(1, Math.min(header.alignment, 4096)));
    offsets.push(offset);
    offset += header.data.length;
  }
  const sectionHeaderOffset = alignUp(offset, 8);
  const file = Buffer.alloc(sectionHeaderOffset + (headers.length + 1) * 64);
  file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  file.writeUInt16LE(1, 16); // ET_REL
  file.writeUInt16LE(machine, 18);
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(BigInt(sectionHeaderOffset), 40);
  file.writeUInt16LE(64, 52);
  file.writeUInt16LE(64, 58);
  file.writeUInt16LE(headers.length + 1, 60);
  file.writeUInt16LE(headers.length, 62);
  headers.forEach((header, i) => {
    file.set(header.data, offsets[i]!);
    const at = sectionHeaderOffset + (i + 1) * 64;
    file.writeUInt32LE(header.name, at);
    file.writeUInt32LE(header.type, at + 4);
    file.writeBigUInt64LE(header.flags, at + 8);
    file.writeBigUInt64LE(BigInt(offsets[i]!), at + 24);
    file.writeBigUInt64LE(BigInt(header.size), at + 32);
    file.writeUInt32LE(header.link, at + 40);
    file.writeUInt32LE(header.info, at + 44);
    file.writeBigUInt64LE(BigInt(header.alignment), at + 48);
    file.writeBigUInt64LE(BigInt(header.entrySize), at + 56);
  });
  return file;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
