import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  argValue,
  argValues,
  CAPTURE_DIR_ENV,
  codegenOption,
  LINKER_SHIM_ENV,
  REAL_LINKER_ENV,
  RECORD_ONLY_ENV,
  type RustcRecord,
  withoutCodegenOption,
} from '../capture-record.js';

/**
 * Cargo runs this as RUSTC_WORKSPACE_WRAPPER for every workspace crate, and
 * (through a filter) for path dependencies outside the workspace:
 * `wrapper <rustc> <args…>`. It records the exact invocation, routes binary
 * links through ipbp's linker wrapper (which keeps the objects), and then
 * runs the real rustc unchanged otherwise.
 */
function main(argv: string[]): number {
  const [rustc, ...args] = argv;
  if (!rustc) {
    process.stderr.write('ipbp rustc wrapper: no rustc given\n');
    return 2;
  }
  const captureDir = process.env[CAPTURE_DIR_ENV];
  const crateName = argValue(args, '--crate-name');
  // Cargo also asks rustc for `-vV` and `--print` queries (named `___`, once for the host and once for a `--target`); those are not compilations.
  const query = args.some((arg) => arg === '--print' || arg.startsWith('--print='));
  if (!captureDir || !crateName || query) return run(rustc, args, process.env);

  const crateTypes = argValues(args, '--crate-type');
  const linksBinary = crateTypes.includes('bin') || (crateTypes.length === 0 && args.includes('--test'));
  let finalArgs = args;
  let realLinker: string | undefined;
  const env = { ...process.env };
  const linkerShim = process.env[LINKER_SHIM_ENV];
  if (linksBinary && linkerShim) {
    realLinker = codegenOption(args, 'linker') ?? 'cc';
    // A build id lets the agent prove which binary it runs; cc-style drivers take it through -Wl.
    const buildIdArgs = /(^|[/-])(cc|gcc|clang)(-\d+)?$/.test(realLinker) ? ['-C', 'link-arg=-Wl,--build-id'] : [];
    finalArgs = [...withoutCodegenOption(args, 'linker'), '-C', `linker=${linkerShim}`, ...buildIdArgs];
    env[REAL_LINKER_ENV] = realLinker;
  }
  const record: RustcRecord = {
    kind: 'rustc',
    rustc,
    crateName,
    crateTypes,
    args,
    cwd: process.cwd(),
    env: pickDefined(process.env),
    realLinker,
  };
  const directory = join(captureDir, 'rustc');
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `${crateName}-${randomBytes(4).toString('hex')}.json`), JSON.stringify(record));
  // Cargo finds the outputs of the last real compile in place, which is all it needs to go on.
  if (process.env[RECORD_ONLY_ENV] && !crateName.startsWith('build_script_')) return 0;
  return run(rustc, finalArgs, env);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const result = spawnSync(command, args, { stdio: inheritedDescriptors(env), env });
  if (result.error) {
    process.stderr.write(`ipbp rustc wrapper: cannot run ${command}: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

/**
 * Cargo hands rustc its jobserver as inherited file descriptors named in
 * CARGO_MAKEFLAGS; pass those through, not just stdio.
 */
function inheritedDescriptors(env: NodeJS.ProcessEnv): Array<'inherit' | 'ignore' | number> {
  const stdio: Array<'inherit' | 'ignore' | number> = ['inherit', 'inherit', 'inherit'];
  const match = /--jobserver-(?:fds|auth)=(\d+),(\d+)/.exec(env.CARGO_MAKEFLAGS ?? '');
  if (!match) return stdio;
  for (const fd of [Number(match[1]), Number(match[2])]) {
    while (stdio.length <= fd) stdio.push('ignore');
    stdio[fd] = fd;
  }
  return stdio;
}

function pickDefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value;
  return result;
}

process.exitCode = main(process.argv.slice(2));
