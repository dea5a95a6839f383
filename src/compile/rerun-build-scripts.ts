import { mkdir, rm } from 'node:fs/promises';
import { type CargoInvocation, readRustcRecords } from '../capture/capture.js';
import { CAPTURE_DIR_ENV, RECORD_ONLY_ENV, type RustcRecord } from '../capture/capture-record.js';
import { runCargo } from '../capture/run-cargo.js';
import { UserError } from '../errors/user-error.js';

/**
 * Rerun build scripts as cargo would, by running cargo again on the
 * captured build: the same wrappers give the same crate hashes, and so the
 * same `OUT_DIR`s the running program's crates were compiled against.
 * Cargo reruns each script whose inputs changed and then "compiles" what
 * depends on it; the wrapper, recording only, writes down those invocations
 * (with the scripts' new output in them: `--cfg` flags, `rustc-env`
 * variables) and compiles nothing but the scripts. Returns those records:
 * the crates to recompile, and how.
 */
export async function rerunBuildScripts(cargo: CargoInvocation, scratchDir: string, signal?: AbortSignal): Promise<RustcRecord[]> {
  await rm(scratchDir, { recursive: true, force: true });
  await mkdir(scratchDir, { recursive: true });
  const env = { ...process.env, ...cargo.env, [CAPTURE_DIR_ENV]: scratchDir, [RECORD_ONLY_ENV]: '1' };
  try {
    await runCargo(['build', '--quiet', '--message-format=json-render-diagnostics', ...cargo.args], env, cargo.cwd, signal);
  } catch (error) {
    if (error instanceof UserError && error.code === 'build-failed') {
      throw new UserError('a build script failed when rerun (its output is above)', 'build-script-failed', ['fix it and save again']);
    }
    throw error;
  }
  return (await readRustcRecords(scratchDir)).filter((record) => !record.crateName.startsWith('build_script_'));
}
