import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SourceWatcher } from '../../src/watch/source-watcher.js';

/**
 * The watcher on a real directory, driven the ways editors and version
 * control write files. Each step waits for the edit it must produce, so a
 * save the watcher lost shows up as a timeout naming the step.
 */
describe('SourceWatcher', () => {
  let root: string;
  let main: string;
  let module: string;
  let watcher: SourceWatcher;
  const edits: string[][] = [];
  let waiting: { matches: (files: string[]) => boolean; resolve: () => void } | undefined;

  function onEdit(files: string[]): void {
    edits.push(files);
    if (waiting?.matches(files)) {
      waiting.resolve();
      waiting = undefined;
    }
  }

  /** Runs `step`, then waits for an edit that names exactly `files`. */
  async function expectEdit(what: string, files: string[], step: () => Promise<void>): Promise<void> {
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: no edit of ${files.join(', ')}; edits so far: ${JSON.stringify(edits)}`)), 10_000);
      waiting = { matches: (reported) => JSON.stringify([...reported].sort()) === JSON.stringify([...files].sort()), resolve: () => (clearTimeout(timer), resolve()) };
    });
    await step();
    await seen;
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ipbp-watch-'));
    await mkdir(join(root, 'src', 'net'), { recursive: true });
    main = join(root, 'src', 'main.rs');
    module = join(root, 'src', 'net', 'mod.rs');
    await writeFile(main, 'fn main() {}\n');
    await writeFile(module, 'pub fn f() {}\n');
    await writeFile(join(root, 'src', 'unwatched.rs'), '\n');
    watcher = new SourceWatcher([main, module], onEdit);
    await watcher.ready();
  });
  after(async () => {
    await watcher.close();
    await rm(root, { recursive: true, force: true });
  });

  test('a save in place', async () => {
    await expectEdit('write', [main], () => writeFile(main, 'fn main() { 1; }\n'));
  });

  test('an atomic save: a copy renamed over the file, then a save in place', async () => {
    await expectEdit('rename over', [main], async () => {
      await writeFile(`${main}.tmp`, 'fn main() { 2; }\n');
      await rename(`${main}.tmp`, main);
    });
    await expectEdit('write after the rename', [main], () => writeFile(main, 'fn main() { 3; }\n'));
  });

  test('rm and cp, then a save in place', async () => {
    await expectEdit('rm + cp', [main], async () => {
      await writeFile(join(root, 'next.rs'), 'fn main() { 4; }\n');
      await unlink(main);
      await copyFile(join(root, 'next.rs'), main);
    });
    await expectEdit('write after rm + cp', [main], () => writeFile(main, 'fn main() { 5; }\n'));
  });

  test('a file deleted, then made again later: no edit names it while it is missing, and its re-creation is an edit', async () => {
    const before = edits.length;
    await unlink(main);
    // Another file's save while it is missing: reported without it.
    await expectEdit('the other file', [module], () => writeFile(module, 'pub fn f() { 1; }\n'));
    assert.deepEqual(edits.slice(before), [[module]], 'the missing file is in no edit');
    await expectEdit('re-created', [main], () => writeFile(main, 'fn main() { 6; }\n'));
    await expectEdit('write after the re-creation', [main], () => writeFile(main, 'fn main() { 7; }\n'));
  });

  test('a directory removed and made again (a checkout of a revision without it, and back)', async () => {
    await expectEdit('directory back', [module], async () => {
      await rm(join(root, 'src', 'net'), { recursive: true });
      await mkdir(join(root, 'src', 'net'));
      await writeFile(module, 'pub fn f() { 2; }\n');
    });
    await expectEdit('write in the re-made directory', [module], () => writeFile(module, 'pub fn f() { 3; }\n'));
  });

  test('files outside the watched set are not reported', async () => {
    await expectEdit('a watched save after an unwatched one', [main], async () => {
      await writeFile(join(root, 'src', 'unwatched.rs'), 'x\n');
      await writeFile(main, 'fn main() { 8; }\n');
    });
    assert.ok(edits.every((files) => files.every((file) => file === main || file === module)), JSON.stringify(edits));
  });
});
