/**
 * The inputs the mutators start from, and where their header fields are.
 *
 * Objects: the committed ELF (aarch64) and Mach-O (x86_64, arm64) fixtures,
 * GNU and BSD archives assembled around them here, and, when `rustc` is at
 * hand, an x86_64 ELF object, an rlib and a small linked executable built on
 * the spot. Protocol: the golden frames shared with the Rust agent.
 *
 * "Regions" are byte ranges worth mutating more often than the rest (headers,
 * section and load-command tables, symbol and relocation tables, archive
 * member headers, message length fields). They are found by a few lines of
 * independent parsing here, not by the readers under test, and a seed the
 * finder cannot make sense of simply has no regions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compiled to dist/fuzz/ or dist/test/: the repository is two levels up. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export type SeedKind = 'object' | 'archive' | 'image';

export interface Region {
  readonly start: number;
  readonly length: number;
}

export interface Seed {
  readonly name: string;
  readonly kind: SeedKind;
  readonly bytes: Uint8Array;
  /** Always at least one region: the whole input. */
  readonly regions: readonly Region[];
}

const encoder = new TextEncoder();

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function clampRegion(bytes: Uint8Array, start: number, length: number, limit = 4096): Region | undefined {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || start >= bytes.length || length <= 0) return undefined;
  return { start, length: Math.min(length, limit, bytes.length - start) };
}

function push(regions: Region[], region: Region | undefined): void {
  if (region !== undefined) regions.push(region);
}

/** ELF64 little-endian: the header, the program and section header tables, and the tables sections point at. */
function elfRegions(bytes: Uint8Array, base = 0): Region[] {
  const regions: Region[] = [];
  if (bytes.length < 64) return regions;
  const v = view(bytes);
  push(regions, clampRegion(bytes, 0, 64));
  const phoff = Number(v.getBigUint64(32, true));
  const phnum = v.getUint16(56, true);
  push(regions, clampRegion(bytes, phoff, phnum * 56));
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  push(regions, clampRegion(bytes, shoff, shnum * 64, 64 * 1024));
  for (let i = 0; i < shnum && shoff + (i + 1) * 64 <= bytes.length; i++) {
    const at = shoff + i * 64;
    const type = v.getUint32(at + 4, true);
    // SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_DYNAMIC, SHT_NOTE, SHT_REL, SHT_DYNSYM
    if ([2, 3, 4, 6, 7, 9, 11].includes(type)) {
      push(regions, clampRegion(bytes, Number(v.getBigUint64(at + 24, true)), Number(v.getBigUint64(at + 32, true))));
    }
  }
  return regions.map((r) => ({ start: r.start + base, length: r.length }));
}

/** Mach-O 64: the header and load commands, the symbol, string and relocation tables. */
function machORegions(bytes: Uint8Array, base = 0): Region[] {
  const regions: Region[] = [];
  if (bytes.length < 32) return regions;
  const v = view(bytes);
  const ncmds = v.getUint32(16, true);
  const sizeofcmds = v.getUint32(20, true);
  push(regions, clampRegion(bytes, 0, 32 + sizeofcmds));
  let at = 32;
  for (let i = 0; i < ncmds && at + 8 <= bytes.length; i++) {
    const cmd = v.getUint32(at, true);
    const size = v.getUint32(at + 4, true);
    if (cmd === 0x19 /* LC_SEGMENT_64 */ && at + 72 <= bytes.length) {
      const nsects = v.getUint32(at + 64, true);
      for (let s = 0; s < nsects && at + 72 + (s + 1) * 80 <= bytes.length; s++) {
        const section = at + 72 + s * 80;
        push(regions, clampRegion(bytes, section, 80));
        push(regions, clampRegion(bytes, v.getUint32(section + 56, true), v.getUint32(section + 60, true) * 8));
      }
    } else if (cmd === 0x2 /* LC_SYMTAB */ && at + 24 <= bytes.length) {
      push(regions, clampRegion(bytes, at, 24));
      push(regions, clampRegion(bytes, v.getUint32(at + 8, true), v.getUint32(at + 12, true) * 16));
      push(regions, clampRegion(bytes, v.getUint32(at + 16, true), v.getUint32(at + 20, true), 1024));
    } else {
      push(regions, clampRegion(bytes, at, size, 256));
    }
    if (size < 8) break;
    at += size;
  }
  return regions.map((r) => ({ start: r.start + base, length: r.length }));
}

function isElfBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

function isMachOBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0xcf && bytes[1] === 0xfa && bytes[2] === 0xed && bytes[3] === 0xfe;
}

function innerRegions(bytes: Uint8Array, base: number): Region[] {
  if (isElfBytes(bytes)) return elfRegions(bytes, base);
  if (isMachOBytes(bytes)) return machORegions(bytes, base);
  return [];
}

/** Archive member headers, and the regions of the objects inside. */
function archiveRegions(bytes: Uint8Array): Region[] {
  const regions: Region[] = [];
  let at = 8;
  while (at + 60 <= bytes.length) {
    regions.push({ start: at, length: 60 });
    const size = Number(Buffer.from(bytes.subarray(at + 48, at + 58)).toString('latin1').trim());
    if (!Number.isSafeInteger(size) || size < 0) break;
    const name = Buffer.from(bytes.subarray(at, at + 16)).toString('latin1');
    // A BSD `#1/<n>` name sits before the data.
    const nameLength = name.startsWith('#1/') ? Number(name.slice(3).trim()) : 0;
    const start = at + 60 + (Number.isSafeInteger(nameLength) ? nameLength : 0);
    const data = bytes.subarray(start, at + 60 + size);
    if (nameLength > 0) push(regions, clampRegion(bytes, at + 60, nameLength));
    regions.push(...innerRegions(data, start));
    at += 60 + size + (size % 2);
  }
  return regions;
}

export function makeSeed(name: string, kind: SeedKind, bytes: Uint8Array): Seed {
  const hot = kind === 'archive' ? archiveRegions(bytes) : innerRegions(bytes, 0);
  return { name, kind, bytes, regions: [{ start: 0, length: Math.max(1, bytes.length) }, ...hot] };
}

// ---------------------------------------------------------------------------
// Archives built around the committed objects

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function arHeader(name: string, size: number): Uint8Array {
  const text = name.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(size).padEnd(10) + '`\n';
  return encoder.encode(text);
}

function pad(data: Uint8Array): Uint8Array[] {
  return data.length % 2 === 1 ? [data, encoder.encode('\n')] : [data];
}

export interface Member {
  readonly name: string;
  readonly data: Uint8Array;
}

/** A GNU archive: a `/` symbol table, a `//` long-name table, names over 15 bytes as `/<offset>`. */
export function gnuArchive(members: readonly Member[]): Uint8Array {
  let table = '';
  const names = members.map((member) => {
    if (member.name.length <= 15) return `${member.name}/`;
    const offset = table.length;
    table += `${member.name}/\n`;
    return `/${offset}`;
  });
  const parts: Uint8Array[] = [encoder.encode('!<arch>\n')];
  const symbols = new Uint8Array(8);
  parts.push(arHeader('/', symbols.length), symbols);
  if (table !== '') {
    const bytes = encoder.encode(table);
    parts.push(arHeader('//', bytes.length), ...pad(bytes));
  }
  members.forEach((member, i) => parts.push(arHeader(names[i]!, member.data.length), ...pad(member.data)));
  return concat(parts);
}

/** A BSD archive: `__.SYMDEF`, then names longer than 15 bytes (or with spaces) as `#1/<length>` before the data. */
export function bsdArchive(members: readonly Member[]): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode('!<arch>\n')];
  const symdef = new Uint8Array(12);
  parts.push(arHeader('__.SYMDEF SORTED', symdef.length), symdef);
  for (const { name, data } of members) {
    let body = data;
    let field = name;
    if (name.length > 15 || name.includes(' ')) {
      const padded = new Uint8Array(Math.ceil((name.length + 1) / 8) * 8);
      padded.set(encoder.encode(name));
      body = concat([padded, data]);
      field = `#1/${padded.length}`;
    }
    parts.push(arHeader(field, body.length), ...pad(body));
  }
  return concat(parts);
}

// ---------------------------------------------------------------------------
// Loading

