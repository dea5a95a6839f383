import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UserError } from '../cli/errors.js';
import { readElfImage } from '../object/elf/image.js';
import type { LiveSymbol } from './live-symbols.js';
import { findRustLld } from './toolchain.js';

const run = promisify(execFile);

export interface LinkedPatch {
  readonly path: string;
  readonly base: bigint;
  /** What the patch defines, at its final (absolute) addresses. */
  readonly symbols: Map<string, { address: bigint; kind: LiveSymbol['kind'] }>;
}

/**
 * Link the patch object into a shared object at a fixed base near the
 * program, with every binding to the process as an absolute symbol. The
 * result has no dynamic relocations against the program, and `dlopen` maps
 * it at `base` when that range is free.
 */
export async function linkPatch(objectPath: string, outputPath: string, base: bigint, bindings: ReadonlyMap<string, bigint>): Promise<LinkedPatch> {
  const scriptPath = `${outputPath}.bindings.ld`;
  const lines = [...bindings].map(([name, address]) => `${quoteSymbol(name)} = 0x${address.toString(16)};`);
  await writeFile(scriptPath, `${lines.join('\n')}\n`);
  const linker = await findRustLld();
  const args = ['-flavor', 'gnu', '-shared', '-Bsymbolic', '--eh-frame-hdr', '-z', 'noexecstack', '--build-id', `--image-base=0x${base.toString(16)}`, '-o', outputPath, objectPath, scriptPath];
  try {
    await run(linker, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? String(error)).trim();
    throw new UserError('linking the patch failed', 'link-failed', stderr.split('\n').slice(0, 20));
  }
  const image = readElfImage(outputPath, await readFile(outputPath));
  const symbols = new Map<string, { address: bigint; kind: LiveSymbol['kind'] }>();
  for (const [name, symbol] of image.symbols) {
    if (bindings.has(name) || name.startsWith('__ipbp_local_')) continue;
    symbols.set(name, { address: symbol.address, kind: symbol.kind });
  }
  return { path: outputPath, base, symbols };
}

/** Linker scripts take any symbol name in double quotes; rustc's names contain `$` and `.`. */
function quoteSymbol(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
