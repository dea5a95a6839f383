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
  };
  /** Relocation types of direct calls and tail jumps: they reach a function without taking its address. */
  readonly callRelocations: ReadonlySet<string>;
  /** How the agent sends an original entry to a new copy of its function. */
  readonly redirect: {
    /** Bytes written over the entry: a function shorter than this cannot be redirected. */
    readonly entryBytes: number;
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
}
