import { ByteReader } from '../byte-reader.js';
import { readElfHeader } from './header.js';
import { SHT_NOTE, SHT_SYMTAB } from './section-header.js';
import { readElfSections } from './sections.js';
import { readElfSymbols } from './symbol.js';

/**
 * A linked ELF image (the running executable, or a patch already loaded):
 * where its symbols are, relative to its link address, and its build id.
 */
export interface ElfImage {
  readonly path: string;
  /** Defined symbols by name, at their link-time address. The first definition wins. */
  readonly symbols: ReadonlyMap<string, ImageSymbol>;
  /** Names defined more than once (local symbols of different objects). */
  readonly ambiguous: ReadonlySet<string>;
  /** Names the image takes from shared libraries (`_Unwind_Resume`, libc). */
  readonly imports: ReadonlySet<string>;
  readonly buildId: string;
  readonly loadSegments: ReadonlyArray<{ readonly address: bigint; readonly size: bigint; readonly writable: boolean }>;
  /** The range the loader makes read-only after relocating it (`PT_GNU_RELRO`): `.data.rel.ro`, the GOT. */
  readonly relro: { readonly address: bigint; readonly size: bigint } | undefined;
  readonly tls: { readonly address: bigint; readonly size: bigint; readonly alignment: bigint } | undefined;
  /** `DF_STATIC_TLS` in the dynamic section: the loader must place its TLS block in static TLS (initial-exec accesses). */
  readonly staticTls: boolean;
}

export interface ImageSymbol {
  readonly address: bigint;
  readonly size: number;
  /** `ifunc`: a GNU indirect function, whose symbol is the resolver the loader calls, not the function. */
  readonly kind: 'function' | 'ifunc' | 'data' | 'tls' | 'other';
}

const ET_EXEC = 2;
const ET_DYN = 3;
const PT_LOAD = 1;
const PT_TLS = 7;
const PT_DYNAMIC = 2;
const PT_GNU_RELRO = 0x6474e552;
const DT_NULL = 0n;
const DT_FLAGS = 30n;
const DF_STATIC_TLS = 0x10n;
const PF_W = 2;
const NT_GNU_BUILD_ID = 3;
const STT_GNU_IFUNC = 10;

export function readElfImage(path: string, bytes: Uint8Array): ElfImage {
  const reader: ByteReader = new ByteReader(path, bytes);
  const header = readElfHeader(reader);
  if (header.type !== ET_EXEC && header.type !== ET_DYN) reader.fail('ELF type', 16, `expected an executable or shared object, found type ${header.type}`);
  const { headers, sections } = readElfSections(reader, header);
  const symtab = headers.find((h) => h.type === SHT_SYMTAB);
  if (!symtab) reader.fail('ELF symbol table', 0, 'the image has no .symtab (was it stripped?); ipbp needs symbols to bind patches');
  const symbols = new Map<string, ImageSymbol>();
  const ambiguous = new Set<string>();
  const imports = new Set<string>();
  for (const symbol of readElfSymbols(reader, symtab, headers, sections)) {
    if (symbol.undefined && symbol.name !== '') imports.add(symbol.name.replace(/@.*$/, ''));
    if (symbol.section === undefined || symbol.name === '' || symbol.kind === 'section' || symbol.kind === 'file') continue;
    if (symbols.has(symbol.name)) {
      ambiguous.add(symbol.name);
      continue;
    }
    const kind =
      symbol.raw.type === STT_GNU_IFUNC ? 'ifunc' : symbol.kind === 'function' ? 'function' : symbol.kind === 'tls' ? 'tls' : symbol.kind === 'data' ? 'data' : 'other';
    symbols.set(symbol.name, { address: symbol.raw.value, size: symbol.size, kind });
  }

  const loadSegments: Array<{ address: bigint; size: bigint; writable: boolean }> = [];
  let tls: ElfImage['tls'];
  let relro: ElfImage['relro'];
  let staticTls = false;
  const programHeaderOffset = reader.u64AsNumber('ELF program header offset', 32);
  const programHeaderCount = reader.u16('ELF program header count', 56);
  // The whole table must be in the file before any entry is believed (a garbage entry could name a dynamic segment).
  reader.check('ELF program header table', programHeaderOffset, programHeaderCount * 56);
  for (let i = 0; i < programHeaderCount; i++) {
    const at = programHeaderOffset + i * 56;
    const type = reader.u32('ELF program header type', at);
    const flags = reader.u32('ELF program header flags', at + 4);
    const address = reader.u64('ELF program header address', at + 16);
    const size = reader.u64('ELF program header memory size', at + 40);
    if (type === PT_LOAD) loadSegments.push({ address, size, writable: (flags & PF_W) !== 0 });
    if (type === PT_GNU_RELRO) relro = { address, size };
    if (type === PT_TLS) tls = { address, size, alignment: reader.u64('ELF program header alignment', at + 48) };
    if (type === PT_DYNAMIC) staticTls = hasStaticTlsFlag(reader, reader.u64AsNumber('ELF dynamic segment offset', at + 8), reader.u64AsNumber('ELF dynamic segment size', at + 32));
  }
  const buildId = readBuildId(reader, headers.filter((h) => h.type === SHT_NOTE));
  return { path, symbols, ambiguous, imports, buildId, loadSegments, relro, tls, staticTls };
}

function hasStaticTlsFlag(reader: ByteReader, offset: number, size: number): boolean {
  for (let at = offset; at + 16 <= offset + size; at += 16) {
    const tag = reader.u64('ELF dynamic tag', at);
    if (tag === DT_NULL) break;
    if (tag === DT_FLAGS) return (reader.u64('ELF dynamic flags', at + 8) & DF_STATIC_TLS) !== 0n;
  }
  return false;
}

function readBuildId(reader: ByteReader, notes: ReadonlyArray<{ offset: number; size: number }>): string {
  for (const note of notes) {
    let at = note.offset;
    const end = note.offset + note.size;
    while (at + 12 <= end) {
      const nameSize = reader.u32('ELF note name size', at);
      const descriptionSize = reader.u32('ELF note descriptor size', at + 4);
      const type = reader.u32('ELF note type', at + 8);
      const descriptionAt = at + 12 + align4(nameSize);
      if (type === NT_GNU_BUILD_ID && reader.cString('ELF note name', at + 12, descriptionAt) === 'GNU') {
        return Buffer.from(reader.slice('ELF build id', descriptionAt, descriptionSize)).toString('hex');
      }
      at = descriptionAt + align4(descriptionSize);
    }
  }
  return '';
}

/** Round up to a multiple of 4. Arithmetic, not `& ~3`: a 32-bit mask turns sizes of 2^31 and more negative. */
function align4(value: number): number {
  return Math.ceil(value / 4) * 4;
}
