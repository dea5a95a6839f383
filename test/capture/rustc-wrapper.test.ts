import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CAPTURE_DIR_ENV } from '../../src/capture/capture-record.js';
import { repositoryUrl } from '../support/repository.js';

/** Runs the wrapper as cargo would, with `rustc` and its arguments; rustc reads an empty stdin (`-`). */
function wrap(capture: string, rustcArgs: readonly string[]): string {
  return execFileSync(process.execPath, [wrapper, 'rustc', ...rustcArgs], { env: { ...process.env, [CAPTURE_DIR_ENV]: capture }, input: '', encoding: 'utf8' });
}
const wrapper = new URL('dist/src/capture/wrappers/rustc-wrapper.js', repositoryUrl('')).pathname;

/** The workspace wrapper records compilations, the capture's input, and nothing else cargo asks rustc. */
describe('the rustc wrapper', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ipbp-wrapper-'));
    await writeFile(join(directory, 'lib.rs'), 'pub fn f() -> u32 { 1 }\n');
  });
  after(async () => rm(directory, { recursive: true, force: true }));

  const recorded = async (capture: string): Promise<string[]> => readdir(join(capture, 'rustc')).catch(() => []);

  test("cargo's target-info query (`--crate-name ___ --print=…`) is answered and not recorded", async () => {
    const capture = join(directory, 'query');
    const answer = wrap(capture, ['-', '--crate-name', '___', '--print=file-names', '--crate-type', 'bin', '--crate-type', 'lib']);
    assert.match(answer, /___/, "rustc's answer passes through");
    assert.deepEqual(await recorded(capture), []);
  });

  test('a compilation is recorded', async () => {
    const capture = join(directory, 'compile');
    wrap(capture, [join(directory, 'lib.rs'), '--crate-name', 'tiny', '--crate-type', 'lib', '--emit=metadata', '--out-dir', directory]);
    const records = await recorded(capture);
    assert.equal(records.length, 1);
    assert.match(records[0]!, /^tiny-/);
  });
});
