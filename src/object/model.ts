/**
 * One model for every object format. Readers fill it; the diff and the patch
 * builder consume it and never re-parse. Each element keeps its format's raw
 * fields next to the neutral ones, so nothing the format said is lost.
 */

export type ObjectFormat = 'elf' | 'macho';
export type Architecture = 'x86_64' | 'aarch64';

/** What a section holds, decided from its flags and type, never from its name. */
export type SectionKind =
  | 'code'
  | 'data' // writable, initialised
  | 'bss' // writable, zero-filled
  | 'read-only'
  | 'tls-data'
  | 'tls-bss'
  | 'unwind' // .eh_frame, __compact_unwind
  | 'metadata'; // symbol tables, debug info, notes, anything not loaded

export interface Section {
  readonly index: number;
  readonly name: string;
  readonly kind: SectionKind;
  /** Address inside the object (Mach-O sections share one address space; ELF relocatables use 0). */
  readonly address: bigint;
  readonly size: number;
  readonly alignment: number;
  /** Zero-copy view of the contents; empty for zero-filled sections. */
  readonly data: Uint8Array;
  readonly relocations: Relocation[];
  readonly raw: { readonly type: number; readonly flags: bigint; readonly segment?: string };
}

export type SymbolKind = 'function' | 'data' | 'tls' | 'section' | 'file' | 'label' | 'unknown';
export type SymbolBinding = 'local' | 'global' | 'weak';

export interface ObjectSymbol {
  readonly index: number;
  readonly name: string;
  readonly kind: SymbolKind;
  readonly binding: SymbolBinding;
  /** Index into `sections`, or undefined for undefined, absolute and common symbols. */
  readonly section: number | undefined;
  readonly undefined: boolean;
  /** Offset of the symbol from the start of its section. */
  readonly offset: number;
  /** Size as recorded by the format (0 when unknown, always on Mach-O). */
  readonly size: number;
  /** Bytes the symbol owns: its size, or else up to the next symbol or the section end. */
  extent: number;
  readonly raw: { readonly type: number; readonly flags: number; readonly value: bigint };
}

/** The neutral meaning of a relocation; formats map their raw types onto it. */
export type RelocationKind =
  | 'absolute' // S + A
  | 'pc-relative' // S + A - P, including calls through a PLT
  | 'got-pc-relative' // G + A - P
  | 'page-pc-relative' // aarch64 ADRP-style Page(S + A) - Page(P)
  | 'page-offset' // aarch64 low 12 bits of S + A
  | 'got-page' // aarch64 ADRP of a GOT entry
  | 'got-page-offset'
  | 'tls' // any thread-local access model
  | 'subtractor' // Mach-O pair first half: A - B
  | 'branch'
  | 'other';

export interface Relocation {
  /** Offset of the patched bytes from the start of the section. */
  readonly offset: number;
  readonly kind: RelocationKind;
  /** Width of the patched field in bytes (used to mask the site). */
  readonly width: number;
  /** Target: a symbol index, or a section index for Mach-O non-extern relocations. */
  readonly target: RelocationTarget;
  readonly addend: bigint;
  readonly raw: { readonly type: number; readonly typeName: string; readonly pcRelative: boolean };
}

export type RelocationTarget =
  | { readonly symbol: number }
  | { readonly section: number };

export interface ObjectFile {
  readonly path: string;
  readonly format: ObjectFormat;
  readonly architecture: Architecture;
  readonly sections: Section[];
  readonly symbols: ObjectSymbol[];
}

export function isLoadedKind(kind: SectionKind): boolean {
  return kind !== 'metadata' && kind !== 'unwind';
}
