import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { indexAtoms } from '../../src/diff/atoms.js';
import { sameContent } from '../../src/diff/same-content.js';
import { readObjects } from '../../src/object/read.js';
import { type OutputSection, type OutputSymbol, SHT_PROGBITS, writeElfObject } from '../../src/patch/elf-object-writer.js';

const EM_AARCH64 = 183;
const R_AARCH64_ADR_PREL_PG_HI21 = 275;
const R_AARCH64_LDST64_ABS_LO12_NC = 286;

/** `adrp x8, LIMIT; ldr x0, [x8, :lo12:LIMIT]; ret`, read back from a Buffer, as objects are read from disk. */
function limitFunction(): Buffer {
  const text: OutputSection = { name: '.text.limit', type: SHT_PROGBITS, flags: 0x6n, alignment: 4, data: Buffer.from(new Uint32Array([0x9000_0008, 0xf940_0100, 0xd65f_03c0]).buffer), relocations: [] };
  const limit: OutputSymbol = { name: 'LIMIT', binding: 'global', visibility: 'default', type: 'notype', section: undefined, value: 0, size: 0 };
  text.relocations.push({ offset: 0, type: R_AARCH64_ADR_PREL_PG_HI21, symbol: limit, addend: 0n }, { offset: 4, type: R_AARCH64_LDST64_ABS_LO12_NC, symbol: limit, addend: 0n });
  const symbols: OutputSymbol[] = [{ name: 'limit', binding: 'global', visibility: 'default', type: 'function', section: text, value: 0, size: 12 }, limit];
  return Buffer.from(writeElfObject(EM_AARCH64, [text], symbols));
}

describe('comparing atoms in full (same-content.ts)', () => {
  test("masks the relocation sites of a copy: the object's own bytes (an aarch64 instruction's opcode) stay as read", () => {
    const [object] = readObjects('limit.o', limitFunction());
    const index = indexAtoms([object!]);
    const atom = index.byName.get('limit')![0]!;
    const before = Buffer.from(atom.section.data);
    assert.ok(sameContent(index, atom, index, atom));
    assert.deepEqual(Buffer.from(atom.section.data), before);
  });
});
