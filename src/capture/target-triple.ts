import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { argValue, type RustcRecord } from './capture-record.js';

const run = promisify(execFile);

/**
 * The target triple the program was compiled for: cargo passes `--target`
 * to rustc when one was asked for, and otherwise rustc builds for its host.
 */
export async function targetTripleOf(program: RustcRecord): Promise<string> {
  const explicit = argValue(program.args, '--target');
  if (explicit) return explicit.replace(/\.json$/, '');
  const { stdout } = await run(program.rustc, ['-vV'], { env: program.env });
  const host = /^host: (.+)$/m.exec(stdout)?.[1]?.trim();
  if (!host) throw new Error(`cannot tell the host triple from \`${program.rustc} -vV\``);
  return host;
}
