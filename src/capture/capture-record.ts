import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** What the rustc wrapper records for each workspace crate it compiles. */
export interface RustcRecord {
  readonly kind: 'rustc';
  /** The rustc cargo would have run (the wrapper's first argument). */
  readonly rustc: string;
  readonly crateName: string;
  readonly crateTypes: string[];
  readonly args: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** The linker rustc would have used, when the wrapper replaced it with ours. */
  readonly realLinker: string | undefined;
}

/** What the linker wrapper records for each link of a workspace binary. */
export interface LinkRecord {
  readonly kind: 'link';
  readonly args: string[];
  readonly cwd: string;
  readonly output: string;
  /** Object files of the link, copied before the linker ran (rustc deletes them after). */
  readonly objects: Array<{ readonly original: string; readonly copy: string }>;
}

export const CAPTURE_DIR_ENV = 'IPBP_CAPTURE_DIR';
export const REAL_LINKER_ENV = 'IPBP_REAL_LINKER';
export const LINKER_SHIM_ENV = 'IPBP_LINKER_SHIM';
/** Where the object keeper puts the objects of a replayed binary's link. */
export const OBJECTS_TO_ENV = 'IPBP_OBJECTS_TO';
/** The file name of the object keeper, beside the linker wrapper. */
export const OBJECT_KEEPER = 'object-keeper';

/**
 * The "linker" of a replayed binary crate: a shell script beside the linker
 * wrapper that keeps the objects rustc hands it and links nothing. A shell
 * starts in a millisecond where the Node.js wrapper takes tens.
 */
export function objectKeeperOf(linkerShim: string): string {
  return join(dirname(linkerShim), OBJECT_KEEPER);
}
/**
 * Set when cargo runs only to rerun build scripts: the wrapper then records
 * what cargo would compile (with the scripts' new output) and compiles
 * nothing but the scripts themselves; ipbp recompiles the crates its own way.
 */
export const RECORD_ONLY_ENV = 'IPBP_RECORD_ONLY';

/**
 * Where rustc writes a crate's outputs and the stem it names them by,
 * `<crate><extra-filename>`: `<stem>.d`, `lib<stem>.rlib`,
 * `<stem>.<unit>.rcgu.o`.
 */
export function rustcOutputs(record: RustcRecord): { readonly outDir: string; readonly stem: string } {
  return {
    outDir: argValue(record.args, '--out-dir') ?? record.cwd,
    stem: `${record.crateName}${codegenOption(record.args, 'extra-filename') ?? ''}`,
  };
}

/** An object rustc made for one of the crate's codegen units (`<stem>.<unit>[.<session>].rcgu.o`), as a file or an rlib member. */
export function isCodegenUnitObject(stem: string, fileName: string): boolean {
  return fileName.startsWith(`${stem}.`) && fileName.endsWith('.rcgu.o');
}

/** The objects of the crate's codegen units in `directory`, sorted. */
export function codegenUnitsIn(directory: string, stem: string): string[] {
  return readdirSync(directory)
    .filter((name) => isCodegenUnitObject(stem, name))
    .sort()
    .map((name) => join(directory, name));
}

/**
 * Removes what `-C save-temps` left beside a library from an earlier
 * compile (objects and bitcode, named after the compiler session that made
 * them), so that the codegen units in its directory are the last compile's.
 */
export function removeCodegenUnits(directory: string, stem: string): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(`${stem}.`) && /\.rcgu\.(o|bc|no-opt\.bc)$/.test(name)) rmSync(join(directory, name), { force: true });
}

export function rlibFileName(stem: string): string {
  return `lib${stem}.rlib`;
}

/** A proc-macro crate's output: a shared library of the host, which the compiler loads (it never goes into the program). */
export function procMacroFileName(stem: string): string {
  return `lib${stem}.${process.platform === 'darwin' ? 'dylib' : 'so'}`;
}

/** What a library's output (`lib<stem>.rlib`, `.rmeta`, a proc macro's `.so`) is named by, as `--extern` paths give it: `lib<stem>`. */
export function libraryFileStem(path: string): string {
  return basename(path).replace(/\.(rlib|rmeta|so|dylib)$/, '');
}

export function depInfoFileName(stem: string): string {
  return `${stem}.d`;
}

/** The value of `flag` in `args`, in both `--flag value` and `--flag=value` forms. */
export function argValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === flag) return args[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

/** All values of `flag` (e.g. every `--crate-type`). */
export function argValues(args: readonly string[], flag: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === flag && i + 1 < args.length) values.push(args[i + 1]!);
    else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
  }
  return values;
}

/** The value of a `-C key=value` codegen option. */
export function codegenOption(args: readonly string[], key: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const option = arg === '-C' ? args[i + 1] : arg.startsWith('-C') ? arg.slice(2) : undefined;
    if (option?.startsWith(`${key}=`)) return option.slice(key.length + 1);
  }
  return undefined;
}

/** `args` without any `-C key=…` option. */
export function withoutCodegenOption(args: readonly string[], key: string): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-C' && args[i + 1]?.startsWith(`${key}=`)) {
      i++;
      continue;
    }
    if (arg.startsWith(`-C${key}=`)) continue;
    result.push(arg);
  }
  return result;
}
