import type { TlsFixupForm } from '../deliver/protocol.js';
import type { Architecture, ObjectFormat } from '../object/model.js';

/**
 * Everything ipbp must know about the platform a program was built for,
 * chosen once from the captured build's target triple. A new target adds a
 * value of this type (`target-of.ts`); no stage branches on the triple itself.
 */
export interface Target {
  readonly triple: string;
  readonly architecture: Architecture;
  readonly objectFormat: ObjectFormat;
  readonly pointerBytes: number;
  /** How a patch object is written for this target. */
  readonly patchObject: {
    /** ELF `e_machine`. */
    readonly machine: number;
    /** The section type of `.eh_frame` (x86_64 has a type of its own for it). */
    readonly unwindSectionType: number;
    /**
     * A function that reads one of the patch's thread-locals initial-exec
     * (through a GOT slot the loader fills with its thread-pointer offset),
     * added to a patch with thread-locals of its own: the linker then marks
     * the library `DF_STATIC_TLS`, and the loader places its TLS block at a
     * fixed offset from every thread's pointer, as the program's code
     * (local-exec) expects. Absent: the target cannot load new thread-locals.
     */
    readonly staticTlsReference?: {
      readonly code: Uint8Array;
      /** Where each relocation applies in `code`, its type and addend. */
      readonly relocations: readonly { readonly offset: number; readonly type: number; readonly addend: bigint }[];
    };
    /**
     * Relocations of a thread-pointer offset (local-exec) that the patch's
     * linker cannot resolve in a shared library: against the patch's own
     * thread-locals, the agent writes them after loading. Name -> the form
     * the instruction takes the offset in.
     */
    readonly localExecRelocations: ReadonlyMap<string, TlsFixupForm>;
  };
  /** Relocation types of direct calls and tail jumps: they reach a function without taking its address. */
  readonly callRelocations: ReadonlySet<string>;
  /**
   * Calls and tail jumps through a GOT slot (how a crate calls its own
   * exported functions when it is built position-independent): the
   * relocation types, and the opcode bytes right before the slot's
   * displacement that make the instruction a call or a jump rather than a
   * load of the address.
   */
  readonly callsThroughGot: { readonly relocations: ReadonlySet<string>; readonly opcodes: readonly (readonly number[])[] };
  /** How the agent sends an original entry to a new copy of its function. */
  readonly redirect: {
    /** Bytes written over the entry: a function shorter than this cannot be redirected. */
    readonly entryBytes: number;
    /** How far that jump reaches; beyond it the agent writes a longer one. */
    readonly entryReach: bigint;
    /** The longer jump's bytes, which only a function at least as long can take. */
    readonly farEntryBytes: number;
    /** What is written, for messages: the agent holds the encoder. */
    readonly encoding: string;
  };
  /** The linker that turns a patch object into a loadable library, and its flags. */
  readonly patchLinker: {
    /** `rust-lld -flavor <flavor>`. */
    readonly flavor: 'gnu' | 'darwin' | 'link' | 'wasm';
    /** Flags every patch link takes, before the image base, the output and the inputs. */
    readonly flags: readonly string[];
  };
  /** How the agent loads a patch into the process. */
  readonly loader: 'dlopen';
  /** How far from any byte of the program a patch may be placed: its code reaches the program's PC-relatively. */
  readonly patchReach: bigint;
}
