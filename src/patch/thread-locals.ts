import type { Relocation } from '../object/model.js';

/** The program's TLS template (`PT_TLS`): where each thread's block of its thread-locals comes from. */
export interface TlsTemplate {
  readonly address: bigint;
  readonly size: bigint;
  readonly alignment: bigint;
}

/** The relocation a slot access becomes. */
export const R_X86_64_PC32 = 2;

/** The executable's TLS module id: glibc gives the main program's block id 1. */
const EXECUTABLE_MODULE = 1n;

/**
 * How a patch reaches a thread-local of the running program. The program's
 * thread-locals live in its static TLS block, at offsets fixed when it was
 * linked, so every access model resolves to a constant: what the linker of
 * an executable would have put in the code or in a GOT slot. A patch is a
 * shared library, whose linker would instead ask the loader for slots of
 * its own module; so the patch writer resolves these accesses itself.
 *
 * - `value`: write the constant into the instruction (local-exec and
 *   local-dynamic offsets) and drop the relocation.
 * - `slot`: the instruction reads a GOT-style slot PC-relatively (initial
 *   exec: the thread-pointer offset; general and local dynamic: the
 *   `{module, offset}` pair handed to `__tls_get_addr`): the patch carries
 *   the slot as read-only data, and the relocation becomes PC32 against it.
 */
export type ThreadLocalAccess =
  | { readonly type: 'value'; readonly width: 4 | 8; readonly value: bigint }
  | { readonly type: 'slot'; readonly contents: readonly bigint[] };

/** `offset`: the variable's offset in the template (its symbol value in the executable). */
export function threadLocalAccess(relocation: Relocation, offset: bigint, addend: bigint, template: TlsTemplate): ThreadLocalAccess | string {
  switch (relocation.raw.typeName) {
    case 'R_X86_64_TLSGD':
      return { type: 'slot', contents: [EXECUTABLE_MODULE, offset] };
    case 'R_X86_64_TLSLD':
      return { type: 'slot', contents: [EXECUTABLE_MODULE, 0n] };
    case 'R_X86_64_DTPOFF32':
      return { type: 'value', width: 4, value: offset + addend };
    case 'R_X86_64_DTPOFF64':
      return { type: 'value', width: 8, value: offset + addend };
    case 'R_X86_64_GOTTPOFF':
      return { type: 'slot', contents: [threadPointerOffset(offset, template)] };
    case 'R_X86_64_TPOFF32':
      return { type: 'value', width: 4, value: threadPointerOffset(offset, template) + addend };
    case 'R_X86_64_TPOFF64':
      return { type: 'value', width: 8, value: threadPointerOffset(offset, template) + addend };
    default:
      return `${relocation.raw.typeName} (TLS descriptors and module ids are not supported in patches)`;
  }
}

/**
 * x86_64 places the executable's block just below the thread pointer
 * (TLS variant II): a variable's offset from it is its offset in the block
 * minus the block's size, rounded so that the block's start keeps the
 * template's alignment relative to its link address, as ld.so lays it out.
 */
export function threadPointerOffset(offset: bigint, template: TlsTemplate): bigint {
  const mask = template.alignment > 0n ? template.alignment - 1n : 0n;
  return offset - template.size - ((-template.address - template.size) & mask);
}

/** Writes `value` (two's complement, little-endian) over `width` bytes of `data` at `at`. */
export function writeValue(data: Uint8Array, at: number, width: 4 | 8, value: bigint): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (width === 4) view.setUint32(at, Number(BigInt.asUintN(32, value)), true);
  else view.setBigUint64(at, BigInt.asUintN(64, value), true);
}
