import { ByteReader } from '../byte-reader.js';

/** One member of a `!<arch>` archive, viewed in place (no copy). */
export interface ArchiveMember {
  readonly name: string;
  readonly offset: number;
  readonly data: Uint8Array;
}

const MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;

export function isArchive(bytes: Uint8Array): boolean {
  if (bytes.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return false;
  return true;
}

/**
 * The members of a GNU or BSD archive (`.a`, `.rlib`), without the symbol
 * tables. GNU keeps long names in the `//` member and refers to them as
 * `/<offset>`; BSD writes `#1/<length>` and puts the name before the data.
 */
export function readArchive(path: string, bytes: Uint8Array): ArchiveMember[] {
  const reader: ByteReader = new ByteReader(path, bytes);
  if (!isArchive(bytes)) reader.fail('archive magic', 0, 'expected !<arch>');
  const members: ArchiveMember[] = [];
  let longNames: Uint8Array | undefined;
  let at = MAGIC.length;
  while (at < bytes.length) {
    // A newline pads odd-sized members; some writers leave one at the very end.
    if (at + 1 === bytes.length && bytes[at] === 0x0a) break;
    reader.check('archive member header', at, HEADER_SIZE);
    if (bytes[at + 58] !== 0x60 || bytes[at + 59] !== 0x0a) reader.fail('archive member header', at + 58, 'bad terminator');
    const rawName = ascii(bytes, at, 16).trimEnd();
    const size = decimal(reader, at + 48, 10);
    const start = at + HEADER_SIZE;
    reader.check('archive member contents', start, size);
    let data = bytes.subarray(start, start + size);
    let name = rawName;
    if (rawName === '/' || rawName === '/SYM64/' || rawName.startsWith('__.SYMDEF')) {
      name = '';
    } else if (rawName === '//') {
      longNames = data;
      name = '';
    } else if (rawName.startsWith('#1/')) {
      const nameLength = decimal(reader, at + 3, 13, rawName.slice(3));
      if (nameLength > size) reader.fail('BSD archive member name', at, 'name is longer than the member');
      name = ascii(data, 0, nameLength).replace(/\0+$/, '');
      data = data.subarray(nameLength);
    } else if (rawName.startsWith('/') && rawName.length > 1) {
      name = longName(reader, longNames, at, decimal(reader, at + 1, 15, rawName.slice(1)));
    } else if (rawName.endsWith('/')) {
      name = rawName.slice(0, -1);
    }
    if (name !== '') members.push({ name, offset: start, data });
    at = start + size + (size % 2);
  }
  return members;
}

function longName(reader: ByteReader, table: Uint8Array | undefined, at: number, offset: number): string {
  if (!table) reader.fail('GNU archive long name', at, 'no // name table precedes this member');
  if (offset >= table.length) reader.fail('GNU archive long name', at, `offset ${offset} lies outside the name table`);
  let end = offset;
  while (end < table.length && table[end] !== 0x0a) end++;
  const name = ascii(table, offset, end - offset);
  return name.endsWith('/') ? name.slice(0, -1) : name;
}

function decimal(reader: ByteReader, at: number, width: number, text?: string): number {
  const field = (text ?? ascii(reader.bytes, at, width)).trim();
  if (!/^\d+$/.test(field)) reader.fail('archive decimal field', at, `${JSON.stringify(field)} is not a number`);
  return Number(field);
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(length, bytes.length - start)).toString('latin1');
}
