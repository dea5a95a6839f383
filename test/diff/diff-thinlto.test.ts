import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { diffObjects } from '../../src/diff/compare.js';
import type { ObjectFile } from '../../src/object/model.js';
import { readObjectPath } from '../../src/object/read.js';
import { REPOSITORY } from '../support/repository.js';

const run = promisify(execFile);

/** Defined Rust symbols ThinLTO promoted (`….llvm.<hash>`), not compiler-local ones. */
function promotedNames(objects: readonly ObjectFile[]): Set<string> {
  return new Set(objects.flatMap((object) => object.symbols.filter((symbol) => symbol.section !== undefined && /^_ZN.*\.llvm\.\d+$/.test(symbol.name)).map((symbol) => symbol.name)));
}

/**
 * A release build ThinLTOs its codegen units together, and LLVM promotes
 * what one of them uses of another with a `.llvm.<hash>` of the module: an
 * edit renames the promoted items of the edited unit, and every reference
 * to them, though their code is the same. examples/thread-locals, as cargo
 * builds it for release; the diff must report the edited function alone.
 */
describe('diff of a release build across ThinLTO renaming (examples/thread-locals)', () => {
  let directory: string;
  let before_: ObjectFile[];
  let after_: ObjectFile[];

  /** The program's codegen units, as rustc leaves them with `-C save-temps`. */
  async function build(into: string): Promise<ObjectFile[]> {
    await run('cargo', ['rustc', '--quiet', '--release', '--bin', 'thread-locals', '--', '-C', 'save-temps'], { cwd: directory });
    const deps = join(directory, 'target', 'release', 'deps');
    await mkdir(join(directory, into));
    for (const name of await readdir(deps)) {
      if (name.startsWith('thread_locals-') && name.endsWith('.rcgu.o')) await cp(join(deps, name), join(directory, into, name));
      if (name.endsWith('.rcgu.o')) await rm(join(deps, name));
    }
    return readObjectPath(join(directory, into));
  }

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ipbp-thinlto-'));
    await cp(join(REPOSITORY, 'examples', 'thread-locals'), directory, { recursive: true, filter: (source) => !source.includes('/target') });
    before_ = await build('before');
    const main = join(directory, 'src', 'main.rs');
    await writeFile(main, (await readFile(main, 'utf8')).replace('ROUNDS.set(ROUNDS.get() + 1);', 'ROUNDS.set(ROUNDS.get() + 10);'));
    after_ = await build('after');
  });
  after(async () => rm(directory, { recursive: true, force: true }));

  test('the edit really renamed promoted functions', () => {
    const old = promotedNames(before_);
    assert.ok([...promotedNames(after_)].some((name) => !old.has(name)), `a promoted name changed; before: ${[...old].join(', ')}`);
  });

  test('only the edited function is reported, nothing added or removed', () => {
    const { report } = diffObjects(before_, after_);
    assert.deepEqual(report.functions.changed.map((entry) => entry.name), ['thread_locals::rounds']);
    assert.deepEqual(report.functions.added, []);
    assert.deepEqual(report.functions.removed, []);
  });
});
