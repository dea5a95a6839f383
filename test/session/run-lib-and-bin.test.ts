import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';

/** A package with both a lib and a bin, built with a feature, selected by package and bin name. */
describe('ipbp run on a package with a lib and a bin (examples/lib-and-bin)', () => {
  let session: IpbpRun;
  after(async () => session?.remove());

  test('an edit to the library part is patched into the binary, with the feature still on', async () => {
    session = await IpbpRun.start('lib-and-bin', ['-p', 'lib-and-bin', '--bin', 'lib-and-bin', '--features', 'loud']);
    await session.waitForEvent((event) => event.event === 'ready', 180_000);
    await session.waitForLine(/^LOUD \d+$/);
    const from = session.stdout.length;
    await session.edit('src/lib.rs', 'format!("LOUD {tick}")', 'format!("VERY LOUD {tick}")');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched');
    assert.deepEqual(event.changed, ['lib_and_bin::message']);
    // Only the body of a plain function changed: the binary's objects would come out the same, so it is not recompiled.
    assert.equal((event.compiled as unknown[]).length, 1, `compiled: ${JSON.stringify(event.compiled)}`);
    await session.waitForLine(/^VERY LOUD \d+$/, from);
  });

  test('an edit of a generic function the binary instantiates recompiles the binary, and its copy runs the new code', async () => {
    const from = session.stdout.length;
    await session.edit('src/lib.rs', 'format!("{line}")', 'format!("<{line}>")');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 2);
    assert.equal((event.compiled as unknown[]).length, 2, `compiled: ${JSON.stringify(event.compiled)}`);
    await session.waitForLine(/^<VERY LOUD \d+>$/, from);
  });

  test('a body edit after it is again the library alone', async () => {
    const from = session.stdout.length;
    await session.edit('src/lib.rs', 'format!("VERY LOUD {tick}")', 'format!("LOUDEST {tick}")');
    const event = await session.waitForEvent((candidate) => candidate.event === 'patched' && candidate.patch === 3);
    assert.equal((event.compiled as unknown[]).length, 1, `compiled: ${JSON.stringify(event.compiled)}`);
    await session.waitForLine(/^<LOUDEST \d+>$/, from);
  });
});

/** Cargo's own build flags, passed on to every build of the session. */
describe('cargo build flags (examples/lib-and-bin)', () => {
  let session: IpbpRun;
  after(async () => session?.remove());

  test('--all-features, --offline, -j and --config reach cargo: the feature is on, and the app is patched', async () => {
    session = await IpbpRun.start('lib-and-bin', ['--bin', 'lib-and-bin', '--all-features', '--offline', '-j', '1', '--config', 'profile.dev.debug-assertions=false']);
    await session.waitForEvent((event) => event.event === 'ready', 180_000);
    await session.waitForLine(/^LOUD \d+$/);
    const from = session.stdout.length;
    await session.edit('src/lib.rs', 'format!("LOUD {tick}")', 'format!("LOUDER {tick}")');
    await session.waitForEvent((event) => event.event === 'patched');
    await session.waitForLine(/^LOUDER \d+$/, from);
  });

  test('--no-default-features reaches cargo: the default feature is off, in the first build and in the patch', async () => {
    const plain = await IpbpRun.start('lib-and-bin', ['--bin', 'lib-and-bin', '--no-default-features']);
    try {
      await plain.waitForLine(/^quiet \d+$/, 0, 180_000);
      const from = plain.stdout.length;
      await plain.edit('src/lib.rs', 'format!("quiet {tick}")', 'format!("still quiet {tick}")');
      await plain.waitForEvent((event) => event.event === 'patched');
      await plain.waitForLine(/^still quiet \d+$/, from);
    } finally {
      await plain.remove();
    }
  });

  test('--locked and --frozen reach cargo: a lock file that needs updating is refused, before anything runs', async () => {
    // The package's version in the lock file is not the manifest's: cargo would have to update it.
    const staleLock = (directory: string): Promise<void> =>
      writeFile(join(directory, 'Cargo.lock'), 'version = 4\n\n[[package]]\nname = "lib-and-bin"\nversion = "0.0.9"\n');
    for (const flag of ['--locked', '--frozen']) {
      const refused = await IpbpRun.start('lib-and-bin', ['--bin', 'lib-and-bin', flag], {}, { beforeLaunch: staleLock });
      const code = await refused.waitForExit(120_000);
      await refused.remove();
      assert.equal(code, 101, refused.stderr);
      assert.match(refused.stderr, new RegExp(`cannot update the lock file .* because ${flag} was passed`));
    }
  });

  test('a flag cargo refuses is cargo\'s own error, before anything runs', async () => {
    const refused = await IpbpRun.start('lib-and-bin', ['--bin', 'lib-and-bin', '--config', 'not a setting']);
    const code = await refused.waitForExit();
    await refused.remove();
    assert.notEqual(code, 0);
    assert.match(refused.stderr, /--config/);
  });
});

/**
 * ipbp's build directory removed while the session runs (a `cargo clean`,
 * a disk clean-up): a recompile of the binary would lack the library it is
 * compiled against. That is said, and a fresh build restarts the app on the
 * new code.
 */
describe('target/ipbp removed mid-session (examples/lib-and-bin)', () => {
  let session: IpbpRun;
  after(async () => session?.remove());

  test('the next edit of the binary restarts on a fresh build, naming what went missing', async () => {
    session = await IpbpRun.start('lib-and-bin', ['-p', 'lib-and-bin', '--bin', 'lib-and-bin', '--features', 'loud']);
    const pid = (await session.waitForEvent((event) => event.event === 'ready', 180_000)).pid as number;
    await session.waitForLine(/^LOUD \d+$/);
    await rm(join(session.targetDirectory, 'ipbp'), { recursive: true, force: true });
    await session.edit('src/main.rs', '    line\n', '    format!("{line}!")\n');
    const restart = await session.waitForEvent((event) => event.event === 'restart');
    assert.match(String(restart.reason), /^the build directory lost the libraries lib_and_bin is compiled against \(was `target\/ipbp` removed\?\)/);
    assert.match((restart.details as string[]).join('\n'), /missing: .*liblib_and_bin-[0-9a-f]+\.rlib/);
    const ready = await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid, 180_000);
    assert.notEqual(ready.pid, pid);
    await session.waitForLine(/^LOUD \d+!$/);
  });
});
