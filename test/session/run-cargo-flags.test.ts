import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IpbpRun } from '../support/ipbp-run.js';
import { REPOSITORY } from '../support/repository.js';

/** A custom profile inheriting `release`, whose `strip = true` ipbp must build without. */
const FAST_PROFILE = '\n[profile.release]\nstrip = true\n\n[profile.fast]\ninherits = "release"\nopt-level = 1\n';

describe('--profile, --target-dir and -q (examples/ticker)', () => {
  let session: IpbpRun;

  before(async () => {
    session = await IpbpRun.start('ticker', ['--profile', 'fast', '--target-dir', 'out', '-q'], {}, {
      beforeLaunch: (directory) => appendFile(join(directory, 'Cargo.toml'), FAST_PROFILE),
    });
    await session.untilRunning(/hello from tick \d+/);
  });
  after(async () => session.remove());

  test('the program is built with the custom profile, into the given target directory', async () => {
    const started = (await session.events()).find((event) => event.event === 'session');
    assert.equal(started?.binary, join(session.directory, 'out', 'ipbp', 'fast', 'ticker'));
    await access(join(session.directory, 'out', 'ipbp', 'fast', 'ticker'));
  });

  test("-q: neither cargo's lines nor ipbp's progress, yet an edit is patched", async () => {
    const from = session.stdout.length;
    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("quietly patched at {tick}")');
    await session.waitForEvent((event) => event.event === 'patched');
    await session.waitForLine(/quietly patched at \d+/, from);
    assert.doesNotMatch(session.stderr, /Compiling|Finished|\[ipbp\] (ready|building|patch 1|built without)/);
  });

  test('`ipbp status --target-dir` finds the session in that target directory; without it, none runs', () => {
    const status = (...args: string[]): string =>
      execFileSync(process.execPath, [join(REPOSITORY, 'bin', 'ipbp.js'), 'status', ...args], { cwd: session.directory, encoding: 'utf8' });
    assert.match(status('--target-dir', 'out'), /^ipbp run \(pid \d+\) is running this project; app pid \d+\n/);
    assert.match(status(), /^no `ipbp run` is running this project/);
  });

  test('the profile inherited strip = true, which the build went without (the patch bound to its symbols)', async () => {
    const binary = await readFile(join(session.directory, 'out', 'ipbp', 'fast', 'ticker'));
    assert.ok(binary.includes(Buffer.from('.symtab')), 'the binary keeps its symbol table');
  });
});

describe('-v (examples/ticker)', () => {
  let session: IpbpRun;

  before(async () => {
    session = await IpbpRun.start('ticker', ['-v']);
    await session.untilRunning(/hello from tick \d+/);
  });
  after(async () => session.remove());

  test("cargo's -v shows the commands it runs", () => {
    assert.match(session.stderr, /Running `/);
  });

  test("each patch also lists rustc's time per crate and the functions it changed", async () => {
    await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("verbosely patched at {tick}")');
    await session.waitForEvent((event) => event.event === 'patched');
    await session.waitForStderr(/\[ipbp\]\s+rustc: ticker \d+ ms\n\[ipbp\]\s+changed: ticker::greeting\n/);
  });
});

/**
 * examples/project-settings: `[workspace.metadata.ipbp]` says `args =
 * ["from-workspace"]` and `restart = false`; the app package's
 * `[package.metadata.ipbp]` says `args = ["from-package", "second"]`,
 * watches `config/` and ignores `src/scratch.rs`.
 */
describe("the project's own settings: [package.metadata.ipbp] over [workspace.metadata.ipbp]", () => {
  let session: IpbpRun;

  before(async () => {
    session = await IpbpRun.start('project-settings');
    await session.untilRunning(/settings tick \d+/);
  });
  after(async () => session.remove());

  test("the app gets the package's args, which win over the workspace's", async () => {
    await session.waitForLine(/settings tick \d+ args=\[from-package second\] motd=\[motd one\] scratch=1/);
  });

  test('a save of an ignored file is neither patched nor a restart; the next patch of the crate takes it in', async () => {
    await session.edit('app/src/scratch.rs', '    1\n', '    2\n');
    const from = session.stdout.length;
    await session.edit('app/src/main.rs', 'format!("settings tick {tick}")', 'format!("settings edited {tick}")');
    const patched = await session.waitForEvent((event) => event.event === 'patched');
    assert.deepEqual(patched.files, [join(session.directory, 'app', 'src', 'main.rs')], 'only the save that was not ignored');
    await session.waitForLine(/settings edited \d+ .* scratch=2/, from);
    assert.ok(!(await session.events()).some((event) => event.event === 'restart' || event.event === 'no-change'));
  });

  test("a save of a watched file asks for a restart, which the workspace's restart = false turns into a report", async () => {
    await writeFile(join(session.directory, 'app', 'config', 'motd.txt'), 'motd two\n');
    const unpatchable = await session.waitForEvent((event) => event.event === 'unpatchable');
    assert.equal(unpatchable.restarting, false);
    assert.deepEqual(unpatchable.reasons, ['`app/config/motd.txt` changed']);
    await session.waitForStderr(/not restarting \(`restart = false` in the project's ipbp settings\)/);
  });

  test('arguments after -- win over the settings', async () => {
    const other = await IpbpRun.start('project-settings', ['--', 'from-cli']);
    try {
      await other.waitForLine(/settings tick \d+ args=\[from-cli\]/, 0, 180_000);
    } finally {
      await other.remove();
    }
  });
});

describe('settings that are not as described', () => {
  test('a wrong type stops ipbp before the build, naming the manifest and the key', async () => {
    const session = await IpbpRun.start('ticker', [], {}, {
      beforeLaunch: async (directory) => {
        const manifest = join(directory, 'Cargo.toml');
        await writeFile(manifest, `${await readFile(manifest, 'utf8')}\n[package.metadata.ipbp]\nargs = "--port 80"\n`);
      },
    });
    try {
      assert.equal(await session.waitForExit(120_000), 1);
      assert.match(session.stderr, /ipbp: error: `args` in \[package\.metadata\.ipbp\] of Cargo\.toml must be an array of strings/);
      assert.doesNotMatch(session.stderr, /Compiling/);
    } finally {
      await session.remove();
    }
  });
});
