import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
    for (const flag of ['--bin', '--release', '--no-default-features', '--all-features', '--locked', '--offline', '--jobs', '--config', '--events']) assert.match(result.stdout, new RegExp(flag));
  });

  test('a bad --jobs is refused with a message, before anything is built', () => {
    const result = ipbp('run', '-j', '0');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /--jobs takes a whole number other than 0/);
    assert.doesNotMatch(result.stderr, /building/);
  });
});
