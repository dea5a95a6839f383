import { withoutLlvmSuffix } from '../diff/demangle/index.js';
import type { ElfImage } from '../object/elf/image.js';

/** A symbol of the running process: where it lives now, and what kind it is. */
export interface LiveSymbol {
  readonly address: bigint;
  readonly kind: 'function' | 'ifunc' | 'data' | 'tls' | 'other';
  /** Bytes until the next symbol: room for an entry jump. */
  readonly room: number;
}

/** What a loaded patch defines under one name. */
export interface PatchSymbol {
  readonly address: bigint;
  readonly kind: LiveSymbol['kind'];
  readonly size: number;
}

/** How many of a function's latest patch copies each new patch redirects (see `entriesOf`). */
const RECENT_COPIES = 8;

/**
 * What the running process defines, by name: the executable's symbols at
 * their runtime addresses, then what each loaded patch added. Unchanged code
 * and statics are bound here, so patches share the process's state.
 */
export class LiveSymbols {
  private readonly original = new Map<string, LiveSymbol>();
  private readonly ambiguous = new Set<string>();
  /** Every copy of each function that patches loaded, oldest first. */
  private readonly patchCopies = new Map<string, bigint[]>();
  private readonly patchDefinitions = new Map<string, LiveSymbol>();
  /** Every function's code in the process (the executable's and the patches'), sorted by address; built on demand. */
  private functionRanges: Array<{ start: bigint; end: bigint; name: string }> | undefined;
  /** The code ranges of the patches' functions, by name (every copy). */
  private readonly patchRanges = new Map<string, Array<{ start: bigint; end: bigint }>>();
  /** Names whose original now serves only code from before an edit: the name means a patch's definition. */
  private readonly retired = new Set<string>();
  private readonly imports: ReadonlySet<string>;
  /** Functions of the executable by address: several names at one address are one merged body. */
  private readonly functionsAt = new Map<bigint, string[]>();

