import type { Atom, AtomIndex } from '../diff/atoms.js';
import { resolveTarget } from '../diff/target-identity.js';
import type { ObjectFile, Relocation, Section } from '../object/model.js';

/** One CIE or FDE record of a source object's `.eh_frame`, with its relocations. */
export interface FrameRecord {
  readonly object: ObjectFile;
  readonly section: Section;
  readonly offset: number;
  readonly bytes: Uint8Array;
  readonly relocations: Relocation[];
  /** For an FDE: the offset of its CIE in the same section. */
  readonly cieOffset: number | undefined;
}

/**
 * The FDEs that describe the patch's functions, each with its CIE, so that
 * panics unwind through patched code. The FDE's `pc_begin` relocation says
 * which function it covers.
 */
export function selectFrames(objects: Iterable<ObjectFile>, indexOf: ReadonlyMap<ObjectFile, AtomIndex>, included: ReadonlySet<Atom>): { cies: FrameRecord[]; fdes: FrameRecord[] } {
  const cies = new Map<string, FrameRecord>();
  const fdes: FrameRecord[] = [];
  for (const object of objects) {
    const index = indexOf.get(object);
    if (!index) continue;
    for (const section of object.sections) {
      if (section.kind !== 'unwind' || section.name !== '.eh_frame') continue;
      const records = splitRecords(object, section);
      const byOffset = new Map(records.map((record) => [record.offset, record]));
      for (const record of records) {
        if (record.cieOffset === undefined) continue;
        const pcBegin = record.relocations.find((relocation) => relocation.offset === record.offset + 8);
        if (!pcBegin) continue;
        const target = resolveTarget(index, object, pcBegin);
        if (target.type !== 'atom' || !included.has(target.atom)) continue;
        const cie = byOffset.get(record.cieOffset);
        if (!cie) continue;
        cies.set(`${object.path}\0${section.index}\0${cie.offset}`, cie);
        fdes.push(record);
      }
    }
  }
  return { cies: [...cies.values()], fdes };
}

function splitRecords(object: ObjectFile, section: Section): FrameRecord[] {
  const records: FrameRecord[] = [];
  const data = section.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // Relocations are sorted by offset (the readers sort them), so one cursor hands each record its own.
  let next = 0;
  let offset = 0;
  while (offset + 4 <= data.length) {
    const length = view.getUint32(offset, true);
    // A zero length terminates the section; 64-bit records are not emitted by LLVM for objects.
    if (length === 0 || length === 0xffffffff || offset + 4 + length > data.length) break;
    const id = view.getUint32(offset + 4, true);
    const end = offset + 4 + length;
    while (next < section.relocations.length && section.relocations[next]!.offset < offset) next++;
    const first = next;
    while (next < section.relocations.length && section.relocations[next]!.offset < end) next++;
    records.push({
      object,
      section,
      offset,
      bytes: data.subarray(offset, end),
      relocations: section.relocations.slice(first, next),
      cieOffset: id === 0 ? undefined : offset + 4 - id,
    });
    offset = end;
  }
  return records;
}
