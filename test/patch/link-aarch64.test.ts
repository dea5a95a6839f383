import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readElfImage } from '../../src/object/elf/image.js';
import { type OutputSection, type OutputSymbol, SHT_PROGBITS, writeElfObject } from '../../src/patch/elf-object-writer.js';
import { linkPatch, PATCH_LOAD_BIAS } from '../../src/patch/link.js';
import { AARCH64_LINUX } from '../../src/targets/aarch64-linux.js';
import { bytesAtAddress, dynamicRelocations } from '../support/elf-inspect.js';

const EM_AARCH64 = 183;
const SHF_WRITE = 0x1n;
const SHF_ALLOC = 0x2n;
const SHF_EXECINSTR = 0x4n;
const R_AARCH64_ABS64 = 257;
const R_AARCH64_ADR_PREL_PG_HI21 = 275;
const R_AARCH64_ADD_ABS_LO12_NC = 277;
const R_AARCH64_JUMP26 = 282;
const R_AARCH64_CALL26 = 283;
const R_AARCH64_LDST32_ABS_LO12_NC = 285;
const R_AARCH64_LDST64_ABS_LO12_NC = 286;
const R_AARCH64_ADR_GOT_PAGE = 311;
const R_AARCH64_LD64_GOT_LO12_NC = 312;
const R_AARCH64_RELATIVE = 1027;

const MIB = 1024n * 1024n;
const BASE = 0x5555_0000_0000n;
/** Beyond BL's ±128 MiB, within ADRP's ±4 GiB. */
const FAR_FUNCTION = BASE + 1024n * MIB;
const NEAR_FUNCTION = BASE - 16n * MIB;
const FAR_DATA = BASE - 2048n * MIB + 0x128n;

function signed(value: number, bits: number): bigint {
  return BigInt.asIntN(bits, BigInt(value));
}

/** Where a `b`/`bl` at `pc` goes. */
function branchTarget(instruction: number, pc: bigint): bigint {
  return pc + signed(instruction & 0x3ff_ffff, 26) * 4n;
}

/** The page an `adrp` at `pc` computes. */
function adrpPage(instruction: number, pc: bigint): bigint {
  const immediate = (((instruction >>> 5) & 0x7_ffff) << 2) | ((instruction >>> 29) & 3);
  return (pc & ~0xfffn) + signed(immediate, 21) * 4096n;
}

/** The 12-bit immediate of an `add` or of a scaled `ldr`. */
function low12(instruction: number): bigint {
  return BigInt((instruction >>> 10) & 0xfff);
}

/**
 * A patch for aarch64 through the patch writer and rust-lld, as `ipbp run`
 * links one: each relocation type rustc's code uses to reach the program
 * lands on the program's address once the patch is loaded at its base,
 * a call beyond BL's reach included (through a linker thunk).
 */
