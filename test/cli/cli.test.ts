import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPOSITORY } from '../support/repository.js';

/** The real CLI, as a shell runs it. */
function ipbp(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPOSITORY, 'bin/ipbp.js'), ...args], { cwd: REPOSITORY, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ipbp, the command line', () => {
  test('--version and -V print the package version, as cargo spells it', () => {
    const { version } = JSON.parse(readFileSync(join(REPOSITORY, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = ipbp(flag);
      assert.equal(result.status, 0);
      assert.equal(result.stdout.trim(), `ipbp ${version}`);
    }
  });

  test('`ipbp help run` describes run and its cargo flags', () => {
    const result = ipbp('help', 'run');
    assert.equal(result.status, 0);
    for (const flag of ['--bin', '--release', '--profile', '--target-dir', '--quiet', '--verbose', '--no-keys', '--no-default-features', '--all-features', '--locked', '--offline', '--jobs', '--config', '--events']) {
      assert.match(result.stdout, new RegExp(flag));
    }
  });

  test('`cargo ipbp` runs it as a cargo subcommand', () => {
    // As npm installs it: `cargo-ipbp` on the PATH, which cargo finds for `cargo ipbp`.
    const bin = mkdtempSync(join(tmpdir(), 'ipbp-cargo-subcommand-'));
    try {
      symlinkSync(join(REPOSITORY, 'bin', 'cargo-ipbp.js'), join(bin, 'cargo-ipbp'));
      const result = spawnSync('cargo', ['ipbp', '--version'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^ipbp \d+\.\d+\.\d+/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  test('a bad --jobs is refused with a message, before anything is built', () => {
    const result = ipbp('run', '-j', '0');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /--jobs takes a whole number other than 0/);
    assert.doesNotMatch(result.stderr, /building/);
  });

  test('flags that contradict each other are refused as cargo refuses them, before anything is built', () => {
    const profiles = ipbp('run', '--release', '--profile', 'dev');
    assert.equal(profiles.status, 1);
    assert.match(profiles.stderr, /^ipbp: error: conflicting usage of --profile=dev and --release\n/);
    const verbosity = ipbp('run', '-q', '-v');
    assert.equal(verbosity.status, 1);
    assert.match(verbosity.stderr, /^ipbp: error: cannot set both --verbose and --quiet\n$/);
  });

  test('a failed system call reads as what failed and what to do, not as a Node error', () => {
    const result = ipbp('diff', '/nonexistent/old.o', '/nonexistent/new.o');
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'ipbp: error: cannot read /nonexistent/old.o: no such file or directory\nhelp: check that the path exists\n');
  });
});