/** The objects of a fixture directory, named `<last directory>/<file>` so that names stay unique. */
function objectsIn(directory: string): Member[] {
  const last = directory.split('/').pop()!;
  return readdirSync(join(REPO, directory))
    .filter((name) => name.endsWith('.o'))
    .sort()
    .map((name) => ({ name: `${last}/${name}`, data: new Uint8Array(readFileSync(join(REPO, directory, name))) }));
}

export interface SeedOptions {
  /** Build an x86_64 object, an rlib and an executable with rustc (about a second); a failure fails the run. */
  readonly build?: boolean;
  /** Keep only every n-th committed fixture (the short test uses a few). */
  readonly every?: number;
}

const LIB_RS = `pub static GREETING: &str = "hello";
pub static mut COUNTER: u64 = 0;
pub static TABLE: [u32; 4] = [1, 2, 3, 4];
#[inline(never)] pub fn add(a: u64, b: u64) -> u64 { a.wrapping_add(b) }
pub fn greet(name: &str) -> String { format!("{GREETING}, {name}") }
#[allow(static_mut_refs)] pub fn bump() -> u64 { unsafe { COUNTER += 1; COUNTER } }
thread_local! { pub static LOCAL: std::cell::Cell<u32> = const { std::cell::Cell::new(1) }; }
pub fn pick(i: usize) -> u32 { TABLE[i % 4] + LOCAL.with(|l| l.get()) }
`;
const MAIN_RS = `fn main() { println!("{}", std::env::args().count()); }\n`;

