import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors/user-error.js';

const run = promisify(execFile);
let cachedLinker: Promise<string> | undefined;

/** The `rust-lld` that ships with the active rustup toolchain. */
export function findRustLld(): Promise<string> {
  cachedLinker ??= (async () => {
    const [{ stdout: sysroot }, { stdout: version }] = await Promise.all([run('rustc', ['--print', 'sysroot']), run('rustc', ['-vV'])]);
    const host = /^host: (.+)$/m.exec(version)?.[1]?.trim();
    if (!host) throw new UserError('cannot tell the host triple from `rustc -vV`', 'no-host');
    const path = join(sysroot.trim(), 'lib', 'rustlib', host, 'bin', 'rust-lld');
    try {
      await access(path);
    } catch {
      throw new UserError(`rust-lld not found at ${path}`, 'no-rust-lld', ['install a rustup toolchain, which ships rust-lld']);
    }
    return path;
  })();
  return cachedLinker;
}