describe('linking an aarch64 patch (rust-lld, the patch writer)', () => {
  let directory: string;
  let image: Buffer;
  let caller: bigint;
  let pointers: bigint;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ipbp-link-aarch64-'));
    const text: OutputSection = {
      name: '.text.caller',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      alignment: 4,
      // bl far; b near; adrp x0, data; add x0, x0, :lo12:data; ldr x1, [x0, :lo12:data];
      // ldr w2, [x0, :lo12:data]; adrp x3, :got:far; ldr x3, [x3, :got_lo12:far]; ret
      data: Buffer.from(new Uint32Array([0x9400_0000, 0x1400_0000, 0x9000_0000, 0x9100_0000, 0xf940_0001, 0xb940_0002, 0x9000_0003, 0xf940_0063, 0xd65f_03c0]).buffer),
      relocations: [],
    };
    const data: OutputSection = { name: '.data.pointers', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, alignment: 8, data: new Uint8Array(8), relocations: [] };
    const undefinedSymbol = (name: string): OutputSymbol => ({ name, binding: 'global', visibility: 'hidden', type: 'notype', section: undefined, value: 0, size: 0 });
    const [far, near, farData] = [undefinedSymbol('far_function'), undefinedSymbol('near_function'), undefinedSymbol('far_data')];
    text.relocations.push(
      { offset: 0, type: R_AARCH64_CALL26, symbol: far, addend: 0n },
      { offset: 4, type: R_AARCH64_JUMP26, symbol: near, addend: 0n },
      { offset: 8, type: R_AARCH64_ADR_PREL_PG_HI21, symbol: farData, addend: 0n },
      { offset: 12, type: R_AARCH64_ADD_ABS_LO12_NC, symbol: farData, addend: 0n },
      { offset: 16, type: R_AARCH64_LDST64_ABS_LO12_NC, symbol: farData, addend: 0n },
      { offset: 20, type: R_AARCH64_LDST32_ABS_LO12_NC, symbol: farData, addend: 0n },
      { offset: 24, type: R_AARCH64_ADR_GOT_PAGE, symbol: far, addend: 0n },
      { offset: 28, type: R_AARCH64_LD64_GOT_LO12_NC, symbol: far, addend: 0n },
    );
    data.relocations.push({ offset: 0, type: R_AARCH64_ABS64, symbol: far, addend: 0n });
    const symbols: OutputSymbol[] = [
      { name: 'caller', binding: 'global', visibility: 'hidden', type: 'function', section: text, value: 0, size: text.data.length },
      { name: 'pointers', binding: 'global', visibility: 'hidden', type: 'object', section: data, value: 0, size: 8 },
      far,
      near,
      farData,
    ];
    const objectPath = join(directory, 'patch.o');
    await writeFile(objectPath, writeElfObject(EM_AARCH64, [text, data], symbols));
    const bindings = new Map([
      ['far_function', FAR_FUNCTION],
      ['near_function', NEAR_FUNCTION],
      ['far_data', FAR_DATA],
    ]);
    const linked = await linkPatch(AARCH64_LINUX, objectPath, join(directory, 'patch.so'), BASE, bindings);
    image = await readFile(linked.path);
    // Addresses in the file are link-time ones: the patch runs PATCH_LOAD_BIAS higher.
    caller = readElfImage('patch.so', image).symbols.get('caller')!.address;
    pointers = readElfImage('patch.so', image).symbols.get('pointers')!.address;
  });
  after(async () => rm(directory, { recursive: true, force: true }));

  const word = (address: bigint): number => bytesAtAddress(image, address, 4).readUInt32LE(0);
  const loaded = (linkTime: bigint): bigint => linkTime + PATCH_LOAD_BIAS;

  test('JUMP26 reaches a function within ±128 MiB directly', () => {
    assert.equal(loaded(branchTarget(word(caller + 4n), caller + 4n)), NEAR_FUNCTION);
  });

  test('CALL26 beyond ±128 MiB goes through a linker thunk that reaches the function', () => {
    const thunk = branchTarget(word(caller), caller);
    assert.notEqual(loaded(thunk), FAR_FUNCTION);
    // lld's thunk in position-independent output: adrp x16, far; add x16, x16, :lo12:far; br x16.
    const [adrp, add, branch] = [word(thunk), word(thunk + 4n), word(thunk + 8n)];
    assert.equal((adrp & 0x9f00_001f) >>> 0, 0x9000_0010, 'adrp x16');
    assert.equal(branch, 0xd61f_0200, 'br x16');
    assert.equal(loaded(adrpPage(adrp, thunk) + low12(add)), FAR_FUNCTION);
  });

  test('ADR_PREL_PG_HI21 with ADD_ABS_LO12_NC, LDST64_ABS_LO12_NC and LDST32_ABS_LO12_NC reach data 2 GiB away', () => {
    const page = adrpPage(word(caller + 8n), caller + 8n);
    assert.equal(loaded(page + low12(word(caller + 12n))), FAR_DATA);
    assert.equal(loaded(page + low12(word(caller + 16n)) * 8n), FAR_DATA);
    assert.equal(loaded(page + low12(word(caller + 20n)) * 4n), FAR_DATA);
  });

  test("ADR_GOT_PAGE with LD64_GOT_LO12_NC reaches the function's address: through a GOT slot, or directly once lld relaxed the load", () => {
    const page = adrpPage(word(caller + 24n), caller + 24n);
    const second = word(caller + 28n);
    // lld turns `ldr x3, [x3, :got_lo12:f]` into `add x3, x3, :lo12:f` when f cannot be preempted.
    if (second >>> 24 === 0x91) {
      assert.equal(loaded(page + low12(second)), FAR_FUNCTION);
      return;
    }
    const slot = page + low12(second) * 8n;
    const relocation = dynamicRelocations(image).find((candidate) => candidate.offset === slot);
    assert.ok(relocation, `a dynamic relocation fills the slot at 0x${slot.toString(16)}`);
    assert.equal(relocation.type, R_AARCH64_RELATIVE);
    assert.equal(loaded(relocation.addend), FAR_FUNCTION);
  });

  test('ABS64 in data becomes a relative relocation to the loaded address', () => {
    const relocation = dynamicRelocations(image).find((candidate) => candidate.offset === pointers);
    assert.ok(relocation, 'a dynamic relocation at the pointer');
    assert.equal(relocation.type, R_AARCH64_RELATIVE);
    assert.equal(loaded(relocation.addend), FAR_FUNCTION);
  });
});