function builtSeeds(): Seed[] {
  const directory = mkdtempSync(join(tmpdir(), 'ipbp-fuzz-seeds-'));
  try {
    writeFileSync(join(directory, 'lib.rs'), LIB_RS);
    writeFileSync(join(directory, 'main.rs'), MAIN_RS);
    const rustc = (args: readonly string[]): void => {
      execFileSync('rustc', ['--edition', '2021', '-C', 'opt-level=0', ...args], { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
    };
    rustc(['--crate-type=lib', '--crate-name', 'small', '-C', 'codegen-units=1', '--emit=obj', '-o', 'small.o', 'lib.rs']);
    // With its DWARF: the layout reader runs on every object the readers accept.
    rustc(['--crate-type=lib', '--crate-name', 'small', '-C', 'codegen-units=1', '-C', 'debuginfo=2', '--emit=obj', '-o', 'small-debug.o', 'lib.rs']);
    rustc(['--crate-type=rlib', '--crate-name', 'small', '-C', 'codegen-units=2', '--emit=link', '-o', 'libsmall.rlib', 'lib.rs']);
    // Linked against libstd.so, the executable stays small enough to mutate by the million.
    rustc(['-C', 'prefer-dynamic', '-C', 'strip=debuginfo', '-o', 'tiny', 'main.rs']);
    const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(directory, name)));
    return [
      makeSeed('small.o', 'object', read('small.o')),
      makeSeed('small-debug.o', 'object', read('small-debug.o')),
      makeSeed('libsmall.rlib', 'archive', read('libsmall.rlib')),
      makeSeed('tiny', 'image', read('tiny')),
    ];
  } catch (error) {
    // A seed that cannot be made would silently narrow every run that uses it.
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error instanceof Error ? error.message : String(error));
    throw new Error(`cannot build the rustc seeds: ${detail}`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export function objectSeeds(options: SeedOptions = {}): Seed[] {
  const every = Math.max(1, options.every ?? 1);
  const sample = <T>(list: readonly T[]): T[] => list.filter((_, i) => i % every === 0);
  const elf = objectsIn('test/fixtures/diff-cross/aarch64-unknown-linux-gnu');
  const macho = [
    ...objectsIn('test/fixtures/macho'),
    ...objectsIn('test/fixtures/diff-cross/x86_64-apple-darwin'),
    ...objectsIn('test/fixtures/diff-cross/aarch64-apple-darwin'),
  ];
  const seeds = [...sample(elf), ...sample(macho)].map((m) => makeSeed(m.name, 'object', m.data));
  const base = (m: Member): Member => ({ name: m.name.split('/').pop()!, data: m.data });
  const longName = (m: Member): Member => ({ name: `demo-0123456789abcdef.${base(m).name.replace(/\.o$/, '')}.rcgu.o`, data: m.data });
  seeds.push(
    makeSeed('gnu.a', 'archive', gnuArchive([base(elf[0]!), longName(elf[1]!), { name: 'lib.rmeta', data: encoder.encode('rust metadata, not an object') }])),
    makeSeed('bsd.a', 'archive', bsdArchive([longName(macho[0]!), base(macho[2]!), { name: 'notes.txt', data: encoder.encode('odd length') }])),
  );
  if (options.build) seeds.push(...builtSeeds());
  return seeds;
}

// ---------------------------------------------------------------------------
// Protocol payloads

/** The golden frames shared with the Rust agent's tests, as payloads (length prefix removed). */
export function goldenPayloads(): Uint8Array[] {
  const directory = join(REPO, 'test/fixtures/protocol');
  return readdirSync(directory)
    .filter((name) => name.endsWith('.bin'))
    .sort()
    .map((name) => new Uint8Array(readFileSync(join(directory, name))).subarray(4));
}

type WireField = 'u8' | 'u32' | 'u64' | 'bytes' | 'redirects' | 'stacks' | 'tlsFixups';

/**
 * The field layout of each message tag, written out again from the protocol
 * description, for aiming mutations at length fields. Tags 5-7 are the TCP
 * authentication messages, 8 and 9 the stack samples. A layout that is out of date only makes the
 * mutations less pointed; it never fails a property.
 */
const LAYOUTS: Readonly<Record<number, readonly WireField[]>> = {
  1: ['u32', 'u32', 'bytes', 'bytes', 'u64', 'u64', 'u64'],
  2: ['u32', 'bytes', 'bytes', 'u64', 'redirects', 'u64', 'bytes', 'tlsFixups'],
  3: ['u32', 'u8', 'bytes', 'u64', 'u64', 'u8', 'stacks'],
  4: ['bytes'],
  5: ['bytes'],
  6: ['bytes', 'bytes'],
  7: ['bytes'],
  8: ['u32'],
  9: ['u32', 'bytes', 'stacks'],
};

/** The tag byte and every field of `payload`, as far as its layout can be followed. */
export function payloadRegions(payload: Uint8Array): Region[] {
  const regions: Region[] = [{ start: 0, length: Math.max(1, payload.length) }];
  if (payload.length === 0) return regions;
  regions.push({ start: 0, length: 1 });
  const layout = LAYOUTS[payload[0]!];
  if (!layout) return regions;
  const v = view(payload);
  let at = 1;
  for (const field of layout) {
    const width = field === 'u8' ? 1 : field === 'u64' ? 8 : 4;
    if (at + width > payload.length) break;
    regions.push({ start: at, length: width });
    if (field === 'bytes') at += 4 + v.getUint32(at, true);
    else if (field === 'redirects') at += 4 + 16 * v.getUint32(at, true);
    else if (field === 'stacks') at = stackRegions(payload, v, at, regions);
    else if (field === 'tlsFixups') at = tlsFixupRegions(payload, v, at, regions);
    else at += width;
  }
  return regions;
}

/** The width byte of each TLS fixup in a load-patch (`at`: the fixup count); returns where they end. */
function tlsFixupRegions(payload: Uint8Array, v: DataView, at: number, regions: Region[]): number {
  const count = v.getUint32(at, true);
  at += 4;
  for (let i = 0; i < count && at + 17 <= payload.length; i++) {
    regions.push({ start: at + 16, length: 1 });
    at += 17;
  }
  return at;
}

/** The tid, status and frame count of each stack in a patch-result or stacks message (`at`: the stack count); returns where they end. */
function stackRegions(payload: Uint8Array, v: DataView, at: number, regions: Region[]): number {
  const count = v.getUint32(at, true);
  at += 4;
  for (let i = 0; i < count && at + 9 <= payload.length; i++) {
    regions.push({ start: at, length: 4 }, { start: at + 4, length: 1 }, { start: at + 5, length: 4 });
    at += 9 + 8 * v.getUint32(at + 5, true);
  }
  return at;
}
