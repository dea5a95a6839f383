import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Event, IpbpRun } from '../support/ipbp-run.js';

/** The service's line: its own word, the cfg flag, the included banner, the plugin member's word. */
const SERVICE_LINE = /^(service-\w+) \d+ \| (flag=\w+) \| (.*) \| (plugin-word \d+)$/;

function isPatch(number: number): (event: Event) => boolean {
  return (event) => event.event === 'patched' && event.patch === number;
}

/**
 * Cargo project shapes `ipbp run` must start and patch as `cargo run` runs
 * them (examples/project-shapes): a workspace with a custom `target-dir` in
 * `.cargo/config.toml`; a package with `autobins = false` (its src/main.rs
 * would not compile) whose `[[bin]]`s have their own names and paths, one of
 * them with `required-features`; a member built as both a cdylib and an rlib
 * beside the app; a text file compiled in with `include_str!`; `RUSTFLAGS`
 * from the environment.
 */
describe('ipbp run on cargo project shapes (examples/project-shapes)', () => {
  describe('the `service` bin: custom name and path, autobins = false, RUSTFLAGS, include_str!, a cdylib member, target-dir = "out"', () => {
    let session: IpbpRun;
    let pid: number;

    before(async () => {
      session = await IpbpRun.start('project-shapes', ['-p', 'shapes-app', '--bin', 'service'], { RUSTFLAGS: '--cfg shapes_flag' });
      pid = await session.untilRunning(SERVICE_LINE);
    });
    after(async () => session?.remove());

    test('the [[bin]] at src/tools/service.rs starts, built with RUSTFLAGS in the configured target directory', async () => {
      const { match } = await session.waitForLine(SERVICE_LINE);
      assert.deepEqual(match.slice(1), ['service-word', 'flag=on', 'banner one', match[4]]);
      assert.ok(existsSync(join(session.directory, 'out', 'ipbp')), 'ipbp builds below the target-dir of .cargo/config.toml');
      assert.ok(!existsSync(join(session.directory, 'target')), 'nothing is built in the default target directory');
      assert.ok(existsSync(join(session.directory, 'out', 'ipbp', 'debug', 'deps', 'libshapes_plugin.so')), 'the cdylib member is built');
      assert.ok(existsSync(join(session.directory, 'out', 'ipbp', 'debug', 'deps', 'libshapes_plugin.a')), 'and its staticlib');
    });

    test('an edit of the custom-path bin is patched into the same process', async () => {
      const from = session.stdout.length;
      await session.edit('app/src/tools/service.rs', 'format!("service-word {tick}")', 'format!("service-edited {tick}")');
      const patched = await session.waitForEvent(isPatch(1));
      assert.deepEqual(patched.pids, [pid]);
      assert.deepEqual(patched.changed, ['service::word'], 'only the edited function: the replayed compile keeps --cfg shapes_flag');
      const { match } = await session.waitForLine(/^service-edited /, from);
      assert.equal(match.input!.match(SERVICE_LINE)?.[2], 'flag=on');
    });

    test('RUSTFLAGS from the environment: an edit of the cfg-reading function still sees the flag', async () => {
      const from = session.stdout.length;
      await session.edit('app/src/tools/service.rs', '{ "flag=on" }', '{ "flag=still_on" }');
      const patched = await session.waitForEvent(isPatch(2));
      assert.deepEqual(patched.pids, [pid]);
      assert.deepEqual(patched.changed, ['service::flag']);
      const { match } = await session.waitForLine(/flag=still_on/, from);
      assert.equal(match.input!.match(SERVICE_LINE)?.[2], 'flag=still_on');
    });

    test('an edit of the include_str! text file is patched: the string is data of the function that returns it', async () => {
      const from = session.stdout.length;
      const banner = join(session.directory, 'app', 'text', 'banner.txt');
      assert.equal(await readFile(banner, 'utf8'), 'banner one\n');
      await session.edit('app/text/banner.txt', 'banner one', 'banner two');
      const patched = await session.waitForEvent(isPatch(3));
      assert.deepEqual(patched.pids, [pid]);
      assert.deepEqual(patched.changed, ['service::banner']);
      const { match } = await session.waitForLine(/\| banner two \|/, from);
      assert.deepEqual(match.input!.match(SERVICE_LINE)?.slice(1, 4), ['service-edited', 'flag=still_on', 'banner two']);
    });

    test('an edit of the member built as cdylib, staticlib and rlib is patched into the app', async () => {
      const from = session.stdout.length;
      await session.edit('plugin/src/lib.rs', 'format!("plugin-word {}", tick % 10)', 'format!("plugin-word {}", tick % 10 + 500)');
      const patched = await session.waitForEvent(isPatch(4));
      assert.deepEqual(patched.pids, [pid]);
      assert.deepEqual(patched.changed, ['shapes_plugin::plugin_word']);
      const { match } = await session.waitForLine(/plugin-word 5\d\d$/, from);
      assert.equal(match.input!.match(SERVICE_LINE)?.[1], 'service-edited');
    });

    test('after a restart on a fresh build, the member with unhashed outputs is recorded and watched again', async () => {
      // Not patchable: the manifest changed. The new build must recompile the
      // cdylib member through ipbp's wrapper, though cargo finds it fresh.
      await session.edit('app/Cargo.toml', 'version = "0.1.0"', 'version = "0.1.1"');
      await session.waitForEvent((event) => event.event === 'restart');
      const restarted = (await session.waitForEvent((event) => event.event === 'ready' && event.pid !== pid, 180_000)).pid as number;
      await session.waitForStderr(/watching \d+ source files of 2 crates[\s\S]*watching \d+ source files of 2 crates/);
      const from = session.stdout.length;
      await session.edit('plugin/src/lib.rs', 'tick % 10 + 500)', 'tick % 10 + 700)');
      const patched = await session.waitForEvent((event) => event.event === 'patched' && (event.pids as number[]).includes(restarted));
      assert.deepEqual(patched.pids, [restarted]);
      assert.deepEqual(patched.changed, ['shapes_plugin::plugin_word']);
      await session.waitForLine(/plugin-word 7\d\d$/, from);
    });
  });

  describe('a bin with required-features, run with --features', () => {
    let session: IpbpRun;
    let pid: number;

    before(async () => {
      session = await IpbpRun.start('project-shapes', ['-p', 'shapes-app', '--bin', 'extra-tool', '--features', 'extra']);
      pid = await session.untilRunning(/^extra-word \d+$/);
    });
    after(async () => session?.remove());

    test('the bin starts and an edit of it is patched into the same process', async () => {
      const from = session.stdout.length;
      await session.edit('app/src/tools/extra.rs', 'format!("extra-word {tick}")', 'format!("extra-edited {tick}")');
      const patched = await session.waitForEvent(isPatch(1));
      assert.deepEqual(patched.pids, [pid]);
      assert.deepEqual(patched.changed, ['extra_tool::word']);
      await session.waitForLine(/^extra-edited \d+$/, from);
    });
  });
});

/** As `cargo run` does: several binaries and none chosen is an error that lists them, before anything is built. */
describe('a package with several binaries and no --bin (examples/project-shapes)', () => {
  test('ipbp run lists the binaries and builds nothing', async () => {
    const session = await IpbpRun.start('project-shapes', ['-p', 'shapes-app']);
    const code = await session.waitForExit();
    await session.remove();
    assert.notEqual(code, 0);
    assert.match(session.stderr, /`ipbp run` could not determine which binary to run: use the `--bin` option to choose one, or the `default-run` manifest key/);
    assert.match(session.stderr, /available binaries: extra-tool, service/);
    assert.doesNotMatch(session.stderr, /Compiling/);
  });
});
