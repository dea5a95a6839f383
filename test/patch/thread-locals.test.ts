import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Relocation } from '../../src/object/model.js';
import { aboveThreadPointer, belowThreadPointer, threadLocalAccess, type TlsTemplate, writeAddImmediate } from '../../src/patch/thread-locals.js';

/** Only the relocation's type name and addend matter to the access. */
function relocation(typeName: string, addend = 0n): Relocation {
  return { raw: { typeName }, addend } as unknown as Relocation;
}

const TEMPLATE: TlsTemplate = { address: 0x2_0010n, size: 0x40n, alignment: 16n };

describe('thread-local accesses of patches to the program (thread-locals.ts)', () => {
  test("aarch64 (variant I): the block starts after the 16-byte control block, keeping the template's alignment", () => {
    assert.equal(aboveThreadPointer(0n, { address: 0x1_0000n, size: 8n, alignment: 8n }), 16n);
    // 0x20010 - 16 is 64-aligned: no padding. At 0x20020 the block needs 16 bytes more to keep it.
    assert.equal(aboveThreadPointer(8n, { address: 0x2_0010n, size: 8n, alignment: 64n }), 24n);
    assert.equal(aboveThreadPointer(8n, { address: 0x2_0020n, size: 8n, alignment: 64n }), 40n);
  });

  test('x86_64 (variant II): the block ends at the thread pointer', () => {
    assert.equal(belowThreadPointer(0n, { address: 0x1_0000n, size: 0x40n, alignment: 16n }), -0x40n);
  });

  test('aarch64 local exec: the high and low 12 bits of the offset go into the two adds', () => {
    const offset = 0x1234n;
    const value = aboveThreadPointer(offset, TEMPLATE) + 8n;
    assert.deepEqual(threadLocalAccess('aarch64', relocation('R_AARCH64_TLSLE_ADD_TPREL_HI12', 8n), offset, 8n, TEMPLATE), { type: 'immediate', value: value >> 12n });
    assert.deepEqual(threadLocalAccess('aarch64', relocation('R_AARCH64_TLSLE_ADD_TPREL_LO12_NC', 8n), offset, 8n, TEMPLATE), { type: 'immediate', value: value & 0xfffn });
  });

  test('aarch64 initial exec reads the offset from a slot the adrp and the ldr reach', () => {
    const offset = aboveThreadPointer(0x20n, TEMPLATE);
    assert.deepEqual(threadLocalAccess('aarch64', relocation('R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21'), 0x20n, 0n, TEMPLATE), { type: 'slot', contents: [offset], relocation: 275, addend: 0n });
    assert.deepEqual(threadLocalAccess('aarch64', relocation('R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC'), 0x20n, 0n, TEMPLATE), { type: 'slot', contents: [offset], relocation: 286, addend: 0n });
  });

  test('an aarch64 TLS descriptor becomes a {resolver, offset} slot; its blr stays', () => {
    const contents = ['descriptor-resolver', aboveThreadPointer(0x30n, TEMPLATE)];
    const access = (type: string) => threadLocalAccess('aarch64', relocation(type), 0x30n, 0n, TEMPLATE);
    assert.deepEqual(access('R_AARCH64_TLSDESC_ADR_PAGE21'), { type: 'slot', contents, relocation: 275, addend: 0n });
    assert.deepEqual(access('R_AARCH64_TLSDESC_LD64_LO12'), { type: 'slot', contents, relocation: 286, addend: 0n });
    assert.deepEqual(access('R_AARCH64_TLSDESC_ADD_LO12'), { type: 'slot', contents, relocation: 277, addend: 0n });
    assert.deepEqual(access('R_AARCH64_TLSDESC_CALL'), { type: 'none' });
  });

  test('an access model patches cannot resolve is named', () => {
    assert.match(String(threadLocalAccess('aarch64', relocation('R_AARCH64_TLS_560'), 0n, 0n, TEMPLATE)), /R_AARCH64_TLS_560/);
  });

  test("writeAddImmediate sets bits 10-21 of an add and keeps the rest; more than 12 bits is refused", () => {
    // add x0, x0, #0, lsl #12
    const code = Uint8Array.of(0x00, 0x00, 0x40, 0x91);
    writeAddImmediate(code, 0, 0xabcn);
    assert.equal(new DataView(code.buffer).getUint32(0, true), (0x91400000 | (0xabc << 10)) >>> 0);
    assert.throws(() => writeAddImmediate(code, 0, 0x1000n), /does not fit/);
  });
});
