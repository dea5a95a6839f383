import type { Architecture, Relocation } from '../object/model.js';

/** The program's TLS template (`PT_TLS`): where each thread's block of its thread-locals comes from. */
export interface TlsTemplate {
  readonly address: bigint;
  readonly size: bigint;
  readonly alignment: bigint;
}

/** The executable's TLS module id: glibc gives the main program's block id 1. */
const EXECUTABLE_MODULE = 1n;

/** A word of a slot: a constant, or the address of the patch's TLS descriptor resolver (aarch64). */
export type SlotWord = bigint | 'descriptor-resolver';

/**
 * How a patch reaches a thread-local of the running program. The program's
 * thread-locals live in its static TLS block, at offsets fixed when it was
 * linked, so every access model resolves to a constant: what the linker of
 * an executable would have put in the code or in a GOT slot. A patch is a
 * shared library, whose linker would instead ask the loader for slots of
 * its own module; so the patch writer resolves these accesses itself.
 *
 * - `value`: write the constant over the field (x86_64's local-exec and
 *   local-dynamic offsets) and drop the relocation.
 * - `immediate`: the constant goes into the 12-bit immediate of an aarch64
 *   `add` (local exec splits the offset over two of them).
 * - `slot`: the instruction reads a GOT-style slot PC-relatively (initial
 *   exec: the thread-pointer offset; general and local dynamic: the
 *   `{module, offset}` pair handed to `__tls_get_addr`; an aarch64 TLS
 *   descriptor: `{resolver, offset}`): the patch carries the slot as
 *   read-only data, and the relocation becomes `relocation`, against it
 *   with `addend` (x86_64 keeps its PC bias).
 * - `none`: the relocation only marks an instruction that stays as it is
 *   (the `blr` of a descriptor call, which calls the slot's resolver).
 */
export type ThreadLocalAccess =
  | { readonly type: 'value'; readonly width: 4 | 8; readonly value: bigint }
  | { readonly type: 'immediate'; readonly value: bigint }
  | { readonly type: 'slot'; readonly contents: readonly SlotWord[]; readonly relocation: number; readonly addend: bigint }
  | { readonly type: 'none' };

const R_X86_64_PC32 = 2;
const R_AARCH64_ADR_PREL_PG_HI21 = 275;
const R_AARCH64_ADD_ABS_LO12_NC = 277;
const R_AARCH64_LDST64_ABS_LO12_NC = 286;

/** `offset`: the variable's offset in the template (its symbol value in the executable). A string: the access is not supported. */
export function threadLocalAccess(architecture: Architecture, relocation: Relocation, offset: bigint, addend: bigint, template: TlsTemplate): ThreadLocalAccess | string {
  const access = architecture === 'x86_64' ? x86_64Access(relocation, offset, addend, template) : aarch64Access(relocation.raw.typeName, offset, addend, template);
  return access ?? `${relocation.raw.typeName} (TLS descriptors and module ids are not supported in patches)`;
}

/** The local-dynamic base: its relocation names some variable of the module, and means the module. */
export function isModuleBase(relocation: Relocation): boolean {
  return relocation.raw.typeName === 'R_X86_64_TLSLD';
}

function x86_64Access(relocation: Relocation, offset: bigint, addend: bigint, template: TlsTemplate): ThreadLocalAccess | undefined {
  const slot = (contents: readonly SlotWord[]): ThreadLocalAccess => ({ type: 'slot', contents, relocation: R_X86_64_PC32, addend: relocation.addend });
  switch (relocation.raw.typeName) {
    case 'R_X86_64_TLSGD':
      return slot([EXECUTABLE_MODULE, offset]);
    case 'R_X86_64_TLSLD':
      return slot([EXECUTABLE_MODULE, 0n]);
    case 'R_X86_64_DTPOFF32':
      return { type: 'value', width: 4, value: offset + addend };
    case 'R_X86_64_DTPOFF64':
      return { type: 'value', width: 8, value: offset + addend };
    case 'R_X86_64_GOTTPOFF':
      return slot([belowThreadPointer(offset, template)]);
    case 'R_X86_64_TPOFF32':
      return { type: 'value', width: 4, value: belowThreadPointer(offset, template) + addend };
    case 'R_X86_64_TPOFF64':
      return { type: 'value', width: 8, value: belowThreadPointer(offset, template) + addend };
    default:
      return undefined;
  }
}