  constructor(
    private readonly image: ElfImage,
    private readonly loadBias: bigint,
  ) {
    const functions = [...image.symbols.values()].filter((s) => s.kind === 'function').map((s) => s.address);
    const starts = [...new Set(functions)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, symbol] of image.symbols) {
      this.original.set(name, { address: symbol.address + loadBias, kind: symbol.kind, room: roomAfter(starts, symbol.address, symbol.size) });
    }
    for (const name of image.ambiguous) this.ambiguous.add(name);
    // Patches name what ThinLTO promoted without its `.llvm.<hash>`, as the diff does (`makeAtom`).
    for (const [name, symbol] of image.symbols) {
      const known = withoutLlvmSuffix(name);
      if (known === name) continue;
      const taken = this.original.get(known);
      if (!taken) this.original.set(known, { address: symbol.address + loadBias, kind: symbol.kind, room: roomAfter(starts, symbol.address, symbol.size) });
      else if (taken.address !== symbol.address + loadBias) this.ambiguous.add(known);
    }
    for (const [name, symbol] of image.symbols) {
      if (symbol.kind !== 'function') continue;
      const names = this.functionsAt.get(symbol.address);
      if (names) names.push(withoutLlvmSuffix(name));
      else this.functionsAt.set(symbol.address, [withoutLlvmSuffix(name)]);
    }
    this.imports = image.imports;
  }

  /**
   * Whether the dynamic loader resolves `name` for the program (a shared
   * library's function such as `_Unwind_Resume`); a patch leaves it to the
   * loader too.
   */
  isImported(name: string): boolean {
    return this.imports.has(name);
  }

  isAmbiguous(name: string): boolean {
    return this.ambiguous.has(name) && !this.patchDefinitions.has(name);
  }

  /** The address a patch binds `name` to: the original if there is one (its entry jumps to the newest copy). */
  lookup(name: string): LiveSymbol | undefined {
    if (this.retired.has(name)) return this.patchDefinitions.get(name);
    return this.original.get(name) ?? this.patchDefinitions.get(name);
  }

  /**
   * Whether the program can write to `name`'s original: it lies in a
   * writable segment, outside what the loader makes read-only after
   * relocation. A `static` without interior mutability cannot change; an
   * atomic, a `Mutex` or a `static mut` can.
   */
  isMutable(name: string): boolean {
    const original = this.original.get(name);
    if (!original) return false;
    const address = original.address - this.loadBias;
    const { relro } = this.image;
    if (relro && address >= relro.address && address < relro.address + relro.size) return false;
    return this.image.loadSegments.some((segment) => segment.writable && address >= segment.address && address < segment.address + segment.size);
  }

  /**
   * The function whose code holds `address`: the executable's or a patch's
   * (a copy a later patch replaced still counts under its name).
   */
  functionAt(address: bigint): string | undefined {
    const ranges = (this.functionRanges ??= this.collectFunctionRanges());
    let low = 0;
    let high = ranges.length - 1;
    let found: (typeof ranges)[number] | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (ranges[middle]!.start <= address) {
        found = ranges[middle];
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found && address < found.end ? found.name : undefined;
  }

  private collectFunctionRanges(): Array<{ start: bigint; end: bigint; name: string }> {
    const ranges: Array<{ start: bigint; end: bigint; name: string }> = [];
    for (const [name, symbol] of this.original) {
      if (symbol.kind !== 'function') continue;
      const size = this.image.symbols.get(name)?.size || symbol.room;
      ranges.push({ start: symbol.address, end: symbol.address + BigInt(Math.max(size, 1)), name });
    }
    for (const [name, copies] of this.patchRanges) for (const range of copies) ranges.push({ ...range, name });
    return ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** The program's TLS template, if it has thread-locals. */
  get tlsTemplate(): ElfImage['tls'] {
    return this.image.tls;
  }

  /** Where the program's thread-local `name` sits in its TLS template (the same in every process of the build). */
  threadLocalOffset(name: string): bigint | undefined {
    const symbol = this.image.symbols.get(name);
    return symbol?.kind === 'tls' && !this.image.ambiguous.has(name) ? symbol.address : undefined;
  }

  /** The executable's functions at the address of `name`'s original, itself included. */
  functionsSharingCodeWith(name: string): readonly string[] {
    const original = this.retired.has(name) ? undefined : this.original.get(name);
    return original ? (this.functionsAt.get(original.address - this.loadBias) ?? []) : [];
  }

  originalOf(name: string): LiveSymbol | undefined {
    return this.original.get(name);
  }

  /**
   * The entries that must jump to a new copy of `name`: the original and
   * the latest earlier copies. An older copy already jumps to a copy that
   * came after it, so a pointer into it still ends at the newest code, one
   * jump per `RECENT_COPIES` patches later; rewriting every copy each time
   * would make the thousandth patch of a function write a thousand jumps.
   */
  entriesOf(name: string): bigint[] {
    const entries: bigint[] = [];
    const original = this.retired.has(name) ? undefined : this.original.get(name);
    if (original && original.kind === 'function') entries.push(original.address);
    entries.push(...(this.patchCopies.get(name) ?? []).slice(-RECENT_COPIES));
    return entries;
  }

  /**
   * From now on `names` mean what the next patch defines, no longer the
   * process's originals or earlier copies, which keep serving the code
   * created before: a renumbered closure's name given to another closure.
   */
  retire(names: readonly string[]): void {
    this.functionRanges = undefined;
    for (const name of names) {
      this.retired.add(name);
      this.patchCopies.delete(name);
      this.patchDefinitions.delete(name);
    }
  }

  /** Record what a loaded patch defines. */
  addPatch(symbols: ReadonlyMap<string, PatchSymbol>): void {
    this.functionRanges = undefined;
    for (const [name, symbol] of symbols) {
      if (symbol.kind === 'function') {
        const ranges = this.patchRanges.get(name) ?? [];
        ranges.push({ start: symbol.address, end: symbol.address + BigInt(Math.max(symbol.size, 1)) });
        this.patchRanges.set(name, ranges);
        const copies = this.patchCopies.get(name);
        if (copies) copies.push(symbol.address);
        else this.patchCopies.set(name, [symbol.address]);
      }
      this.patchDefinitions.set(name, { address: symbol.address, kind: symbol.kind, room: Number.MAX_SAFE_INTEGER });
    }
  }
}

function roomAfter(sortedStarts: readonly bigint[], address: bigint, size: number): number {
  let low = 0;
  let high = sortedStarts.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sortedStarts[middle]! <= address) low = middle + 1;
    else high = middle;
  }
  const next = sortedStarts[low];
  return next === undefined ? Math.max(size, 16) : Number(next - address);
}
