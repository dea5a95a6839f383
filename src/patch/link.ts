import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UserError } from '../errors/user-error.js';
import { type ElfImage, readElfImage } from '../object/elf/image.js';
import type { Target } from '../targets/target.js';
import type { TlsFixup, TlsFixupForm } from '../deliver/protocol.js';
import type { PatchSymbol } from './live-symbols.js';
import { TLS_FIXUP_PREFIX, TLS_VARIABLE_PREFIX } from './patch-object.js';
import { findRustLld } from './toolchain.js';

const run = promisify(execFile);

export interface LinkedPatch {
  readonly path: string;
  readonly base: bigint;
  /** What the patch defines, at its final (absolute) addresses. */
  readonly symbols: Map<string, PatchSymbol>;
  /** The local-exec accesses of the patch's own thread-locals, for the agent to write once it is loaded. */
  readonly tlsFixups: TlsFixup[];
}

/**
 * How far the patch is linked below the address it runs at.
 *
 * `dlopen` maps a library at its link address when that range is free, which
 * gives a load bias of 0, and Rust's backtrace symbolizer reads a bias of 0 as
 * "this is a static executable" and looks the patch's frames up in the
 * program's file. So the patch is linked one page below `base` with a
 * segment alignment of two pages: glibc (2.35+) maps the span at the link
 * address and then aligns its start up to `base`, a bias of one page.
 */
export const PATCH_LOAD_BIAS = 0x1000n;
const PATCH_SEGMENT_ALIGNMENT = '0x2000';

/**
 * Link the patch object into a shared object that runs at `base`, near the
 * program. Every binding to the process is a symbol at a fixed distance from
 * the patch's own header, so code reaches it PC-relatively and data pointers
 * get ordinary RELATIVE relocations.
 */
export async function linkPatch(target: Target, objectPath: string, outputPath: string, base: bigint, bindings: ReadonlyMap<string, bigint>): Promise<LinkedPatch> {
  const scriptPath = `${outputPath}.bindings.ld`;
  const lines = [...bindings].map(([name, address]) => `${quoteSymbol(name)} = __ehdr_start ${signedOffset(address - base)};`);
  await writeFile(scriptPath, `${lines.join('\n')}\n`);
  const linker = await findRustLld();
  const linkBase = base - PATCH_LOAD_BIAS;
  const args = [
    '-flavor',
    target.patchLinker.flavor,
    ...target.patchLinker.flags,
    '-z',
    `max-page-size=${PATCH_SEGMENT_ALIGNMENT}`,
    `--image-base=0x${linkBase.toString(16)}`,
    '-o',
    outputPath,
    objectPath,
    scriptPath,
  ];
  try {
    await run(linker, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { code, signal, stderr } = error as { code?: unknown; signal?: string | null; stderr?: string };
    if (code === 'ENOENT' || code === 'EACCES') {
      throw new UserError(`the toolchain's linker ${linker} cannot be run (${code === 'ENOENT' ? 'it is gone' : 'it is not executable'})`, 'linker-missing', [
        'is the toolchain that built the program still installed? (`rustup toolchain list`)',
      ]);
    }
    if (signal) throw new UserError(`the linker was killed (${signal}) while linking the patch`, 'linker-killed', ['save again to link it again']);
    throw new UserError('linking the patch failed', 'link-failed', (stderr ?? String(error)).trim().split('\n').slice(0, 20));
  }
  const image = readElfImage(outputPath, await readFile(outputPath));
  return { path: outputPath, base, symbols: definedSymbols(image, bindings), tlsFixups: tlsFixupsOf(image) };
}

/**
 * Finds the toolchain's linker and runs it once, before the first patch
 * needs it: the first run of rust-lld loads LLVM's libraries from disk.
 */
export async function warmPatchLinker(target: Target): Promise<void> {
  const linker = await findRustLld();
  await run(linker, ['-flavor', target.patchLinker.flavor, '--version']).catch(() => {});
}

/**
 * The sites `patch-object.ts` marked where patch code reaches one of the
 * patch's own thread-locals local-exec, at the addresses they run at, each
 * with the variable's offset in the patch's TLS block (its symbol's value
 * in a linked library) plus the addend. A patch with such sites must have
 * been linked for static TLS, or no fixed offset from the thread pointer
 * would reach its block.
 */
export function tlsFixupsOf(image: ElfImage): TlsFixup[] {
  const fixups: TlsFixup[] = [];
  for (const [name, site] of image.symbols) {
    if (!name.startsWith(TLS_FIXUP_PREFIX)) continue;
    const match = /^(u32|u64|add-lo12|add-hi12)\.(\d+)\.(-?\d+)\.\d+$/.exec(name.slice(TLS_FIXUP_PREFIX.length));
    const variable = match ? image.symbols.get(`${TLS_VARIABLE_PREFIX}${match[2]}`) : undefined;
    if (!match || variable?.kind !== 'tls') throw new Error(`${image.path}: malformed thread-local fixup ${name}`);
    fixups.push({ address: site.address + PATCH_LOAD_BIAS, value: BigInt.asUintN(64, variable.address + BigInt(match[3]!)), form: match[1] as TlsFixupForm });
  }
  if (fixups.length > 0 && !image.staticTls) throw new Error(`${image.path}: the patch has thread-locals of its own but was not linked for static TLS (no DF_STATIC_TLS)`);
  return fixups;
}

/**
 * What a linked patch defines, at the addresses it runs at once loaded at
 * its base: not its bindings to the process (`bindingNames`), nor ipbp's
 * local aliases.
 */
export function definedSymbols(image: ElfImage, bindingNames: { has(name: string): boolean }): LinkedPatch['symbols'] {
  const symbols: LinkedPatch['symbols'] = new Map();
  for (const [name, symbol] of image.symbols) {
    if (bindingNames.has(name) || name.startsWith('__ipbp_local_') || name.startsWith(TLS_FIXUP_PREFIX) || name.startsWith(TLS_VARIABLE_PREFIX)) continue;
    symbols.set(name, { address: symbol.address + PATCH_LOAD_BIAS, kind: symbol.kind, size: symbol.size });
  }
  return symbols;
}

/** The address a linked patch must be loaded at (its link address plus the load bias). */
export function loadAddressOf(image: ElfImage): bigint | undefined {
  const lowest = image.loadSegments.reduce<bigint | undefined>((low, segment) => (low === undefined || segment.address < low ? segment.address : low), undefined);
  return lowest === undefined ? undefined : lowest + PATCH_LOAD_BIAS;
}

function signedOffset(offset: bigint): string {
  return offset < 0n ? `- 0x${(-offset).toString(16)}` : `+ 0x${offset.toString(16)}`;
}

/** Linker scripts take any symbol name in double quotes; rustc's names contain `$` and `.`. */
function quoteSymbol(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