/**
 * aarch64: local exec is an `add` of the high 12 bits and one of the low 12;
 * initial exec loads the offset from a GOT slot (`adrp` + `ldr`); a TLS
 * descriptor (`adrp`, `ldr`, `add`, `blr`) calls the slot's first word with
 * the slot's address and adds what it returns to the thread pointer. The
 * slot's resolver is the patch's own `ldr x0, [x0, #8]; ret`, which is what
 * glibc installs for a variable in static TLS.
 */
function aarch64Access(type: string, offset: bigint, addend: bigint, template: TlsTemplate): ThreadLocalAccess | undefined {
  const fromThreadPointer = aboveThreadPointer(offset, template);
  const offsetSlot = [fromThreadPointer + addend];
  const descriptor = ['descriptor-resolver' as const, fromThreadPointer + addend];
  const slot = (contents: readonly SlotWord[], relocation: number): ThreadLocalAccess => ({ type: 'slot', contents, relocation, addend: 0n });
  switch (type) {
    case 'R_AARCH64_TLSLE_ADD_TPREL_HI12':
      return { type: 'immediate', value: (fromThreadPointer + addend) >> 12n };
    case 'R_AARCH64_TLSLE_ADD_TPREL_LO12':
    case 'R_AARCH64_TLSLE_ADD_TPREL_LO12_NC':
      return { type: 'immediate', value: (fromThreadPointer + addend) & 0xfffn };
    case 'R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21':
      return slot(offsetSlot, R_AARCH64_ADR_PREL_PG_HI21);
    case 'R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC':
      return slot(offsetSlot, R_AARCH64_LDST64_ABS_LO12_NC);
    case 'R_AARCH64_TLSDESC_ADR_PAGE21':
      return slot(descriptor, R_AARCH64_ADR_PREL_PG_HI21);
    case 'R_AARCH64_TLSDESC_LD64_LO12':
      return slot(descriptor, R_AARCH64_LDST64_ABS_LO12_NC);
    case 'R_AARCH64_TLSDESC_ADD_LO12':
      return slot(descriptor, R_AARCH64_ADD_ABS_LO12_NC);
    case 'R_AARCH64_TLSDESC_CALL':
      return { type: 'none' };
    default:
      return undefined;
  }
}

/**
 * x86_64 places the executable's block just below the thread pointer
 * (TLS variant II): a variable's offset from it is its offset in the block
 * minus the block's size, rounded so that the block's start keeps the
 * template's alignment relative to its link address, as ld.so lays it out.
 */
export function belowThreadPointer(offset: bigint, template: TlsTemplate): bigint {
  const mask = template.alignment > 0n ? template.alignment - 1n : 0n;
  return offset - template.size - ((-template.address - template.size) & mask);
}

/**
 * aarch64 places it above (TLS variant I), after the 16-byte thread control
 * block, at the template's alignment relative to its link address: the
 * offset an executable's linker gives local-exec code.
 */
export function aboveThreadPointer(offset: bigint, template: TlsTemplate): bigint {
  const mask = template.alignment > 0n ? template.alignment - 1n : 0n;
  return offset + 16n + ((template.address - 16n) & mask);
}

/** Writes `value` (two's complement, little-endian) over `width` bytes of `data` at `at`. */
export function writeValue(data: Uint8Array, at: number, width: 4 | 8, value: bigint): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (width === 4) view.setUint32(at, Number(BigInt.asUintN(32, value)), true);
  else view.setBigUint64(at, BigInt.asUintN(64, value), true);
}

/** Sets the 12-bit immediate (bits 10–21) of the aarch64 `add` at `at`; a value beyond 12 bits does not fit. */
export function writeAddImmediate(data: Uint8Array, at: number, value: bigint): void {
  if (value < 0n || value > 0xfffn) throw new Error(`a thread-local offset does not fit an add immediate (${value})`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const instruction = view.getUint32(at, true);
  view.setUint32(at, ((instruction & ~(0xfff << 10)) | (Number(value) << 10)) >>> 0, true);
}
